"""Which function: the candidate the fitted selection model (``choice.py``) finds likeliest,
from each candidate's calibrated evidence (retrieval and embedding scores, literal match,
feasibility). One mechanism decides everywhere: with a keyword-only index the embedding
score is missing for every candidate alike, and a conditional logit reads only the
differences between candidates, so the same weights choose by the rest of the evidence."""

from __future__ import annotations

from collections.abc import Sequence

from toolwire.retrieval.index import Hit
from toolwire.strategies.staged.choice import SelectionModel, candidate_evidence
from toolwire.strategies.staged.rules import StagedRules
from toolwire.text.reading import Reading
from toolwire.tools.registry import Tool


def select(
    reading: Reading, hits: Sequence[Hit[Tool]], rules: StagedRules | None = None
) -> tuple[Tool, dict[str, float]]:
    """The candidate the sentence most likely means, and each candidate's probability of
    being the one meant (1 for a lone candidate)."""
    if len(hits) == 1:
        return hits[0].tool, {hits[0].tool.name: 1.0}
    p = SelectionModel.shipped().probabilities(candidate_evidence(reading, hits, rules))
    weights = {h.tool.name: pi for h, pi in zip(hits, p, strict=True)}
    best = max(range(len(hits)), key=lambda i: p[i])
    return hits[best].tool, weights
