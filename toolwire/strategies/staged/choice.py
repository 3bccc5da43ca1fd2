"""Which candidate the sentence means, by calibrated evidence: a conditional logistic model (a
softmax over the candidates) reads, for each candidate, what retrieval, the embedding model,
the sentence's words and the tool's schema say (:data:`FEATURES`).

    chooser = SelectionModel.shipped()
    p = chooser.probabilities(candidate_evidence(reading, hits))

The weights are fitted on BFCL's tuning split by ``bench/tune_selection.py --fit`` (never on
the reported questions) and ship beside this module as ``selection.json``.

A keyword-only index has no embedding scores: ``dense`` is then 0 for every candidate, and as
a softmax over candidates reads only the differences between them, the feature drops out and
the rest of the evidence decides.
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
from toolwire.strategies.staged.rules import RULES, StagedRules
from toolwire.text.reading import Reading
from toolwire.tools.registry import Tool

SHIPPED = Path(__file__).with_name("selection.json")

CORE_FEATURES: tuple[str, ...] = ("fused", "keyword", "dense", "first")
"""What retrieval says of each candidate, whatever the rules."""

FEATURES: tuple[str, ...] = CORE_FEATURES + tuple(
    name for r in RULES for name in r.neutral
)
"""What the model reads of each candidate: retrieval's scores, then each SELECT rule's
features (``rules/select.py``), in the table's order."""


def candidate_evidence(
    reading: Reading, hits: Sequence[Hit[Tool]], rules: StagedRules | None = None
) -> list[dict[str, float]]:
    """The features of each candidate, in ``hits``' order:

    - ``fused``, ``keyword``, ``dense``: its retrieval scores (``dense`` is the sentence's
      closeness in meaning to the tool's name, description and parameters; 0 without
      embedding scores);
    - ``first``: 1 for the best-ranked candidate;
    - each SELECT rule's features (``name_share`` and ``enum_named`` of
      ``literal_selection``; ``feasible`` and ``moments_feasible`` of ``feasibility``), or
      their ``neutral`` values with the rule off.
    """
    rules = rules or StagedRules()
    active = {r.name for r in rules.active()}
    best = max(range(len(hits)), key=lambda i: hits[i].score)
    out = []
    for i, hit in enumerate(hits):
        features = {
            "fused": hit.score,
            "keyword": hit.keyword_score,
            "dense": 0.0 if math.isnan(hit.dense_score) else hit.dense_score,
            "first": float(i == best),
        }
        for rule in RULES:
            if rule.neutral:
                on = rule.name in active
                features.update(rule.feature_values(reading, hit.tool) if on else rule.neutral)
        out.append(features)
    return out


def log_softmax(scores: Sequence[float], floor: float = -math.inf) -> list[float]:
    """Log-probabilities of ``scores`` (log-likelihoods or utilities), clipped at ``floor``."""
    top = max(scores)
    total = math.log(sum(math.exp(s - top) for s in scores))
    return [max(floor, s - top - total) for s in scores]


@dataclass(frozen=True, kw_only=True)
class SelectionModel:
    """Conditional logistic weights over :data:`FEATURES`."""

    weights: Mapping[str, float]
    fitted: Mapping[str, Any] = field(default_factory=dict)
    """How and on what it was fitted (questions, split, regularisation, the tuning table)."""

    @classmethod
    def load(cls, path: Path) -> SelectionModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        # a feature the fit predates (a new SELECT rule's) weighs nothing until refitted
        return cls(weights={name: float(data["weights"].get(name, 0.0)) for name in FEATURES},
                   fitted=data.get("fitted") or {})

    @classmethod
    def shipped(cls) -> SelectionModel:
        """The model fitted on BFCL's tuning split (``selection.json``)."""
        return _shipped()

    def probabilities(self, features: Sequence[Mapping[str, float]]) -> list[float]:
        """Each candidate's probability of being the one meant."""
        utility = [sum(w * f[n] for n, w in self.weights.items()) for f in features]
        return [math.exp(lp) for lp in log_softmax(utility)]

    def to_json(self) -> str:
        return json.dumps({"weights": dict(self.weights), "fitted": dict(self.fitted)}, indent=2)


@cache
def _shipped() -> SelectionModel:
    return SelectionModel.load(SHIPPED)
