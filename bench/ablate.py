"""What each staged rule is worth: BFCL's tuning split, the default run next to the same run with
one rule off, per category.

    .venv/bin/python -m bench.ablate [--limit 20] [--rules quoted_passages,number_priors]

The questions are a seeded sample of ``--limit`` per category from the *tuning* split (a fifth
of every category, never part of the reported figures). Every configuration (the default, then
each rule of ``toolwire.strategies.StagedRules`` turned off) answers the same questions with
the staged strategy, scored by bfcl-eval's checker. Printed: per rule, the points it adds in
each category (default accuracy minus accuracy without it; negative: the rule costs points)
and overall; the last line is JSON. Deterministic (temperature 0), so differences are the
rule's, not noise; with small samples they are a handful of questions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import replace
from typing import Any

from bench.stats import table
from toolwire.config import get_settings
from toolwire.eval import bfcl
from toolwire.models import load_model
from toolwire.strategies import StagedRules

CATEGORIES = ["simple_python", "multiple", "parallel", "parallel_multiple", "irrelevance",
              "live_simple", "live_multiple", "live_parallel", "live_parallel_multiple",
              "live_irrelevance"]


async def accuracy(cases: dict[str, list[Any]], model: Any, rules: StagedRules) -> dict[str, float]:
    """Accuracy per category (0-100) of the staged strategy under ``rules``."""
    settings = get_settings()
    config = replace(bfcl.engine_config("staged"), rules=rules)
    out: dict[str, float] = {}
    for category, group in cases.items():
        right = 0
        for case in group:
            result = await bfcl.answer_case(case, model=model, model_name=settings.model,
                                            strategy="staged", config=config)
            right += result.valid
        out[category] = 100 * right / max(1, len(group))
    return out


async def run(limit: int, names: list[str], seed: int) -> dict[str, Any]:
    settings = get_settings()
    model = load_model(settings.model)
    cases = {c: bfcl.load_cases(c, split="tune", limit=limit, seed=seed) for c in CATEGORIES}
    started = time.perf_counter()
    default = await accuracy(cases, model, StagedRules())
    worth: dict[str, dict[str, float]] = {}
    for name in names:
        without = await accuracy(cases, model, replace(StagedRules(), **{name: False}))
        worth[name] = {c: round(default[c] - without[c], 1) for c in CATEGORIES}
        print(f"  {name}: {sum(worth[name].values()) / len(CATEGORIES):+.1f} points on average",
              flush=True)
    return {
        "bench": "ablate",
        "split": "tune",
        "limit": limit,
        "seed": seed,
        "questions": {c: len(g) for c, g in cases.items()},
        "default": {c: round(v, 1) for c, v in default.items()},
        "points_added": worth,
        "average_points_added": {n: round(sum(w.values()) / len(CATEGORIES), 2)
                                 for n, w in worth.items()},
        "seconds": round(time.perf_counter() - started, 1),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=20, help="questions per category")
    parser.add_argument("--rules", default=",".join(StagedRules.names()),
                        help="comma-separated rule names (default: all)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    names = [n for n in args.rules.split(",") if n]
    unknown = sorted(set(names) - set(StagedRules.names()))
    if unknown or args.limit < 1:
        parser.error(f"unknown rule(s): {', '.join(unknown)}" if unknown else "--limit >= 1")
    data = asyncio.run(run(args.limit, names, args.seed))
    short = [c.replace("live_", "l_").replace("parallel", "par").replace("simple", "simp")
             .replace("multiple", "mult").replace("irrelevance", "irrel") for c in CATEGORIES]
    rows = [["(default accuracy)", *[data["default"][c] for c in CATEGORIES], ""]]
    rows += [[n, *[w[c] for c in CATEGORIES], data["average_points_added"][n]]
             for n, w in data["points_added"].items()]
    print(f"points each staged rule adds, tuning split, {args.limit} per category "
          f"(default minus rule off)")
    print(table(["rule", *short, "avg"], rows))
    print(json.dumps(data))
    return data


if __name__ == "__main__":
    main()
