"""Which function: the best candidate by retrieval, literal match and feasibility, and by the
model's log-likelihood of each name when those leave it open."""

from __future__ import annotations

import math

from toolwire.messages import Message
from toolwire.models.base import Model
from toolwire.strategies.staged.matching import feasible, lexical_match
from toolwire.strategies.staged.prompts import CALL_OPEN, choose, messages_for, selection_prompt
from toolwire.strategies.staged.rules import StagedRules
from toolwire.tools.registry import Tool

MODEL_WEIGHT = 0.5
"""Share of the model's choice in the combined evidence (the retrieval softmax gets the rest)."""
LEXICAL_WEIGHT = 0.5
"""Weight of a literal match (the tool's name words or an enum value written in the sentence)."""
DECISIVE_MARGIN = 0.5
"""Evidence ahead of the runner-up by this much decides without asking the model."""
INFEASIBLE_PENALTY = 1.0
"""Taken from a tool whose required numbers the sentence cannot supply (the ``feasibility``
rule): more than any other evidence can make up, so it only wins when every tool is
infeasible."""
RETRIEVAL_SHARPNESS = 8.0
"""Retrieval scores are multiplied by this before the softmax (they span about 0 to 1)."""


def _softmax(scores: dict[str, float]) -> dict[str, float]:
    top = max(scores.values())
    exp = {k: math.exp(v - top) for k, v in scores.items()}
    total = sum(exp.values())
    return {k: v / total for k, v in exp.items()}


async def select(
    model: Model,
    question: str,
    candidates: list[Tool],
    retrieval_scores: list[float],
    history: list[Message] | None = None,
    rules: StagedRules | None = None,
) -> tuple[Tool, dict[str, float]]:
    """The best candidate by retrieval and literal match, and by the model when those leave
    it open (the runner-up within ``DECISIVE_MARGIN``); and the weights of all."""
    rules = rules or StagedRules()
    lexical = LEXICAL_WEIGHT if rules.literal_selection else 0.0
    infeasible = INFEASIBLE_PENALTY if rules.feasibility else 0.0
    if len(candidates) == 1:
        return candidates[0], {candidates[0].name: 1.0}
    p_retrieval = _softmax(
        {t.name: RETRIEVAL_SHARPNESS * s for t, s in zip(candidates, retrieval_scores, strict=True)}
    )
    w = MODEL_WEIGHT
    evidence = {
        t.name: (1 - w) * p_retrieval[t.name]
        + lexical * lexical_match(question, t)
        - (0.0 if feasible(question, t) else infeasible)
        for t in candidates
    }
    first, second = sorted(evidence.values(), reverse=True)[:2]
    if first - second >= DECISIVE_MARGIN:
        best = max(candidates, key=lambda t: evidence[t.name])
        return best, evidence
    messages = messages_for(
        selection_prompt(candidates), question, history or [], CALL_OPEN + '{"name": "'
    )
    raw = await choose(model, messages, [t.name + '"' for t in candidates])
    p_model = _softmax({k[:-1]: v for k, v in raw.items()})
    combined = {t.name: evidence[t.name] + w * p_model.get(t.name, 0.0) for t in candidates}
    best = max(candidates, key=lambda t: combined[t.name])
    return best, combined
