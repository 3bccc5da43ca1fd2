"""The BFCL accuracy harness: BFCL questions through toolwire's engine, scored by bfcl-eval.

Each question's functions are registered as schema-only tools in a fresh registry and the
question goes through the same engine the service uses. ``run.calls`` become the checker's
model-output format (``[{name: {arg: value}}]``) and bfcl-eval's own ``ast_checker`` scores
them (see ``checker.py``); for irrelevance, no call is the right answer.

Results are appended, one JSON line per question, to a result store (``results.py``: by
default ``<home>/eval/bfcl/``, or a directory in the repository such as ``docs/eval/bfcl``),
so a stopped run continues where it stopped, on this machine or another. A run may answer one
shard of its questions (``Shard``). Everything is deterministic: seeded samples, temperature 0.

    bench = await benchmark(["simple_python"], model=model, model_name="local:smollm2-135m",
                            limit=20, store=ResultStore(Path("docs/eval/bfcl")),
                            shard=Shard.parse("1/2"))
    bench.main.scores["simple_python"].accuracy
"""

from __future__ import annotations

import random
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from typing import Any, cast, get_args

from toolwire.config import get_settings
from toolwire.engine import Engine
from toolwire.eval import checker
from toolwire.eval.aggregate import GROUPS, LIVE_AST, OVERALL_WEIGHTS, bfcl_figures
from toolwire.eval.bfcl_data import bfcl_to_json_schema
from toolwire.eval.results import (
    CaseResult,
    EvalError,
    Question,
    ResultStore,
    Shard,
    code_fingerprint,
    git_commit,
    in_tuning_split,
    pick,
)
from toolwire.messages import Message, Role
from toolwire.models.base import Model
from toolwire.pipeline import EngineConfig
from toolwire.retrieval.index import ToolIndex
from toolwire.run import CallResult, Run
from toolwire.strategies import StrategyName
from toolwire.tools.registry import Registry, Tool

#: The categories a default run measures (BFCL v3/v4 single-turn, Python).
CATEGORIES: tuple[str, ...] = (
    "simple_python",
    "multiple",
    "parallel",
    "parallel_multiple",
    "irrelevance",
    "live_simple",
    "live_multiple",
    "live_parallel",
    "live_parallel_multiple",
    "live_irrelevance",
)
#: Also available on request: a call (any call) is the right answer.
EXTRA_CATEGORIES: tuple[str, ...] = ("live_relevance",)
ALL_CATEGORIES: tuple[str, ...] = CATEGORIES + EXTRA_CATEGORIES

#: Makes the search index of each question's registry; ``None`` is production's default
#: (hybrid BM25 + embeddings). Tests pass a keyword-only index to stay offline and fast.
IndexFactory = Callable[[], ToolIndex[Tool]]

_ROLES: frozenset[str] = frozenset({"system", "user", "assistant", "tool"})


@dataclass(kw_only=True)
class Case:
    """One BFCL question with what it takes to answer and score it."""

    id: str
    category: str
    messages: list[dict[str, str]]
    """The question's single turn: ``{"role", "content"}`` messages, the user's last."""
    functions: list[dict[str, Any]]
    """The functions on offer, in BFCL's own schema dialect (``dict``, ``float``...)."""
    ground_truth: list[dict[str, Any]] | None = None
    """Possible answers (``[{name: {arg: [allowed values]}}]``); ``None`` for (ir)relevance."""


@dataclass(kw_only=True)
class CategoryScore:
    """A category's figures for one strategy."""

    category: str
    n: int
    correct: int
    p50_ms: float
    error_types: dict[str, int] = field(default_factory=dict)
    gated: int = 0
    """Questions the relevance gate turned away (no call tried)."""
    lost_to_gate: int = 0
    """Of those, questions that needed a call and would have been right without the gate."""
    selected: int = 0
    """Questions the run chose (split, sample, shard); ``n`` of them have a result. Equal to
    ``n`` when the run answers; a summary of stored results may cover fewer."""
    stale: int = 0
    """Of the ``n`` results, those made by other engine code (reused with ``--keep-stale``)."""
    stale_unused: int = 0
    """Questions whose only stored results were stale and were not used: answered again by a
    run, left out of a summary."""

    @property
    def accuracy(self) -> float:
        """Fraction correct, 0-1 (0 for an empty category)."""
        return self.correct / self.n if self.n else 0.0

    @property
    def lost_to_gate_points(self) -> float:
        """The points of the category the gate cost (0 for an empty category)."""
        return 100 * self.lost_to_gate / self.n if self.n else 0.0


# -- data -----------------------------------------------------------------------------------


def check_categories(categories: Iterable[str]) -> list[str]:
    """The categories, deduplicated in order; an unknown one is a clear error."""
    chosen: list[str] = []
    for name in categories:
        if name not in ALL_CATEGORIES:
            known = ", ".join(ALL_CATEGORIES)
            raise EvalError(f"unknown BFCL category {name!r}; choose from: {known}")
        if name not in chosen:
            chosen.append(name)
    return chosen


SPLITS = ("report", "tune", "all")


def in_split(case_id: str, split: str) -> bool:
    """Whether a question belongs to ``split``: ``tune`` holds a fixed fifth of every category
    (by a hash of the id) on which engine thresholds may be tuned; ``report`` is the rest, on
    which figures are published; ``all`` is both."""
    if split not in SPLITS:
        raise EvalError(f"unknown split {split!r}: use one of {', '.join(SPLITS)}")
    return split == "all" or in_tuning_split(case_id) == (split == "tune")


def load_cases(
    category: str, *, limit: int | None = None, seed: int = 0, split: str = "all"
) -> list[Case]:
    """The category's questions in ``split``; with ``limit``, a seeded sample in dataset order."""
    check_categories([category])
    answers = checker.load_ground_truth(category)
    relevance = checker.is_relevance_category(category)
    cases: list[Case] = []
    for entry in checker.load_entries(category):
        if not relevance and entry["id"] not in answers:
            raise EvalError(f"{category}: question {entry['id']} has no ground truth")
        cases.append(
            Case(
                id=entry["id"],
                category=category,
                messages=_single_turn(entry),
                functions=entry["function"],
                ground_truth=None if relevance else answers[entry["id"]],
            )
        )
    cases = [c for c in cases if in_split(c.id, split)]
    return sample(cases, limit=limit, seed=seed, salt=category)


def sample(cases: list[Case], *, limit: int | None, seed: int, salt: str = "") -> list[Case]:
    """A deterministic sample of ``limit`` cases (all when ``limit`` is None or larger)."""
    if limit is None or limit >= len(cases):
        return list(cases)
    if limit < 0:
        raise EvalError("--limit must be zero or more")
    picked = set(random.Random(f"{seed}:{salt}").sample(range(len(cases)), limit))
    return [c for i, c in enumerate(cases) if i in picked]


def _single_turn(entry: dict[str, Any]) -> list[dict[str, str]]:
    question = entry.get("question")
    if not isinstance(question, list) or len(question) != 1 or not question[0]:
        raise EvalError(f"{entry.get('id')}: expected a single-turn question")
    return cast(list[dict[str, str]], question[0])


def split_question(messages: list[dict[str, str]]) -> tuple[str, list[Message]]:
    """The last user message as the prompt; the messages before it as history."""
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    if last_user < 0:
        raise EvalError("a BFCL question needs a user message")
    history: list[Message] = []
    for m in messages[:last_user]:
        role = m.get("role", "")
        if role not in _ROLES:
            raise EvalError(f"unknown message role {role!r}")
        history.append(Message(role=cast(Role, role), content=str(m.get("content", ""))))
    return str(messages[last_user].get("content", "")), history


def build_registry(
    functions: list[dict[str, Any]], *, make_index: IndexFactory | None = None
) -> Registry:
    """A fresh registry holding the question's functions as schema-only tools."""
    registry = Registry()
    for fn in functions:
        registry.add_schema(
            {
                "name": fn["name"],
                "description": fn.get("description", ""),
                "parameters": bfcl_to_json_schema(fn.get("parameters") or {}),
            }
        )
    if make_index is not None:
        registry.use_index(make_index())
    return registry


#: Call statuses that mean the call was made (the same rule as the OpenAI-compatible endpoint).
MADE: frozenset[str] = frozenset({"ok", "not_executable"})


def to_checker_calls(calls: Iterable[CallResult]) -> list[dict[str, Any]]:
    """``run.calls`` in the checker's model-output format: ``[{name: {arg: value}}]``."""
    return [{call.name: dict(call.arguments)} for call in calls]


STRATEGIES: tuple[str, ...] = get_args(StrategyName)


def check_strategy(strategy: str) -> str:
    """``strategy`` if the engine knows it; else a clear error."""
    if strategy not in STRATEGIES:
        raise EvalError(f"unknown strategy {strategy!r}; choose from: {', '.join(STRATEGIES)}")
    return strategy


def engine_config(strategy: str) -> EngineConfig:
    """Production settings for ``strategy``, proposing calls only (nothing to execute/describe)."""
    settings = get_settings()
    return EngineConfig(
        strategy=cast(StrategyName, strategy),
        k=settings.retrieval_k,
        max_attempts=settings.max_attempts,
        execute=False,
        describe=False,
    )


# -- running --------------------------------------------------------------------------------


async def answer_case(
    case: Case,
    *,
    model: Model,
    model_name: str,
    strategy: str,
    make_index: IndexFactory | None = None,
    config: EngineConfig | None = None,
) -> CaseResult:
    """Run one question through the engine and score the calls it made.

    ``config`` overrides production's settings for ``strategy`` (tuning scripts use it).
    """
    prompt, history = split_question(case.messages)
    result = CaseResult(
        id=case.id,
        category=case.category,
        model=model_name,
        strategy=strategy,
        valid=False,
        prompt=prompt,
        expected=case.ground_truth,
    )
    registry = build_registry(case.functions, make_index=make_index)
    engine = Engine(registry, model=model, config=config or engine_config(strategy))
    started = time.perf_counter()
    try:
        run = await engine.arun(prompt, history=history)
    except Exception as e:  # a crash on one question is recorded, not fatal to the run
        result.error_type, result.errors = f"engine:{type(e).__name__}", [str(e)]
        return result
    finally:
        result.latency_ms = (time.perf_counter() - started) * 1000
    _score(result, case, run)
    result.gated = run.gated
    if run.gated and case.ground_truth is not None:  # what did the gate cost here?
        ungated = replace(
            engine.config, rules=replace(engine.config.rules, relevance_gate=False)
        )
        try:
            again = await Engine(registry, model=model, config=ungated).arun(
                prompt, history=history
            )
        except Exception:  # unknown, then; the gated answer stands
            return result
        counterfactual = CaseResult(**{**asdict(result), "valid": False})
        _score(counterfactual, case, again)
        result.ungated_valid = counterfactual.valid
    return result


def _score(result: CaseResult, case: Case, run: Run) -> None:
    """Fill ``result`` with the calls of ``run`` and the checker's verdict on them."""
    result.timings_ms = {k: round(v, 1) for k, v in run.timings_ms.items()}
    result.got = to_checker_calls(c for c in run.calls if c.status in MADE)
    result.rejected = to_checker_calls(c for c in run.calls if c.status not in MADE)
    verdict = checker.check(
        category=case.category,
        functions=case.functions,
        calls=result.got,
        ground_truth=case.ground_truth,
    )
    result.valid, result.error_type, result.errors = (
        verdict.valid,
        verdict.error_type,
        verdict.errors,
    )


async def run_cases(
    cases: list[Case],
    *,
    model: Model | None,
    model_name: str,
    strategy: str,
    store: ResultStore,
    done: Mapping[Question, CaseResult] | None = None,
    fingerprint: str = "",
    commit: str = "",
    shard: Shard | None = None,
    on_result: Callable[[CaseResult], None] | None = None,
    make_index: IndexFactory | None = None,
) -> list[CaseResult]:
    """Answer ``cases`` one at a time; a question in ``done`` (by category and id) is taken
    from there instead.

    Each new result is stamped with ``fingerprint`` and ``commit`` and appended to ``store``
    (to the file of ``shard``). With ``model`` None nothing is answered: only the questions in
    ``done`` have a result.
    """
    done = done or {}
    results: list[CaseResult] = []
    for case in cases:
        result = done.get((case.category, case.id))
        if result is None:
            if model is None:
                continue
            result = await answer_case(
                case, model=model, model_name=model_name, strategy=strategy, make_index=make_index
            )
            result.fingerprint, result.commit = fingerprint, commit
            store.append(result, shard=shard)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


def summarize(
    category: str,
    results: list[CaseResult],
    *,
    fingerprint: str | None = None,
    selected: int | None = None,
    stale_unused: int = 0,
) -> CategoryScore:
    """Accuracy, median latency and error types of one category's results.

    ``fingerprint``: the current one (results with another are counted as stale);
    ``selected``: the questions the results should cover (default: as many as there are).
    """
    errors = Counter(r.error_type or "unknown" for r in results if not r.valid)
    return CategoryScore(
        category=category,
        n=len(results),
        correct=sum(r.valid for r in results),
        p50_ms=statistics.median(r.latency_ms for r in results) if results else 0.0,
        error_types=dict(errors.most_common()),
        gated=sum(r.gated for r in results),
        lost_to_gate=sum(bool(r.ungated_valid) for r in results),
        selected=len(results) if selected is None else selected,
        stale=0 if fingerprint is None else sum(r.fingerprint != fingerprint for r in results),
        stale_unused=stale_unused,
    )


def fingerprint_of(model_name: str, strategy: str) -> str:
    """The current fingerprint of results of ``model_name`` with ``strategy``: the engine's
    code, the strategy's production settings and the model (see ``results.code_fingerprint``)."""
    return code_fingerprint(model_name, config=repr(engine_config(strategy)))


# -- a whole benchmark ------------------------------------------------------------------------

#: Called when a category starts for a strategy, with its question count; returns the
#: per-result callback (a progress bar's ``advance``, say).
CategoryHook = Callable[[str, str, int], Callable[[CaseResult], None] | None]


@dataclass(kw_only=True)
class StrategyRun:
    """One strategy's results over the chosen categories."""

    strategy: str
    scores: dict[str, CategoryScore] = field(default_factory=dict)
    results: list[CaseResult] = field(default_factory=list)


def staleness(run: StrategyRun, *, answered: bool = True) -> str:
    """A line on ``run``'s stale results (made by other engine code); ``""`` if none."""
    counted = sum(s.stale for s in run.scores.values())
    unused = sum(s.stale_unused for s in run.scores.values())
    parts = []
    if counted:
        parts.append(f"stale results counted: {counted} (--keep-stale)")
    if unused and answered:
        parts.append(f"stale results answered again: {unused}")
    elif unused:
        parts.append(f"questions left out, their results stale: {unused} (--keep-stale counts them)")
    return f"{run.strategy}: " + "; ".join(parts) if parts else ""


def coverage(score: CategoryScore) -> str:
    """``"37"``, or ``"37 of 195"`` when the results cover fewer than the questions selected."""
    return str(score.n) if score.n >= score.selected else f"{score.n} of {score.selected}"


@dataclass(kw_only=True)
class Benchmark:
    """A BFCL run: the main strategy and, with ``--baseline``, the plain one on the same questions."""

    model: str
    seed: int
    limit: int | None
    totals: dict[str, int]
    """Questions per category in the whole dataset (the weights of BFCL's live figure)."""
    main: StrategyRun
    baseline: StrategyRun | None = None
    split: str = "report"
    shard: Shard | None = None
    """The part of the questions this run took; ``None``: all of them."""
    answered: bool = True
    """Whether questions without a result were answered; ``False`` for a summary of stored
    results (``--summary-only``), which may cover fewer than were selected."""
    fingerprints: dict[str, str] = field(default_factory=dict)
    """The current fingerprint per strategy (results with another are stale)."""
    commit: str = ""
    """toolwire's git commit (``+dirty`` with uncommitted changes), if known."""

    def to_json(self) -> dict[str, Any]:
        """``{"model", "strategy", "categories": {name: {"n", "accuracy", "p50_ms", ...}}, ...}``."""
        categories: dict[str, dict[str, Any]] = {}
        for name, score in self.main.scores.items():
            row: dict[str, Any] = {
                "n": score.n,
                "selected": score.selected,
                "accuracy": round(score.accuracy, 4),
                "p50_ms": round(score.p50_ms, 1),
                "errors": score.error_types,
                "gated": score.gated,
                "lost_to_gate_points": round(score.lost_to_gate_points, 2),
                "stale": score.stale,
                "stale_unused": score.stale_unused,
            }
            base = self.baseline.scores.get(name) if self.baseline else None
            if base is not None:
                row["baseline_n"] = base.n
                row["baseline_accuracy"] = round(base.accuracy, 4)
                row["baseline_p50_ms"] = round(base.p50_ms, 1)
                row["delta_points"] = round(100 * (score.accuracy - base.accuracy), 2)
            categories[name] = row
        out: dict[str, Any] = {
            "model": self.model,
            "strategy": self.main.strategy,
            "seed": self.seed,
            "limit": self.limit,
            "split": self.split,
            "shard": None if self.shard is None else str(self.shard),
            "answered": self.answered,
            "commit": self.commit,
            "fingerprint": self.fingerprints.get(self.main.strategy, ""),
            "categories": categories,
            "overall": overall(self.main.scores, self.totals),
        }
        if self.baseline is not None:
            out["baseline_strategy"] = self.baseline.strategy
            out["baseline_fingerprint"] = self.fingerprints.get(self.baseline.strategy, "")
            out["baseline_overall"] = overall(self.baseline.scores, self.totals)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Benchmark:
        """The figures of :meth:`to_json` read back, without per-question results: enough for
        the report of a run and its summary figures, computed again."""
        main = StrategyRun(strategy=data["strategy"])
        base = StrategyRun(strategy=data["baseline_strategy"]) if "baseline_strategy" in data else None
        for name, row in data["categories"].items():
            main.scores[name] = _score_of(name, row)
            if base is not None and "baseline_n" in row:
                n = row["baseline_n"]
                base.scores[name] = CategoryScore(
                    category=name, n=n, correct=round(row["baseline_accuracy"] * n),
                    p50_ms=row["baseline_p50_ms"], selected=n,
                )
        prints = {main.strategy: data.get("fingerprint", "")}
        if base is not None:
            prints[base.strategy] = data.get("baseline_fingerprint", "")
        return cls(
            model=data["model"], seed=data["seed"], limit=data["limit"],
            totals=dataset_sizes(data["categories"]), main=main, baseline=base,
            split=data["split"], shard=Shard.parse(data["shard"]) if data.get("shard") else None,
            answered=data["answered"], fingerprints=prints, commit=data.get("commit", ""),
        )

    @property
    def lists_questions(self) -> bool:
        """Whether its report may list failing questions: only a run of the tuning split's.
        Report-split figures are published, so its questions are never shown for study."""
        return self.split == "tune"


def _score_of(name: str, row: Mapping[str, Any]) -> CategoryScore:
    """A category's score from its row of :meth:`Benchmark.to_json`."""
    n = row["n"]
    return CategoryScore(
        category=name, n=n, correct=round(row["accuracy"] * n), p50_ms=row["p50_ms"],
        error_types=dict(row.get("errors", {})), gated=row.get("gated", 0),
        lost_to_gate=round(row.get("lost_to_gate_points", 0.0) * n / 100),
        selected=row.get("selected", n), stale=row.get("stale", 0),
        stale_unused=row.get("stale_unused", 0),
    )


def overall(scores: dict[str, CategoryScore], totals: Mapping[str, int]) -> dict[str, Any]:
    """The run's summary: questions answered and selected, stale results, BFCL's own summary
    figures (``bfcl``: :func:`~toolwire.eval.aggregate.bfcl_figures`, weighted by the
    categories' sizes in ``totals``), and two figures that are not BFCL's, named as such:
    ``pooled_accuracy`` (right answers over every question answered, categories pooled) and
    ``mean_of_categories`` (the plain mean of the categories run). Figures are 0-1, to six
    places."""
    n = sum(s.n for s in scores.values())
    scored = {c: s.accuracy for c, s in scores.items() if s.n}
    return {
        "n": n,
        "selected": sum(s.selected for s in scores.values()),
        "stale": sum(s.stale for s in scores.values()),
        "stale_unused": sum(s.stale_unused for s in scores.values()),
        "bfcl": bfcl_figures(scored, dataset_sizes(LIVE_AST, known=totals)).to_json(),
        "pooled_accuracy": round(sum(s.correct for s in scores.values()) / n, 6) if n else 0.0,
        "mean_of_categories": round(statistics.fmean(scored.values()), 6) if scored else 0.0,
    }


def dataset_sizes(
    categories: Iterable[str], *, known: Mapping[str, int] | None = None
) -> dict[str, int]:
    """Questions per category in the whole dataset: from ``known`` where it has the category,
    else counted in bfcl-eval's data."""
    known = known or {}
    return {c: known[c] if c in known else _size(c) for c in categories}


@cache
def _size(category: str) -> int:
    return len(checker.load_entries(category))


def describe_overall(total: Mapping[str, Any]) -> list[str]:
    """:func:`overall`'s figures as lines of plain text: BFCL's, what they counted 0, and the
    figures that are not BFCL's."""
    figures = total["bfcl"]
    shown = [f"{label} {100 * figures[key]['accuracy']:.1f}%" for key, label in _FIGURES]
    lines = ["BFCL, weighted as bfcl-eval: " + " · ".join(shown)]
    missing = [_missing(key, figures[key]["not_scored"]) for key, _ in _FIGURES[1:]]
    missing += [_missing(key, figures[key]["not_scored"]) for key in ("multi_turn", "agentic")]
    if notes := [m for m in missing if m]:
        lines.append("not scored, counted 0 as bfcl-eval counts them: " + "; ".join(notes))
    lines.append(
        f"not BFCL figures: all {total['n']} questions pooled "
        f"{100 * total['pooled_accuracy']:.1f}% · mean of the categories run "
        f"{100 * total['mean_of_categories']:.1f}%"
    )
    return lines


_FIGURES: tuple[tuple[str, str], ...] = (
    ("overall", "overall"),
    ("non_live", "non-live"),
    ("live", "live"),
    ("irrelevance", "irrelevance"),
)
_WEIGHT_OF = dict(zip(
    ("non_live", "live", "irrelevance", "multi_turn", "agentic"), OVERALL_WEIGHTS, strict=True
))


def _missing(key: str, not_scored: list[str]) -> str:
    """``"multi-turn (all; 30% of overall)"`` or ``"non-live: simple_java, simple_javascript"``."""
    if not not_scored:
        return ""
    label = key.replace("_", "-")
    if set(not_scored) == set(GROUPS[key]):
        return f"{label} (all of it; {_WEIGHT_OF[key]}% of overall)"
    return f"{label}: {', '.join(not_scored)}"


def select(
    cases: list[Case],
    *,
    split: str = "report",
    limit: int | None = None,
    seed: int = 0,
    shard: Shard | None = None,
) -> list[Case]:
    """The questions a run takes from one category's ``cases``: those of ``split``, a seeded
    sample of ``limit`` of them, and of those the ones in ``shard``."""
    pool = [c for c in cases if in_split(c.id, split)]
    salt = cases[0].category if cases else ""
    chosen = sample(pool, limit=limit, seed=seed, salt=salt)
    return [c for c in chosen if shard is None or shard.holds(c.id)]


async def benchmark(
    categories: Iterable[str],
    *,
    model: Model | None,
    model_name: str,
    strategy: str = "staged",
    baseline: str | None = None,
    limit: int | None = None,
    seed: int = 0,
    store: ResultStore,
    resume: bool = True,
    keep_stale: bool = False,
    shard: Shard | None = None,
    fingerprint: str | None = None,
    on_category: CategoryHook | None = None,
    make_index: IndexFactory | None = None,
    split: str = "report",
) -> Benchmark:
    """Run every category with ``strategy`` and, when given, ``baseline`` on the same questions.

    Questions come from ``split`` (default ``report``: never the fifth held out for tuning), a
    seeded sample of ``limit`` per category and, of those, the ones in ``shard``. With
    ``resume``, a question with a stored result made by the current ``fingerprint`` (default:
    :func:`fingerprint_of` the strategy) is not answered again; with ``keep_stale`` neither is
    one with a result made by other code. With ``model`` None nothing is answered: the figures
    are those of the stored results, and each category's ``selected`` says how many questions
    they should cover.
    """
    chosen = check_categories(categories)
    runs = [StrategyRun(strategy=check_strategy(strategy))]
    if baseline is not None:
        runs.append(StrategyRun(strategy=check_strategy(baseline)))
    prints = {r.strategy: fingerprint or fingerprint_of(model_name, r.strategy) for r in runs}
    reuse = {
        r.strategy: _reusable(
            store.load(model_name, r.strategy) if resume or model is None else [],
            fingerprint=prints[r.strategy],
            keep_stale=keep_stale,
        )
        for r in runs
    }
    commit = git_commit()
    totals: dict[str, int] = {}
    for category in chosen:
        everything = load_cases(category)
        totals[category] = len(everything)
        cases = select(everything, split=split, limit=limit, seed=seed, shard=shard)
        for run in runs:
            usable, stale = reuse[run.strategy]
            hook = on_category(category, run.strategy, len(cases)) if on_category else None
            results = await run_cases(
                cases,
                model=model,
                model_name=model_name,
                strategy=run.strategy,
                store=store,
                done=usable,
                fingerprint=prints[run.strategy],
                commit=commit,
                shard=shard,
                on_result=hook,
                make_index=make_index,
            )
            run.results.extend(results)
            run.scores[category] = summarize(
                category,
                results,
                fingerprint=prints[run.strategy],
                selected=len(cases),
                stale_unused=sum((c.category, c.id) in stale for c in cases),
            )
    return Benchmark(
        model=model_name,
        seed=seed,
        limit=limit,
        totals=totals,
        main=runs[0],
        baseline=runs[1] if len(runs) > 1 else None,
        split=split,
        shard=shard,
        answered=model is not None,
        fingerprints=prints,
        commit=commit,
    )


def _reusable(
    stored: list[CaseResult], *, fingerprint: str, keep_stale: bool
) -> tuple[dict[Question, CaseResult], set[Question]]:
    """The results a run may reuse, and the questions whose only results are stale and are
    not reused."""
    usable = pick(stored, fingerprint=fingerprint, keep_stale=keep_stale)
    stale = set(pick(stored, fingerprint=fingerprint, keep_stale=True)) - set(usable)
    return usable, stale
