"""The relevance decision by calibrated evidence: how likely is it that the sentence wants one
of the candidates at all?

A small logistic model combines what retrieval, the sentence's words and the candidates'
schemas say (:data:`FEATURES`); its weights, bias and decision threshold are fitted on BFCL's
tuning split by ``bench/tune_relevance.py --fit`` (never on the reported questions) and ship
beside this module as ``relevance.json``. The threshold is the highest probability at which no
relevant category of the tuning split loses more than ``max_loss_points`` to the gate
(questions the engine answers right with the gate off, turned away with it on).

    model = RelevanceModel.shipped()
    model.probability(evidence(reading, hits)) >= model.threshold

The embedding similarity is one of the features, and unlike selection (which compares
candidates with one another, so a score missing for all drops out) the decision reads its
level: the model needs the dense scores. A keyword-only index (NaN dense scores: an index made
without an embedder, as tests and the keyword benches make) is judged by the two fixed
thresholds of ``EngineConfig`` instead (``StagedStrategy.gate``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from toolwire.retrieval.index import Hit
from toolwire.strategies.staged.matching import feasible, lexical_match, name_share
from toolwire.text.reading import Reading
from toolwire.tools.registry import Tool

SHIPPED = Path(__file__).with_name("relevance.json")

FEATURES: tuple[str, ...] = (
    "best", "keyword", "dense", "literal", "named_best", "name_share",
    "feasible_any", "feasible_best", "words", "numbers",
)
"""What the model reads, each in :func:`evidence`."""

MAX_NUMBERS = 5
"""Numbers written in the sentence count up to this many (beyond it, more says nothing new)."""
NOT_NAMED = -1.0
"""``named_best`` when the sentence names no candidate (below any fused score)."""


def evidence(reading: Reading, hits: Sequence[Hit[Tool]]) -> dict[str, float]:
    """The features of a sentence and its retrieved candidates (``hits`` must not be empty):

    - ``best``, ``keyword``, ``dense``: the best fused, keyword and embedding score of any
      candidate (the embedding's is the sentence's closeness in meaning to a tool's text);
    - ``literal``: the strongest literal match (name words, or an enum value written);
    - ``named_best``: the best fused score among candidates the sentence names;
    - ``name_share``: the largest share of a candidate's name words the sentence writes;
    - ``feasible_any``, ``feasible_best``: whether some candidate, and the best one, can take
      its required numbers from the sentence (1 or 0);
    - ``words``: log(1 + words in the sentence); ``numbers``: numbers written (capped).
    """
    best = max(hits, key=lambda h: h.score)
    literal = [lexical_match(reading, h.tool) for h in hits]
    named = [h.score for h, m in zip(hits, literal, strict=True) if m >= 1.0]
    return {
        "best": best.score,
        "keyword": max(h.keyword_score for h in hits),
        "dense": max(h.dense_score for h in hits),
        "literal": max(literal),
        "named_best": max(named, default=NOT_NAMED),
        "name_share": max(name_share(reading, h.tool) for h in hits),
        "feasible_any": float(any(feasible(reading, h.tool) for h in hits)),
        "feasible_best": float(feasible(reading, best.tool)),
        "words": math.log1p(len(reading.text.split())),
        "numbers": float(min(len(reading.numbers), MAX_NUMBERS)),
    }


@dataclass(frozen=True, kw_only=True)
class RelevanceModel:
    """Logistic weights over :data:`FEATURES` and the probability a call needs."""

    weights: Mapping[str, float]
    bias: float
    threshold: float
    fitted: Mapping[str, Any] = field(default_factory=dict)
    """How and on what it was fitted (questions, split, regularisation, the tuning table)."""

    @classmethod
    def load(cls, path: Path) -> RelevanceModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        weights = {name: float(data["weights"][name]) for name in FEATURES}
        return cls(weights=weights, bias=float(data["bias"]),
                   threshold=float(data["threshold"]), fitted=data.get("fitted") or {})

    @classmethod
    def shipped(cls) -> RelevanceModel:
        """The model fitted on BFCL's tuning split (``relevance.json``)."""
        return _shipped()

    def probability(self, features: Mapping[str, float]) -> float:
        z = self.bias + sum(w * features[name] for name, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0

    def judge(self, reading: Reading, hits: Sequence[Hit[Tool]]) -> float | None:
        """The probability that the sentence wants a call; None when the evidence lacks the
        embedding scores (keyword-only retrieval) and the model cannot judge."""
        if any(math.isnan(h.dense_score) for h in hits):
            return None
        return self.probability(evidence(reading, hits))

    def relevant(self, reading: Reading, hits: Sequence[Hit[Tool]]) -> bool | None:
        """Whether the sentence wants a call; None where :meth:`judge` cannot judge."""
        p = self.judge(reading, hits)
        return None if p is None else p >= self.threshold

    def to_json(self) -> str:
        return json.dumps({"weights": dict(self.weights), "bias": self.bias,
                           "threshold": self.threshold, "fitted": dict(self.fitted)}, indent=2)


@cache
def _shipped() -> RelevanceModel:
    return RelevanceModel.load(SHIPPED)
