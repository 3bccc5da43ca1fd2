"""Run every benchmark, one after the other (never two model processes at once).

    .venv/bin/python -m bench                      # all
    .venv/bin/python -m bench engine_e2e overhead  # some

Each runs in its own Python process (so peak RSS is its own), its output passes through, and
the last line printed is a JSON object mapping each benchmark to its own final JSON line (or
its last line when that is not JSON, or its exit status when it failed).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ORDER = ("overhead", "hung_tools", "retrieval_100k", "engine_e2e", "api_execute", "load",
         "serve_rss")
"""Cheapest first; a benchmark whose module is missing is skipped."""


def run_one(name: str) -> Any:
    """Run ``bench.<name>``, echoing its output; its final JSON line, or its failure."""
    print(f"\n=== bench.{name} ===", flush=True)
    process = subprocess.Popen(
        [sys.executable, "-m", f"bench.{name}"], cwd=HERE.parent, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    last = ""
    for line in process.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        if line.strip():
            last = line
    if process.wait() != 0:
        return {"failed": process.returncode}
    try:
        return json.loads(last)
    except ValueError:  # a benchmark that ends with a table instead
        return {"last_line": last.strip()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run toolwire's benchmarks one at a time.")
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: {', '.join(ORDER)})")
    args = parser.parse_args(argv)
    names = args.names or [n for n in ORDER if (HERE / f"{n}.py").is_file()]
    unknown = [n for n in names if n not in ORDER or not (HERE / f"{n}.py").is_file()]
    if unknown:
        parser.error(f"no benchmark named {', '.join(unknown)} (known: {', '.join(ORDER)})")
    results = {name: run_one(name) for name in names}
    print(json.dumps(results))
    return 1 if any(isinstance(r, dict) and "failed" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
