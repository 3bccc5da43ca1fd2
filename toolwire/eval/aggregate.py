"""BFCL's own summary figures, weighted as the pinned bfcl-eval weights its leaderboard.

bfcl-eval builds its leaderboard in ``eval_checker/eval_runner_helper.py``
(``generate_leaderboard_csv``). That module imports pandas, which the lean install leaves out,
so its three averaging rules are written again here; ``tests/unit/test_eval_aggregate.py``
runs the package's own function on a made-up score table and compares every figure.

- **non-live**: the plain mean of simple (itself the mean of Python, Java and JavaScript
  simple), multiple, parallel and parallel multiple. Irrelevance is not part of it.
- **live**: live simple, multiple, parallel and parallel multiple, each weighted by its number
  of questions. Live irrelevance and relevance are not part of it.
- **irrelevance**: the plain mean of irrelevance and live irrelevance.
- **multi-turn**: the plain mean of its four categories; **agentic**: the plain mean of web
  search (two categories) and memory (three).
- **overall**: 10 % non-live, 10 % live, 10 % irrelevance, 30 % multi-turn, 40 % agentic.

A category that was not scored counts 0, as in bfcl-eval (which prints "N/A" beside a summary
missing one, yet counts it 0 in these figures); each figure names the categories it counted 0.
Weights by number of questions use each category's size in the whole dataset (the count
bfcl-eval has when it scores every question), so a sample or a split estimates the same figure.

    figures = bfcl_figures({"live_simple": 0.28, "live_multiple": 0.27}, sizes)
    figures.live.accuracy, figures.live.not_scored
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SIMPLE: tuple[str, ...] = ("simple_python", "simple_java", "simple_javascript")
NON_LIVE_AST: tuple[str, ...] = ("multiple", "parallel", "parallel_multiple")
LIVE_AST: tuple[str, ...] = (
    "live_simple",
    "live_multiple",
    "live_parallel",
    "live_parallel_multiple",
)
IRRELEVANCE: tuple[str, ...] = ("irrelevance", "live_irrelevance")
MULTI_TURN: tuple[str, ...] = (
    "multi_turn_base",
    "multi_turn_miss_func",
    "multi_turn_miss_param",
    "multi_turn_long_context",
)
WEB_SEARCH: tuple[str, ...] = ("web_search_base", "web_search_no_snippet")
MEMORY: tuple[str, ...] = ("memory_kv", "memory_vector", "memory_rec_sum")

#: The categories each summary figure takes (the overall one takes them all).
GROUPS: dict[str, tuple[str, ...]] = {
    "non_live": SIMPLE + NON_LIVE_AST,
    "live": LIVE_AST,
    "irrelevance": IRRELEVANCE,
    "multi_turn": MULTI_TURN,
    "agentic": WEB_SEARCH + MEMORY,
}

#: The overall figure's weights, in bfcl-eval's order (non-live, live, irrelevance,
#: multi-turn, agentic).
OVERALL_WEIGHTS: tuple[int, ...] = (10, 10, 10, 30, 40)


@dataclass(frozen=True, kw_only=True)
class Figure:
    """One of BFCL's summary figures."""

    accuracy: float
    """0-1, categories not scored counted 0."""
    not_scored: tuple[str, ...] = ()
    """The categories it takes that were not scored (each counted 0)."""

    def to_json(self) -> dict[str, Any]:
        """``{"accuracy", "not_scored"}``, the accuracy to six places (so a figure shown to a
        tenth of a point is not rounded twice)."""
        return {"accuracy": round(self.accuracy, 6), "not_scored": list(self.not_scored)}


@dataclass(frozen=True, kw_only=True)
class BfclFigures:
    """The summary figures of bfcl-eval's leaderboard for one set of category scores."""

    overall: Figure
    non_live: Figure
    live: Figure
    irrelevance: Figure
    multi_turn: Figure
    agentic: Figure

    def to_json(self) -> dict[str, dict[str, Any]]:
        """Each figure by name (``overall``, ``non_live``, ``live``...) as :meth:`Figure.to_json`."""
        return {
            "overall": self.overall.to_json(),
            "non_live": self.non_live.to_json(),
            "live": self.live.to_json(),
            "irrelevance": self.irrelevance.to_json(),
            "multi_turn": self.multi_turn.to_json(),
            "agentic": self.agentic.to_json(),
        }


def bfcl_figures(scores: Mapping[str, float], sizes: Mapping[str, int]) -> BfclFigures:
    """BFCL's summary figures of ``scores`` (accuracy 0-1 per category scored).

    ``sizes`` gives the questions of each live AST category in the whole dataset (the weights
    of the live figure); a :class:`KeyError` names one that is missing.
    """

    def one(category: str) -> Figure:
        if category in scores:
            return Figure(accuracy=scores[category])
        return Figure(accuracy=0.0, not_scored=(category,))

    non_live = mean([mean([one(c) for c in SIMPLE]), *(one(c) for c in NON_LIVE_AST)])
    live = weighted([(one(c), sizes[c]) for c in LIVE_AST])
    irrelevance = mean([one(c) for c in IRRELEVANCE])
    multi_turn = mean([one(c) for c in MULTI_TURN])
    agentic = mean([mean([one(c) for c in WEB_SEARCH]), mean([one(c) for c in MEMORY])])
    parts = (non_live, live, irrelevance, multi_turn, agentic)
    return BfclFigures(
        overall=percentage_weighted(list(zip(parts, OVERALL_WEIGHTS, strict=True))),
        non_live=non_live,
        live=live,
        irrelevance=irrelevance,
        multi_turn=multi_turn,
        agentic=agentic,
    )


def mean(parts: list[Figure]) -> Figure:
    """The plain mean (bfcl-eval's ``calculate_unweighted_accuracy``)."""
    return Figure(
        accuracy=sum(p.accuracy for p in parts) / len(parts), not_scored=_not_scored(parts)
    )


def weighted(parts: list[tuple[Figure, int]]) -> Figure:
    """The mean weighted by question counts (bfcl-eval's ``calculate_weighted_accuracy``)."""
    total = sum(count for _, count in parts)
    return Figure(
        accuracy=sum(p.accuracy * count for p, count in parts) / total,
        not_scored=_not_scored([p for p, _ in parts]),
    )


def percentage_weighted(parts: list[tuple[Figure, int]]) -> Figure:
    """The mean with fixed weights, normalised to sum to 1 (bfcl-eval's
    ``calculate_percentage_weighted_accuracy``)."""
    total = sum(weight for _, weight in parts)
    return Figure(
        accuracy=sum(p.accuracy * (weight / total) for p, weight in parts),
        not_scored=_not_scored([p for p, _ in parts]),
    )


def _not_scored(parts: list[Figure]) -> tuple[str, ...]:
    return tuple(c for p in parts for c in p.not_scored)
