"""Fit the relevance decision on BFCL's tuning split (a fifth of each category, never part of
the reported figures).

The staged strategy turns a sentence away when the calibrated model
(``toolwire/strategies/staged/relevance.py``) finds a call unlikely. This script fits that model:

1. every question of the tuning split gets its evidence (:func:`relevance.evidence` over the
   candidates retrieval gives it: cheap, no model);
2. a logistic regression (scikit-learn, balanced classes) learns "this question wants a call"
   (every category but irrelevance and live_irrelevance) from the evidence;
3. what a gate costs is the relevant questions the engine would answer *right* and that the
   gate turns away, so the questions that some threshold up to ``MAX_THRESHOLD`` could turn away
   are answered by the staged engine with the gate off (the only model runs);
4. the threshold is the highest probability at which no relevant category loses more than
   ``--max-loss`` points; by default, no more than the fixed thresholds it replaces lose on
   the same questions (their worst category), so the calibrated gate costs no more than the
   old one and turns away what it can at that cost. The tuning fifth holds 1 to 215 questions
   per category, so one question is 1 to 100 points: a flat 2-point limit would be decided
   by single questions. The weights, the threshold and this table are written to
   ``relevance.json`` with ``--fit``.

    .venv/bin/python -m bench.tune_relevance --save tune.jsonl       # collect (~10 min), print
    .venv/bin/python -m bench.tune_relevance --load tune.jsonl --fit  # refit, write the model

It also prints what the fixed thresholds (the fallback without embedding scores) do on the
same questions.
"""

from __future__ import annotations

import argparse
import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date

from bench import tuning
from toolwire.config import get_settings
from toolwire.eval import bfcl
from toolwire.models import load_model
from toolwire.pipeline import EngineConfig
from toolwire.strategies.staged.relevance import FEATURES, SHIPPED, RelevanceModel, evidence
from toolwire.text.reading import read

RELEVANT = ["simple_python", "multiple", "parallel", "parallel_multiple", "live_simple",
            "live_multiple", "live_parallel", "live_parallel_multiple"]
IRRELEVANT = ["irrelevance", "live_irrelevance"]
MAX_THRESHOLD = 0.6
"""Thresholds tried: 0.05 to this, by 0.01 (above it a relevant category loses whole points)."""
REGULARISATION = 1.0
"""scikit-learn's C (inverse L2 strength): ten features and ~700 questions need little."""


@dataclass(kw_only=True)
class Question:
    id: str
    category: str
    features: dict[str, float]
    right: bool | None = None
    """Relevant questions a threshold could turn away: answered right with the gate off."""
    probability: float = field(default=math.nan)


async def collect(limit: int | None) -> list[Question]:
    settings = get_settings()
    out: list[Question] = []
    for category in RELEVANT + IRRELEVANT:
        for case in bfcl.load_cases(category, split="tune", limit=limit, seed=1):
            question = bfcl.split_question(case.messages)[0]
            hits = bfcl.build_registry(case.functions).search(question, k=settings.retrieval_k)
            if hits:
                out.append(Question(id=case.id, category=category,
                                    features=evidence(read(question), hits)))
        print(f"  {category}: {sum(q.category == category for q in out)} questions", flush=True)
    return out


async def answer_ungated(questions: list[Question]) -> None:
    """Mark each relevant question a threshold up to ``MAX_THRESHOLD`` could turn away with
    whether the engine answers it right with the gate off."""
    settings = get_settings()
    model = load_model(settings.model)
    ungated = bfcl.engine_config("staged")
    ungated.rules = replace(ungated.rules, relevance_gate=False)
    wanted = {q.id: q for q in questions
              if q.category in RELEVANT and q.right is None
              and (q.probability < MAX_THRESHOLD or not fixed_passes(q))}
    for category in RELEVANT:
        for case in bfcl.load_cases(category, split="tune"):
            if case.id in wanted:
                result = await bfcl.answer_case(case, model=model, model_name=settings.model,
                                                strategy="staged", config=ungated)
                wanted[case.id].right = bool(result.valid)
    print(f"  answered {len(wanted)} relevant questions with the gate off", flush=True)


def fit(questions: list[Question]) -> RelevanceModel:
    from sklearn.linear_model import LogisticRegression  # the fitting tool, not a runtime need

    x = [[q.features[name] for name in FEATURES] for q in questions]
    y = [q.category in RELEVANT for q in questions]
    lr = LogisticRegression(C=REGULARISATION, max_iter=5000, class_weight="balanced").fit(x, y)
    weights = dict(zip(FEATURES, (float(w) for w in lr.coef_[0]), strict=True))
    return RelevanceModel(weights=weights, bias=float(lr.intercept_[0]), threshold=0.5)


def losses(
    questions: list[Question], passes: Callable[[Question], bool]
) -> tuple[dict[str, float], dict[str, float]]:
    """Points each relevant category loses to a gate that lets through what ``passes``, and
    the share (%) of each irrelevant category it turns away."""
    lost, away = {}, {}
    for category in RELEVANT:
        group = [q for q in questions if q.category == category]
        lost[category] = 100 * sum(bool(q.right) and not passes(q)
                                   for q in group) / max(1, len(group))
    for category in IRRELEVANT:
        group = [q for q in questions if q.category == category]
        away[category] = 100 * sum(not passes(q) for q in group) / max(1, len(group))
    return lost, away


def above(threshold: float) -> Callable[[Question], bool]:
    """The calibrated gate at ``threshold``."""
    return lambda q: q.probability >= threshold


def choose(questions: list[Question], max_loss: float) -> tuple[float, list[str]]:
    grid = [t / 100 for t in range(5, round(100 * MAX_THRESHOLD) + 1)]
    lines, chosen = [], grid[0]
    for threshold in grid:
        lost, away = losses(questions, above(threshold))
        ok = max(lost.values()) <= max_loss
        chosen = threshold if ok else chosen
        costs = ", ".join(f"{c} -{v:.1f}" for c, v in lost.items() if v) or "none"
        lines.append(f"p >= {threshold:.2f}: turned away "
                     + " ".join(f"{c} {v:.1f}%" for c, v in away.items())
                     + f" | lost: {costs}{'' if ok else '  (over the limit)'}")
    return chosen, lines


def fixed_passes(q: Question) -> bool:
    """The fallback rule, at ``EngineConfig``'s thresholds: the best fused score, or that of a
    tool the sentence names, reaching its bar."""
    config = EngineConfig()
    return (q.features["best"] >= config.relevance_threshold
            or q.features["named_best"] >= config.named_relevance_threshold)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="questions per category")
    parser.add_argument("--max-loss", type=float, default=None,
                        help="points a relevant category may lose (default: what the fixed "
                             "thresholds lose in their worst category)")
    tuning.arguments(parser, SHIPPED)
    args = parser.parse_args()
    questions = tuning.questions(args, Question, lambda: asyncio.run(collect(args.limit)))
    model = fit(questions)
    for q in questions:
        q.probability = model.probability(q.features)
    asyncio.run(answer_ungated(questions))
    tuning.save(args.save, questions)
    old_lost, old_away = losses(questions, fixed_passes)
    max_loss = args.max_loss if args.max_loss is not None else max(old_lost.values())
    threshold, table = choose(questions, max_loss)
    print("\n".join(table))
    print("fixed thresholds: turned away "
          + " ".join(f"{c} {v:.1f}%" for c, v in old_away.items())
          + " | lost: " + (", ".join(f"{c} -{v:.1f}" for c, v in old_lost.items() if v) or "none"))
    lost, away = losses(questions, above(threshold))
    print(f"chosen: p >= {threshold:.2f}; weights "
          + ", ".join(f"{k} {v:+.3f}" for k, v in model.weights.items())
          + f"; bias {model.bias:+.3f}")
    if args.fit:
        fitted = RelevanceModel(
            weights=model.weights, bias=model.bias, threshold=threshold,
            fitted={
                "on": "BFCL tuning split (a fifth of every category by a hash of the id)",
                "questions": len(questions),
                "by": "bench/tune_relevance.py (scikit-learn LogisticRegression, balanced "
                      f"classes, C={REGULARISATION})",
                "date": date.today().isoformat(),
                "max_loss_points": max_loss,
                "fixed_thresholds_loss_points": {c: round(v, 1) for c, v in old_lost.items()},
                "fixed_thresholds_turned_away_percent": {
                    c: round(v, 1) for c, v in old_away.items()},
                "tuning_loss_points": {c: round(v, 1) for c, v in lost.items()},
                "tuning_turned_away_percent": {c: round(v, 1) for c, v in away.items()},
            },
        )
        SHIPPED.write_text(fitted.to_json() + "\n", encoding="utf-8")
        print(f"written {SHIPPED}")


if __name__ == "__main__":
    main()
