"""`toolwire eval retrieval`: JSON shape, HTML report, bad input."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from toolwire.cli import app


def test_keywords_only_json_and_report(tmp_path: Path) -> None:
    report = tmp_path / "retrieval.html"
    result = CliRunner().invoke(
        app,
        ["eval", "retrieval", "--keywords-only", "--limit", "30", "--k", "1", "--k", "5",
         "--json", "--report", str(report)],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout[result.stdout.index("{"):])
    assert data["n"] == 30
    assert 0.0 <= data["recall@1"] <= data["recall@5"] <= 1.0
    assert "mrr" in data and "p50" in data["latency_ms"]
    assert report.read_text().count("<svg") >= 1


def test_bad_k_is_refused() -> None:
    result = CliRunner().invoke(app, ["eval", "retrieval", "--k", "0"])
    assert result.exit_code == 2


def test_the_split_narrows_bfcl_to_the_questions_of_that_split() -> None:
    from toolwire.eval.bfcl import in_split
    from toolwire.eval.retrieval import load_cases

    tune = sum(in_split(c.id, "tune") for c in load_cases())
    result = CliRunner().invoke(
        app, ["eval", "retrieval", "--keywords-only", "--split", "tune", "--k", "5", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout[result.stdout.index("{"):])["n"] == tune < 600
