"""Calibrate the relevance gate on BFCL's tuning split (a fifth of each category, never part of
the reported figures).

The gate turns a sentence away when its best retrieved tool scores below
``relevance_threshold``, unless the sentence names a tool (its name's words or an enum value)
that scores at least ``named_relevance_threshold``. What a gate costs is the questions that need
a call and that the engine would have answered *right*; what it buys is irrelevant questions
turned away. So every relevant question of the sample goes through the staged engine with the
gate off (is it right?), every question gets its retrieval scores, and each pair of thresholds
is scored on both sides.

    .venv/bin/python bench/tune_relevance.py            # 30 questions per category, ~15 min
    .venv/bin/python bench/tune_relevance.py --limit 60 --save tune.jsonl
    .venv/bin/python bench/tune_relevance.py --load tune.jsonl --max-loss 3.4

Prints, per pair of thresholds, the share of irrelevant questions turned away (per category)
and the points each relevant category would lose; the pair chosen is the one turning the most
away while no category loses more than ``--max-loss`` points.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

from toolwire.config import get_settings
from toolwire.eval import bfcl
from toolwire.models import load_model
from toolwire.strategies.staged.matching import feasible, lexical_match

RELEVANT = ["simple_python", "multiple", "parallel", "parallel_multiple", "live_simple",
            "live_multiple", "live_parallel", "live_parallel_multiple"]
IRRELEVANT = ["irrelevance", "live_irrelevance"]
THRESHOLDS = [t / 100 for t in range(5, 31)]


@dataclass(kw_only=True)
class Question:
    category: str
    best: float
    """The best fused retrieval score among the question's functions."""
    best_named: float
    """The best score among functions the sentence names (-inf when it names none)."""
    feasible: bool
    """Whether some function could be filled (the sentence writes its required numbers)."""
    right: bool = False
    """Relevant questions: answered right with the gate off."""


def passes(q: Question, threshold: float, named: float) -> bool:
    return q.best >= threshold or q.best_named >= named


async def collect(limit: int) -> list[Question]:
    settings = get_settings()
    model = load_model(settings.model)
    ungated = bfcl.engine_config("staged")
    ungated.relevance_threshold = ungated.named_relevance_threshold = -math.inf
    out: list[Question] = []
    for category in RELEVANT + IRRELEVANT:
        for case in bfcl.load_cases(category, split="tune", limit=limit, seed=1):
            question = bfcl.split_question(case.messages)[0]
            hits = bfcl.build_registry(case.functions).search(question, k=settings.retrieval_k)
            named = [h.score for h in hits if lexical_match(question, h.tool) >= 1.0]
            q = Question(
                category=category,
                best=max((h.score for h in hits), default=-math.inf),
                best_named=max(named, default=-math.inf),
                feasible=any(feasible(question, h.tool) for h in hits),
            )
            if category in RELEVANT:
                result = await bfcl.answer_case(case, model=model, model_name=settings.model,
                                                strategy="staged", config=ungated)
                q.right = result.valid
            out.append(q)
        print(f"  {category}: {sum(q.category == category for q in out)} questions", flush=True)
    return out


def table(questions: list[Question], max_loss: float) -> None:
    rows = []
    for threshold in THRESHOLDS:
        for named in [t for t in THRESHOLDS if t <= threshold]:
            away = {}
            for category in IRRELEVANT:
                group = [q for q in questions if q.category == category]
                # an infeasible question makes no call either way (the engine asks for values)
                away[category] = sum(not passes(q, threshold, named) or not q.feasible
                                     for q in group) / max(1, len(group))
            lost = {}
            for category in RELEVANT:
                group = [q for q in questions if q.category == category]
                lost[category] = 100 * sum(q.right and not passes(q, threshold, named)
                                           for q in group) / max(1, len(group))
            rows.append((threshold, named, away, lost))
    ok = [r for r in rows if max(r[3].values()) <= max_loss]
    for threshold, named, away, lost in ok[-12:]:
        costs = ", ".join(f"{c} -{v:.1f}" for c, v in lost.items() if v)
        print(f"threshold {threshold:.2f} named {named:.2f}: turned away "
              + " ".join(f"{c} {100 * v:.1f}%" for c, v in away.items())
              + f" | lost: {costs or 'none'}")
    best = max(ok, key=lambda r: (sum(r[2].values()), r[0]))
    print(f"chosen: relevance_threshold={best[0]:.2f} named_relevance_threshold={best[1]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=30, help="questions per category")
    parser.add_argument("--max-loss", type=float, default=0.0,
                        help="points a relevant category may lose (default 0)")
    parser.add_argument("--save", type=Path, help="keep the collected questions (JSON lines)")
    parser.add_argument("--load", type=Path, help="score questions collected before")
    args = parser.parse_args()
    if args.load:
        lines = args.load.read_text().splitlines()
        questions = [Question(**json.loads(line)) for line in lines if line]
    else:
        questions = asyncio.run(collect(args.limit))
    if args.save:
        args.save.write_text("".join(json.dumps(asdict(q)) + "\n" for q in questions))
    table(questions, args.max_loss)


if __name__ == "__main__":
    main()
