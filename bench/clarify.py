"""Fit the clarify threshold (``EngineConfig.clarify_below``) on BFCL's tuning split and
measure what it costs on the report split, without the model writing anything.

The staged strategy asks which tool is meant, instead of calling one, when the calibrated
evidence for the call is weak: its confidence (the relevance probability times the chosen
candidate's selection probability, ``StagedStrategy.confidence``) is below ``clarify_below``.
BFCL scores a clarifying question as "no call". This script:

1. takes every question of every category (both splits; ``--limit`` a seeded sample of each
   category and split) through retrieval and the strategy's ``choose`` with clarify off: the
   production path up to the choice of the tool (rules, gate, selection), nothing filled and
   no model generation (the shipped selection asks the model nothing: ``confident`` 0);
2. a question is *sent to clarify* at a threshold when it reached selection (no rule settled
   it, the gate let it in) and its confidence is below the threshold;
3. the cost in a relevant category is at most the share of its questions sent to clarify
   (each might have been right before); for the report split it is also counted exactly
   against the stored results of the last whole run (``docs/eval/bfcl``: sent to clarify and
   right there); in irrelevance categories clarifying is no call, which is right;
4. the fitted threshold is the largest (0 to 1 by 0.01) at which no relevant category of the
   tuning split has an upper bound over ``--max-cost`` points.

    .venv/bin/python -m bench.clarify --save clarify.jsonl        # collect, print the table
    .venv/bin/python -m bench.clarify --load clarify.jsonl --fit  # refit, write docs/clarify.json

``--fit`` writes the table to ``docs/clarify.json``; the default ``CLARIFY_BELOW``
(``toolwire/strategies/staged/strategy.py``) is set from it by hand (a unit test checks they
agree).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from pathlib import Path

from bench.tune_relevance import IRRELEVANT, RELEVANT
from toolwire.config import get_settings
from toolwire.eval import bfcl
from toolwire.models import load_model
from toolwire.models.base import Model
from toolwire.pipeline import EngineConfig, Pipeline
from toolwire.retrieval import ToolIndex
from toolwire.strategies import StagedStrategy, Turn
from toolwire.strategies.staged.relevance import RelevanceModel
from toolwire.strategies.staged.strategy import CLARIFY_BELOW, clarify_names

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "docs" / "clarify.json"
STORED = ROOT / "docs" / "eval" / "bfcl"
MAX_COST = 2.0
"""Points a relevant category may lose at most (its upper bound) on the tuning split."""
GRID = [t / 100 for t in range(101)]
SWEEP = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
"""Thresholds whose shares sent to clarify are printed (and kept in the table) beside the
fitted one's."""
SPLITS = ("tune", "report")


@dataclass(kw_only=True)
class Question:
    id: str
    category: str
    split: str
    decided: str
    """``none`` (no candidates), ``ruled`` (a rule settled the tool), ``gated``, ``selected``."""
    confidence: float | None = None
    """The calibrated confidence of the selected call; ``None`` where no model judged."""
    relevance: float | None = None
    """Its first factor, the relevance probability (``None`` where that model did not judge)."""
    selection: float | None = None
    """Its second, the chosen candidate's selection weight (a probability where the fitted
    model chose, 1 for a lone candidate)."""
    names: list[str] = field(default_factory=list)
    """The candidates a clarifying question would name."""
    right: bool | None = None
    """The stored result of the last whole report run (``None``: none stored, or tune)."""


async def collect(limits: dict[str, int | None], path: Path | None) -> list[Question]:
    """Every question's choice with clarify off (see the module's docstring), at most
    ``limits[split]`` per category of each split. Each is appended to ``path`` as it comes,
    and the questions already there are not asked again (a stopped run continues)."""
    settings = get_settings()
    model = load_model(settings.model)
    config = replace(bfcl.engine_config("staged"), clarify_below=0.0)
    cache = settings.home / "index" / "bench-clarify"  # tool vectors, kept across runs
    kept = _read(path) if path is not None and path.exists() else []
    done = {(q.split, q.category, q.id): q for q in kept}
    out: list[Question] = []
    for split in SPLITS:
        for category in RELEVANT + IRRELEVANT:
            for case in bfcl.load_cases(category, split=split, limit=limits[split], seed=1):
                question = done.get((split, category, case.id))
                if question is None:
                    question = await _choice(case, split, model, config, cache)
                    if path is not None:
                        with path.open("a", encoding="utf-8") as f:
                            f.write(json.dumps(asdict(question)) + "\n")
                out.append(question)
            count = sum(q.category == category and q.split == split for q in out)
            print(f"  {split} {category}: {count} questions", flush=True)
    return out


def _read(path: Path) -> list[Question]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [Question(**json.loads(line)) for line in lines if line.strip()]


async def _choice(
    case: bfcl.Case, split: str, model: Model, config: EngineConfig, cache: Path
) -> Question:
    question, history = bfcl.split_question(case.messages)
    registry = bfcl.build_registry(case.functions, make_index=lambda: ToolIndex(cache_dir=cache))
    pipeline = Pipeline(registry, model, config=config)
    strategy = pipeline.strategy
    assert isinstance(strategy, StagedStrategy)
    turn = Turn(question=question, history=history)
    turn.hits = await pipeline.retrieve(turn)
    choice = await strategy.choose(turn)
    decided = ("none" if not turn.hits else "ruled" if choice.ruled
               else "gated" if choice.gated else "selected")
    names = clarify_names(choice.weights) if choice.weights else []
    selection = choice.weights.get(choice.tool.name) if choice.tool is not None else None
    return Question(id=case.id, category=case.category, split=split, decided=decided,
                    confidence=choice.confidence, relevance=choice.relevance,
                    selection=selection, names=names)


def stored_right() -> dict[tuple[str, str], bool]:
    """Whether the last stored result of each report question was right (later lines win)."""
    right: dict[tuple[str, str], bool] = {}
    for path in sorted(STORED.glob("*.staged*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                right[(row["category"], row["id"])] = bool(row["valid"])
    return right


def sent(q: Question, threshold: float) -> bool:
    """Whether ``q`` is sent to clarify at ``threshold``."""
    return q.decided == "selected" and q.confidence is not None and q.confidence < threshold


def shares(questions: list[Question], threshold: float, split: str) -> dict[str, float]:
    """Per category, the share (%) of ``split``'s questions sent to clarify."""
    out = {}
    for category in RELEVANT + IRRELEVANT:
        group = [q for q in questions if q.category == category and q.split == split]
        out[category] = 100 * sum(sent(q, threshold) for q in group) / max(1, len(group))
    return out


def lost(questions: list[Question], threshold: float) -> dict[str, float]:
    """Per relevant category, the points of the report split sent to clarify that the stored
    run answered right."""
    return _stored(questions, threshold, RELEVANT, right=True)


def gained(questions: list[Question], threshold: float) -> dict[str, float]:
    """Per irrelevance category, the points of the report split sent to clarify that the
    stored run answered wrong (it called a tool): no call is right."""
    return _stored(questions, threshold, IRRELEVANT, right=False)


def _stored(questions: list[Question], threshold: float, categories: list[str], *,
            right: bool) -> dict[str, float]:
    out = {}
    for category in categories:
        group = [q for q in questions if q.category == category and q.split == "report"]
        out[category] = 100 * sum(sent(q, threshold) and q.right is right
                                  for q in group) / max(1, len(group))
    return out


def fit(questions: list[Question], max_cost: float) -> tuple[float, list[str]]:
    """The largest threshold whose tuning upper bound stays within ``max_cost`` in every
    relevant category, and a line per threshold tried."""
    chosen, lines = 0.0, []
    for threshold in GRID:
        tune = shares(questions, threshold, "tune")
        worst = max(tune[c] for c in RELEVANT)
        if worst <= max_cost:
            chosen = threshold
        over = ", ".join(f"{c} {tune[c]:.1f}" for c in RELEVANT if tune[c] > max_cost)
        lines.append(f"below {threshold:.2f}: worst relevant {worst:.1f} pts"
                     + (f" (over: {over})" if over else ""))
    return chosen, lines


Rule = Callable[[Question], bool]


def judged(q: Question) -> bool:
    return q.decided == "selected" and q.confidence is not None


def alternatives(questions: list[Question], max_cost: float) -> list[str]:
    """What other rules for "weak" would clarify at the same cost: a band above the relevance
    threshold alone, a floor under the selection probability alone, and both (each the
    setting that clarifies the most irrelevant tuning questions within ``max_cost``)."""
    above = RelevanceModel.shipped().threshold
    rules: dict[str, list[tuple[str, Rule]]] = {
        "confidence (shipped)": [(f"below {t:.2f}", _below(t)) for t in GRID],
        "relevance band": [(f"relevance < {above:.2f} + {b:.2f}", _band(above + b))
                           for b in GRID],
        "selection floor": [(f"selection < {f:.2f}", _floor(f)) for f in GRID],
        "band and floor": [(f"relevance < {above:.2f} + {b:.2f} or selection < {f:.2f}",
                            _either(_band(above + b), _floor(f)))
                           for b in GRID[::5] for f in GRID[::5]],
    }
    lines = []
    for name, candidates in rules.items():
        best, label = -1, "none"
        for text, rule in candidates:
            if _worst(questions, rule) <= max_cost:
                gained = sum(rule(q) for q in questions
                             if q.split == "tune" and q.category in IRRELEVANT)
                if gained >= best:  # ties: the later (larger) setting
                    best, label = gained, text
        lines.append(f"{name}: at most {max_cost} pts, {label} clarifies {best} irrelevant "
                     "tuning questions")
    return lines


def _below(t: float) -> Rule:
    return lambda q: judged(q) and q.confidence is not None and q.confidence < t


def _band(top: float) -> Rule:
    return lambda q: judged(q) and q.relevance is not None and q.relevance < top


def _floor(f: float) -> Rule:
    return lambda q: judged(q) and q.selection is not None and q.selection < f


def _either(a: Rule, b: Rule) -> Rule:
    return lambda q: a(q) or b(q)


def _worst(questions: list[Question], rule: Rule) -> float:
    """The largest share (%) of a relevant tuning category that ``rule`` sends to clarify."""
    worst = 0.0
    for category in RELEVANT:
        group = [q for q in questions if q.category == category and q.split == "tune"]
        worst = max(worst, 100 * sum(rule(q) for q in group) / max(1, len(group)))
    return worst


def table(questions: list[Question], threshold: float) -> list[dict[str, object]]:
    """Per category: questions, share sent to clarify on each split, and the points lost."""
    tune, report = shares(questions, threshold, "tune"), shares(questions, threshold, "report")
    stored = lost(questions, threshold) | gained(questions, threshold)
    rows: list[dict[str, object]] = []
    for category in RELEVANT + IRRELEVANT:
        counts = {s: sum(q.category == category and q.split == s for q in questions)
                  for s in SPLITS}
        rows.append({
            "category": category,
            "questions_tune": counts["tune"],
            "questions_report": counts["report"],
            "sent_tune_percent": round(tune[category], 1),
            "sent_report_percent": round(report[category], 1),
            "upper_bound_points_lost_report": (round(report[category], 1)
                                               if category in RELEVANT else 0.0),
            ("stored_run_points_lost_report" if category in RELEVANT
             else "stored_run_points_gained_report"): round(stored[category], 1),
        })
    return rows


def print_table(rows: list[dict[str, object]], threshold: float) -> None:
    print(f"clarify below {threshold:.2f}")
    print("| category | sent to clarify, tune | sent, report | upper bound lost, report "
          "| by the stored run, report |")
    print("|---|---|---|---|---|")
    for r in rows:
        relevant = r["category"] in RELEVANT
        bound = f"{r['upper_bound_points_lost_report']}" if relevant else "(no call is right)"
        stored = (f"−{r['stored_run_points_lost_report']}" if relevant
                  else f"+{r['stored_run_points_gained_report']}")
        print(f"| {r['category']} | {r['sent_tune_percent']} % of {r['questions_tune']} "
              f"| {r['sent_report_percent']} % of {r['questions_report']} | {bound} "
              f"| {stored} |")


def print_sweep(sweep: dict[str, tuple[dict[str, float], dict[str, float]]]) -> None:
    """Per threshold, the share (%) of each category of the report split sent to clarify and,
    for a relevant one, in brackets the points the stored run had right among them."""
    print("| clarify below | " + " | ".join(RELEVANT + IRRELEVANT) + " |")
    print("|---" * (1 + len(RELEVANT + IRRELEVANT)) + "|")
    for threshold, (sent, gone) in sweep.items():
        cells = [f"{sent[c]:.1f}" + (f" ({gone[c]:.1f})" if c in gone else "")
                 for c in RELEVANT + IRRELEVANT]
        print(f"| {threshold} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None,
                        help="questions per category and split (a seeded sample)")
    parser.add_argument("--report-limit", type=int, default=None,
                        help="questions per category of the report split (default: --limit)")
    parser.add_argument("--max-cost", type=float, default=MAX_COST,
                        help="points a relevant category of the tuning split may lose at most")
    parser.add_argument("--at", type=float, nargs="*", default=list(SWEEP),
                        help="also print the shares sent to clarify at these thresholds")
    parser.add_argument("--save", type=Path,
                        help="keep the collected questions (JSON lines), appended as they "
                             "come; a run given the same file continues it")
    parser.add_argument("--load", type=Path, help="use questions collected before")
    parser.add_argument("--fit", action="store_true", help=f"write the table to {TABLE}")
    args = parser.parse_args()
    limits = {"tune": args.limit,
              "report": args.limit if args.report_limit is None else args.report_limit}
    questions = (_read(args.load) if args.load
                 else asyncio.run(collect(limits, args.save)))
    right = stored_right()
    for q in questions:
        q.right = right.get((q.category, q.id)) if q.split == "report" else None
    threshold, lines = fit(questions, args.max_cost)
    print("\n".join(lines))
    rows = table(questions, threshold)
    print_table(rows, threshold)
    others = alternatives(questions, args.max_cost)
    print("\n".join(others))
    sweep = {f"{t:.2f}": (shares(questions, t, "report"), lost(questions, t)) for t in args.at}
    print_sweep(sweep)
    if threshold != CLARIFY_BELOW:
        print(f"note: the shipped default CLARIFY_BELOW is {CLARIFY_BELOW}")
    if args.fit:
        TABLE.write_text(json.dumps({
            "clarify_below": threshold,
            "fitted": {
                "on": "BFCL tuning split (a fifth of every category by a hash of the id)",
                "by": "bench/clarify.py",
                "date": date.today().isoformat(),
                "max_cost_points": args.max_cost,
                "limit_per_category": limits,
                "confidence": "relevance probability x selection probability of the chosen "
                              "candidate (StagedStrategy.confidence)",
            },
            "table": rows,
            "other_rules": others,
            "sweep_report": {
                t: {c: {"sent_percent": round(sent[c], 1),
                        **({"stored_run_points_lost": round(gone[c], 1)}
                           if c in RELEVANT else {})}
                    for c in sent}
                for t, (sent, gone) in sweep.items()},
        }, indent=2) + "\n", encoding="utf-8")
        print(f"written {TABLE}")


if __name__ == "__main__":
    main()
