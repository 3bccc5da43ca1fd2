"""The BFCL HTML report, from hand-made results (no model, no engine run)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from typer.testing import CliRunner

from toolwire.eval.bfcl import Benchmark, CaseResult, StrategyRun, overall, summarize
from toolwire.eval.commands import eval_app
from toolwire.eval.report import ANCHORS, bar_chart, render_report, write_report

QUESTION = "What is <script>alert(1)</script>?"


def _result(qid: str, category: str, valid: bool, **kw: object) -> CaseResult:
    return CaseResult(
        id=qid, category=category, model="m", strategy=str(kw.pop("strategy", "staged")),
        valid=valid, latency_ms=float(kw.pop("latency_ms", 100.0)), **kw,  # type: ignore[arg-type]
    )


def _run(strategy: str, results: list[CaseResult]) -> StrategyRun:
    categories = dict.fromkeys(r.category for r in results)
    return StrategyRun(
        strategy=strategy,
        results=results,
        scores={c: summarize(c, [r for r in results if r.category == c]) for c in categories},
    )


def _bench(split: str = "report") -> Benchmark:
    main = [
        _result("simple_python_1", "simple_python", True),
        _result(
            "simple_python_2", "simple_python", False,
            error_type="value_error:others", errors=["Invalid value for parameter 'x': 3."],
            prompt=QUESTION,
            expected=[{"math.hypot": {"x": [4], "y": [5]}}], got=[{"math.hypot": {"x": 3, "y": 5}}],
        ),
        _result("irrelevance_0", "irrelevance", False, error_type="irrelevance_error:decoder_success",
                got=[{"determine_body_mass_index": {"weight": 1.0, "height": 2.0}}]),
        _result("live_simple_0-0-0", "live_simple", True),
        _result("live_irrelevance_0-0-0", "live_irrelevance", True),
    ]
    base = [_result(r.id, r.category, False, strategy="plain", error_type="simple_function_checker:wrong_count")
            for r in main]
    return Benchmark(
        model="local:smollm2-135m", seed=0, limit=2,
        totals={"simple_python": 400, "irrelevance": 240, "live_simple": 258, "live_irrelevance": 884},
        main=_run("staged", main), baseline=_run("plain", base), split=split,
        fingerprints={"staged": "f1", "plain": "f2"},
    )


def test_a_chart_per_category_with_the_anchors() -> None:
    html = render_report(_bench())
    assert html.count("<svg") == 4 + 1  # four categories and BFCL's live figure
    for label, value in ANCHORS["simple_python"] + ANCHORS["irrelevance"]:
        assert label in html and f">{value:g}<" in html  # as published
    assert "toolwire (staged)" in html and "toolwire (plain)" in html


def test_a_tuning_split_report_lists_failing_questions_with_expected_and_got() -> None:
    html = render_report(_bench("tune"))
    assert "value_error:others" in html and "irrelevance_error:decoder_success" in html
    assert "simple_python_2" in html
    assert "&quot;x&quot;: [4]" in html and "&quot;x&quot;: 3" in html  # expected vs got
    assert "no call" in html  # the expected side of the irrelevance failure


def test_a_report_split_report_shows_figures_never_questions() -> None:
    for split in ("report", "all"):
        html = render_report(_bench(split))
        assert "value_error:others" in html  # error types are counted
        assert "alert(1)" not in html and "simple_python_2" not in html  # no text, no id
        assert "math.hypot" not in html and "determine_body_mass_index" not in html  # no calls
        assert "tuning split only" in html


def test_question_text_is_escaped_and_nothing_is_fetched() -> None:
    html = render_report(_bench("tune"))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "src=" not in html and "<link" not in html


def test_write_report_creates_folders(tmp_path: Path) -> None:
    path = write_report(tmp_path / "docs" / "reports" / "bfcl.html", _bench())
    assert path.read_text().startswith("<!doctype html>")


def test_bfcls_live_figure_is_weighted_by_dataset_size_without_irrelevance() -> None:
    bench = _bench()
    # live_simple 1/1 (258 of the 1,351 live AST questions); live irrelevance is not in it
    figures = overall(bench.main.scores, bench.totals)["bfcl"]
    assert abs(figures["live"]["accuracy"] - 258 / 1351) < 1e-6
    assert figures["live"]["not_scored"] == ["live_multiple", "live_parallel",
                                             "live_parallel_multiple"]
    assert figures["irrelevance"]["accuracy"] == 0.5  # mean of irrelevance 0 and live 1


def test_other_aggregates_are_named_as_not_bfcls() -> None:
    html = render_report(_bench())
    assert "BFCL, weighted as bfcl-eval: overall" in html
    assert "not BFCL figures: all 5 questions pooled 60.0%" in html
    assert "multi-turn (all of it; 30% of overall)" in html


def test_a_report_renders_again_from_its_figures(tmp_path: Path) -> None:
    bench = _bench("tune")
    figures = tmp_path / "bfcl.json"
    figures.write_text(json.dumps(bench.to_json()))
    report = tmp_path / "bfcl.html"
    result = CliRunner().invoke(
        eval_app, ["bfcl-report", str(figures), "--report", str(report), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == bench.to_json()
    html = report.read_text()
    assert "value_error:others" in html and "simple_python_2" not in html  # figures hold no questions
    assert html == render_report(replace(bench, main=replace(bench.main, results=[])))


def test_a_file_that_is_not_figures_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"model": "m"}')
    result = CliRunner().invoke(eval_app, ["bfcl-report", str(path)])
    assert result.exit_code == 2 and "not a BFCL run's figures" in result.output


def test_bar_chart_clamps_and_labels() -> None:
    svg = bar_chart("t", [("over", 130.0, "main"), ("under", -5.0, "anchor")])
    assert 'width="220.0"' in svg and 'width="0.0"' in svg
    assert "130.0" in svg
