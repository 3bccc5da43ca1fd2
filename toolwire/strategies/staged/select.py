"""Which function: the best candidate by calibrated evidence (retrieval, embedding, literal
match, feasibility; ``choice.py``), and by the model's log-likelihood of each name when that
leaves it open. Without embedding scores (keyword-only retrieval), or with the
``calibrated_selection`` rule off, hand-set weights combine the same evidence."""

from __future__ import annotations

import math
from collections.abc import Sequence

from toolwire.messages import Message
from toolwire.models.base import Model
from toolwire.retrieval.index import Hit
from toolwire.strategies.staged.choice import (
    LOGP_FLOOR,
    SelectionModel,
    candidate_evidence,
    log_softmax,
)
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
    hits: Sequence[Hit[Tool]],
    history: list[Message] | None = None,
    rules: StagedRules | None = None,
) -> tuple[Tool, dict[str, float]]:
    """The candidate the sentence most likely means, and the weights of all."""
    rules = rules or StagedRules()
    candidates = [h.tool for h in hits]
    if len(candidates) == 1:
        return candidates[0], {candidates[0].name: 1.0}
    if calibrated(hits, rules):
        return await _calibrated(model, question, hits, history or [], rules)
    return await _hand_weighted(model, question, hits, history or [], rules)


def calibrated(hits: Sequence[Hit[Tool]], rules: StagedRules) -> bool:
    """Whether the fitted model chooses among ``hits`` (the ``calibrated_selection`` rule on,
    embedding scores present), so that :func:`select`'s weights are probabilities."""
    return rules.calibrated_selection and not any(math.isnan(h.dense_score) for h in hits)


async def _calibrated(
    model: Model,
    question: str,
    hits: Sequence[Hit[Tool]],
    history: list[Message],
    rules: StagedRules,
) -> tuple[Tool, dict[str, float]]:
    """The fitted model's choice: from the evidence alone when it is confident, else with the
    model's log-probability of each name."""
    chooser = SelectionModel.shipped()
    features = candidate_evidence(question, hits, rules)
    p = chooser.probabilities(features)
    if max(p) < chooser.confident:
        raw = await _name_scores(model, question, [h.tool for h in hits], history)
        scores = [raw.get(h.tool.name, -math.inf) for h in hits]
        if max(scores) > -math.inf:
            p = chooser.probabilities(features, log_softmax(scores, floor=LOGP_FLOOR))
    weights = {h.tool.name: pi for h, pi in zip(hits, p, strict=True)}
    best = max(range(len(hits)), key=lambda i: p[i])
    return hits[best].tool, weights


async def _hand_weighted(
    model: Model,
    question: str,
    hits: Sequence[Hit[Tool]],
    history: list[Message],
    rules: StagedRules,
) -> tuple[Tool, dict[str, float]]:
    """The best candidate by retrieval and literal match, and by the model when those leave
    it open (the runner-up within ``DECISIVE_MARGIN``)."""
    lexical = LEXICAL_WEIGHT if rules.literal_selection else 0.0
    infeasible = INFEASIBLE_PENALTY if rules.feasibility else 0.0
    candidates = [h.tool for h in hits]
    p_retrieval = _softmax({h.tool.name: RETRIEVAL_SHARPNESS * h.score for h in hits})
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
    p_model = _softmax(await _name_scores(model, question, candidates, history))
    combined = {t.name: evidence[t.name] + w * p_model.get(t.name, 0.0) for t in candidates}
    best = max(candidates, key=lambda t: combined[t.name])
    return best, combined


async def _name_scores(
    model: Model, question: str, candidates: list[Tool], history: list[Message]
) -> dict[str, float]:
    """The model's log-likelihood of each candidate's name after the selection prompt."""
    messages = messages_for(
        selection_prompt(candidates), question, history, CALL_OPEN + '{"name": "'
    )
    raw = await choose(model, messages, [t.name + '"' for t in candidates])
    return {k[:-1]: v for k, v in raw.items()}
