"""CI's smoke check of the BFCL harness: real embedded model, real questions, real checker.

Two questions per category through ``toolwire eval bfcl`` (the full runs are benchmarks, not
tests). It checks the harness end to end, not the accuracy: a 2-question sample says nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

pytest.importorskip("bfcl_eval")
pytest.importorskip("llama_cpp")

from toolwire.eval.bfcl import CATEGORIES  # noqa: E402


def test_eval_bfcl_runs_every_category_on_the_embedded_model(tmp_path: Path) -> None:
    report = tmp_path / "bfcl.html"
    env = {**os.environ, "TOOLWIRE_HOME": str(tmp_path / "home")}
    args = [sys.executable, "-m", "toolwire", "eval", "bfcl", "--limit", "2", "--json"]
    proc = subprocess.run(
        [*args, "--report", str(report), "--model", "local:smollm2-135m"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(proc.stdout)
    assert data["strategy"] == "staged" and data["model"] == "local:smollm2-135m"
    assert list(data["categories"]) == list(CATEGORIES)
    for name, row in data["categories"].items():
        assert row["n"] == 2, name
        assert 0.0 <= row["accuracy"] <= 1.0 and row["p50_ms"] > 0
    assert data["overall"]["n"] == 2 * len(CATEGORIES)
    assert 0.0 <= data["overall"]["bfcl"]["live"]["accuracy"] <= 1.0
    assert report.read_text().count("<svg") == len(CATEGORIES) + 1  # + BFCL's live figure

    stored = list((tmp_path / "home" / "eval" / "bfcl").glob("*.jsonl"))
    assert len(stored) == 1
    assert len(stored[0].read_text().splitlines()) == 2 * len(CATEGORIES)
