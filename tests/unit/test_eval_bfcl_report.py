"""The BFCL HTML report, from hand-made results (no model, no engine run)."""

from __future__ import annotations

from pathlib import Path

from toolwire.eval.bfcl import Benchmark, CaseResult, StrategyRun, overall, summarize
from toolwire.eval.report import ANCHORS, bar_chart, render_report, write_report


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


def _bench() -> Benchmark:
    main = [
        _result("simple_python_1", "simple_python", True),
        _result(
            "simple_python_2", "simple_python", False,
            error_type="value_error:others", errors=["Invalid value for parameter 'x': 3."],
            prompt="What is <script>alert(1)</script>?",
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
        main=_run("staged", main), baseline=_run("plain", base),
    )


def test_a_chart_per_category_with_the_anchors() -> None:
    html = render_report(_bench())
    assert html.count("<svg") == 4 + 1  # four categories and the live aggregate
    for label, value in ANCHORS["simple_python"] + ANCHORS["irrelevance"] + ANCHORS["live"]:
        assert label in html and f">{value:g}<" in html  # as published
    assert "toolwire (staged)" in html and "toolwire (plain)" in html


def test_error_types_and_failing_cases_with_expected_and_got() -> None:
    html = render_report(_bench())
    assert "value_error:others" in html and "irrelevance_error:decoder_success" in html
    assert "simple_python_2" in html
    assert "&quot;x&quot;: [4]" in html and "&quot;x&quot;: 3" in html  # expected vs got
    assert "no call" in html  # the expected side of the irrelevance failure


def test_question_text_is_escaped_and_nothing_is_fetched() -> None:
    html = render_report(_bench())
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "src=" not in html and "<link" not in html


def test_write_report_creates_folders(tmp_path: Path) -> None:
    path = write_report(tmp_path / "docs" / "reports" / "bfcl.html", _bench())
    assert path.read_text().startswith("<!doctype html>")


def test_the_live_aggregate_is_weighted_by_dataset_size() -> None:
    bench = _bench()
    # live_simple 1/1 (258 questions), live_irrelevance 1/1 (884): both perfect
    assert overall(bench.main.scores, bench.totals)["live_accuracy"] == 1.0
    bench.main.scores["live_simple"].correct = 0
    expected = 884 / (258 + 884)
    assert abs(overall(bench.main.scores, bench.totals)["live_accuracy"] - expected) < 1e-4


def test_bar_chart_clamps_and_labels() -> None:
    svg = bar_chart("t", [("over", 130.0, "main"), ("under", -5.0, "anchor")])
    assert 'width="220.0"' in svg and 'width="0.0"' in svg
    assert "130.0" in svg
