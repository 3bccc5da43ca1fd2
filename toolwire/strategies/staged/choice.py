"""Which candidate the sentence means, by calibrated evidence: a conditional logistic model (a
softmax over the candidates) reads, for each candidate, what retrieval, the embedding model,
the sentence's words and the tool's schema say (:data:`FEATURES`), and, when that leaves the
choice open, the model's log-likelihood of each name (:data:`MODEL_FEATURE`).

    chooser = SelectionModel.shipped()
    p = chooser.probabilities(candidate_evidence(question, hits))
    if max(p) < chooser.confident:  # open: ask the model too
        p = chooser.probabilities(features, model_logp)

Two weight sets are fitted on BFCL's tuning split by ``bench/tune_selection.py --fit`` (never
on the reported questions) and ship beside this module as ``selection.json``: one without the
model's log-likelihood and one with it. ``confident`` is the probability at which the first
decides alone; it is chosen on the tuning split as the lowest at which asking the model would
not have changed the number of right choices.

The embedding similarity is one of the features, so the model needs the dense scores: with a
keyword-only index (NaN dense scores) selection falls back to the hand-set weights in
``select.py``.
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
from toolwire.strategies.staged.matching import (
    feasible,
    lexical_match,
    moments_feasible,
    name_share,
)
from toolwire.strategies.staged.rules import StagedRules
from toolwire.tools.registry import Tool

SHIPPED = Path(__file__).with_name("selection.json")

FEATURES: tuple[str, ...] = (
    "fused", "keyword", "dense", "first", "name_share", "enum_named", "feasible",
    "moments_feasible",
)
"""What the first model reads of each candidate, each in :func:`candidate_evidence`."""
MODEL_FEATURE = "model"
"""The model's log-probability of the candidate's name (a softmax over the candidates)."""
LOGP_FLOOR = -10.0
"""Log-probabilities are clipped here (a name the model never scored gets it)."""


def candidate_evidence(
    question: str, hits: Sequence[Hit[Tool]], rules: StagedRules | None = None
) -> list[dict[str, float]]:
    """The features of each candidate, in ``hits``' order:

    - ``fused``, ``keyword``, ``dense``: its retrieval scores (``dense`` is the sentence's
      closeness in meaning to the tool's name, description and parameters);
    - ``first``: 1 for the best-ranked candidate;
    - ``name_share``: the share of its name's words the sentence writes (0 with the
      ``literal_selection`` rule off);
    - ``enum_named``: 1 when the sentence names one of its enum values (0 with that rule off);
    - ``feasible``: 1 when the sentence writes enough numbers for its required numeric
      parameters (always 1 with the ``feasibility`` rule off);
    - ``moments_feasible``: 1 when the sentence writes the dates and times its required date
      and time parameters want (always 1 with the ``feasibility`` rule off).
    """
    rules = rules or StagedRules()
    best = max(range(len(hits)), key=lambda i: hits[i].score)
    out = []
    for i, hit in enumerate(hits):
        share = name_share(question, hit.tool) if rules.literal_selection else 0.0
        literal = lexical_match(question, hit.tool) if rules.literal_selection else 0.0
        out.append({
            "fused": hit.score,
            "keyword": hit.keyword_score,
            "dense": hit.dense_score,
            "first": float(i == best),
            "name_share": share,
            "enum_named": float(literal - share >= 1.0),
            "feasible": float(feasible(question, hit.tool)) if rules.feasibility else 1.0,
            "moments_feasible": (float(moments_feasible(question, hit.tool))
                                 if rules.feasibility else 1.0),
        })
    return out


def log_softmax(scores: Sequence[float], floor: float = -math.inf) -> list[float]:
    """Log-probabilities of ``scores`` (log-likelihoods or utilities), clipped at ``floor``."""
    top = max(scores)
    total = math.log(sum(math.exp(s - top) for s in scores))
    return [max(floor, s - top - total) for s in scores]


@dataclass(frozen=True, kw_only=True)
class SelectionModel:
    """Conditional logistic weights over :data:`FEATURES`, without and with the model's
    log-probability, and the probability at which the first decides alone."""

    weights: Mapping[str, float]
    model_weights: Mapping[str, float]
    confident: float
    fitted: Mapping[str, Any] = field(default_factory=dict)
    """How and on what it was fitted (questions, split, regularisation, the tuning table)."""

    @classmethod
    def load(cls, path: Path) -> SelectionModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            weights={name: float(data["weights"][name]) for name in FEATURES},
            model_weights={name: float(data["model_weights"][name])
                           for name in (*FEATURES, MODEL_FEATURE)},
            confident=float(data["confident"]),
            fitted=data.get("fitted") or {},
        )

    @classmethod
    def shipped(cls) -> SelectionModel:
        """The model fitted on BFCL's tuning split (``selection.json``)."""
        return _shipped()

    def probabilities(
        self, features: Sequence[Mapping[str, float]], model_logp: Sequence[float] | None = None
    ) -> list[float]:
        """Each candidate's probability of being the one meant: from the evidence alone, or
        with the model's log-probabilities of the names."""
        if model_logp is None:
            utility = [sum(w * f[n] for n, w in self.weights.items()) for f in features]
        else:
            utility = [
                sum(w * (lp if n == MODEL_FEATURE else f[n])
                    for n, w in self.model_weights.items())
                for f, lp in zip(features, model_logp, strict=True)
            ]
        return [math.exp(lp) for lp in log_softmax(utility)]

    def to_json(self) -> str:
        return json.dumps({"weights": dict(self.weights),
                           "model_weights": dict(self.model_weights),
                           "confident": self.confident, "fitted": dict(self.fitted)}, indent=2)


@cache
def _shipped() -> SelectionModel:
    return SelectionModel.load(SHIPPED)
