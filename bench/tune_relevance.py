"""Calibrate the relevance gate on BFCL's tuning split (a fifth of each category, held out from
the reported figures): for every question, the best retrieval hit among its own functions;
irrelevance questions should fall below the threshold, the others above.

    .venv/bin/python bench/tune_relevance.py

Prints, for each signal (fused score, dense cosine, keyword score), the best threshold and the
accuracy it gives on both sides.
"""

from __future__ import annotations

import math
import sys

from toolwire.eval import bfcl

RELEVANT = ["simple_python", "multiple", "parallel", "parallel_multiple", "live_simple",
            "live_multiple", "live_parallel", "live_parallel_multiple"]
IRRELEVANT = ["irrelevance", "live_irrelevance"]


def best_hits(categories: list[str]) -> list[tuple[float, float, float]]:
    out = []
    for category in categories:
        for case in bfcl.load_cases(category, split="tune"):
            registry = bfcl.build_registry(case.functions)
            question = bfcl.split_question(case.messages)[0]
            hits = registry.search(question, k=1)
            if not hits:  # an empty question or no functions: nothing is relevant
                out.append((0.0, 0.0, 0.0))
                continue
            h = hits[0]
            dense = h.dense_score if not math.isnan(h.dense_score) else 0.0
            out.append((h.score, dense, h.keyword_score))
    return out


def main() -> None:
    relevant, irrelevant = best_hits(RELEVANT), best_hits(IRRELEVANT)
    print(f"tuning split: {len(relevant)} relevant, {len(irrelevant)} irrelevant questions")
    for i, signal in enumerate(["fused", "dense", "keyword"]):
        rows = []
        for step in range(0, 101):
            t = step / 100
            rel = sum(r[i] >= t for r in relevant) / len(relevant)
            irr = sum(r[i] < t for r in irrelevant) / len(irrelevant)
            rows.append((t, rel, irr))
        # the highest threshold that keeps >= 97% of relevant questions, and the balanced one
        keep = max((r for r in rows if r[1] >= 0.97), key=lambda r: r[0])
        balanced = max(rows, key=lambda r: r[1] + r[2])
        print(f"{signal:8s} keep97: t={keep[0]:.2f} relevant={keep[1]:.3f} irrelevant={keep[2]:.3f}"
              f" | balanced: t={balanced[0]:.2f} relevant={balanced[1]:.3f}"
              f" irrelevant={balanced[2]:.3f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
