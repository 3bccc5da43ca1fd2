"""Sharded, resumable BFCL runs whose per-question results can live in the repository.

The scripted oracle model of ``test_eval_bfcl_harness`` answers; keyword-only retrieval keeps
everything offline. Each test counts the model's requests to see what was answered again.
"""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

pytest.importorskip("bfcl_eval")

from tests.unit.test_eval_bfcl_harness import oracle_model
from toolwire.config import get_settings
from toolwire.eval import bfcl
from toolwire.eval.commands import eval_app
from toolwire.eval.results import (
    FINGERPRINT_SOURCES,
    PACKAGE,
    CaseResult,
    EvalError,
    ResultStore,
    Shard,
    code_fingerprint,
    shard_of,
)
from toolwire.models.scripted import ScriptedModel
from toolwire.retrieval import ToolIndex

THIS_MODULE = "tests.unit.test_eval_shards"
CATEGORIES = ["simple_python", "irrelevance"]


async def _bench(model: ScriptedModel, store: ResultStore, **kw: Any) -> bfcl.Benchmark:
    return await bfcl.benchmark(
        kw.pop("categories", CATEGORIES),
        model=model,
        model_name="oracle",
        strategy="native",
        limit=kw.pop("limit", 6),
        store=store,
        make_index=lambda: ToolIndex(embedder=None),  # keyword-only: offline and fast
        **kw,
    )


def _ids(bench: bfcl.Benchmark) -> set[str]:
    return {r.id for r in bench.main.results}


# -- shards -----------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 7])
def test_shards_are_disjoint_and_cover_the_selection(count: int) -> None:
    everything = bfcl.load_cases("live_multiple")
    selected = {c.id for c in bfcl.select(everything, split="report")}
    parts = [
        {c.id for c in bfcl.select(everything, split="report", shard=Shard(index=i, count=count))}
        for i in range(1, count + 1)
    ]
    assert set().union(*parts) == selected
    assert all(not a & b for a, b in combinations(parts, 2))
    assert all(parts)  # with 5 parts too: the hash is not the tuning split's


def test_a_question_keeps_its_shard_whatever_else_is_selected() -> None:
    everything = bfcl.load_cases("multiple")
    half = Shard(index=2, count=3)
    small = {c.id for c in bfcl.select(everything, limit=20, shard=half)}
    whole = {c.id for c in bfcl.select(everything, shard=half)}
    assert small and small <= whole
    # Stable across versions: committed results are split by these values.
    assert [shard_of(i, 4) for i in ("simple_python_0", "irrelevance_7")] == [2, 1]


def test_parsing_a_shard() -> None:
    shard = Shard.parse(" 2/4 ")
    assert (shard.index, shard.count, str(shard), shard.label) == (2, 4, "2/4", "shard-2-of-4")
    for bad in ("0/4", "5/4", "x", "1/0", "2/4/1", "", "-1/4", "1/"):
        with pytest.raises(EvalError, match="--shard must be I/N"):
            Shard.parse(bad)


async def test_two_shards_resume_into_one_directory(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "docs" / "eval" / "bfcl")
    first, second = oracle_model(), oracle_model()
    one = await _bench(first, store, shard=Shard.parse("1/2"))
    two = await _bench(second, store, shard=Shard.parse("2/2"))
    assert _ids(one) and _ids(two) and not _ids(one) & _ids(two)
    assert [p.name for p in store.files()] == [
        "oracle.native.shard-1-of-2.jsonl",
        "oracle.native.shard-2-of-2.jsonl",
    ]

    again = oracle_model()  # the whole selection: every question is in one file or the other
    whole = await _bench(again, store)
    assert again.requests == []
    assert _ids(whole) == _ids(one) | _ids(two)
    assert all(s.n == s.selected == 6 and s.accuracy == 1.0 for s in whole.main.scores.values())

    bigger = oracle_model()  # a larger sample answers only what is new, into its own file
    await _bench(bigger, store, limit=8)
    assert store.files()[0].name == "oracle.native.jsonl"
    assert len(store.path_for("oracle", "native").read_text().splitlines()) == 2 * 2


async def test_a_stale_result_is_answered_again_unless_kept(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "r")
    await _bench(oracle_model(), store, fingerprint="old-engine")
    assert {r.fingerprint for r in store.load()} == {"old-engine"}

    kept = oracle_model()
    bench = await _bench(kept, store, fingerprint="new-engine", keep_stale=True)
    assert kept.requests == []
    assert [s.stale for s in bench.main.scores.values()] == [6, 6]
    assert "stale results counted: 12" in bfcl.staleness(bench.main)

    fresh = oracle_model()
    bench = await _bench(fresh, store, fingerprint="new-engine")
    assert fresh.requests  # every question asked again
    scores = bench.main.scores.values()
    assert [(s.n, s.stale, s.stale_unused) for s in scores] == [(6, 0, 6), (6, 0, 6)]
    assert "stale results answered again: 12" in bfcl.staleness(bench.main)

    fresh_again = oracle_model()  # now the new results are found, and win over the old
    bench = await _bench(fresh_again, store, fingerprint="new-engine", keep_stale=True)
    assert fresh_again.requests == []
    assert [s.stale for s in bench.main.scores.values()] == [0, 0]


async def test_results_record_the_engines_fingerprint_and_commit(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "r")
    bench = await _bench(oracle_model(), store, categories=["irrelevance"], limit=1)
    stored = store.load()
    assert stored[0].fingerprint == bfcl.fingerprint_of("oracle", "native") != ""
    assert bench.fingerprints == {"native": stored[0].fingerprint}
    assert stored[0].commit == bench.commit  # "" outside a git checkout
    assert code_fingerprint("oracle") != code_fingerprint("other-model")
    assert code_fingerprint("oracle", config="k=5") != code_fingerprint("oracle", config="k=6")
    assert bfcl.fingerprint_of("oracle", "native") != bfcl.fingerprint_of("oracle", "staged")
    for name in FINGERPRINT_SOURCES:  # a renamed source would silently drop out of the hash
        assert (PACKAGE / name).exists(), name


async def test_a_torn_line_left_by_a_killed_run_is_answered_again(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "r")
    shard = Shard.parse("1/1")
    await _bench(oracle_model(), store, shard=shard)
    path = store.path_for("oracle", "native", shard)
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:40])  # killed mid-write
    torn_id = json.loads(lines[-1])["id"]

    again = oracle_model()
    bench = await _bench(again, store, shard=shard)
    assert len(again.requests) >= 1 and torn_id in _ids(bench)
    assert all(s.n == 6 and s.accuracy == 1.0 for s in bench.main.scores.values())
    assert len(store.load()) == 12 and path.read_text().endswith("}\n")


def test_the_store_skips_what_it_cannot_read(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    known = {"id": "a", "category": "c", "model": "m", "strategy": "s", "valid": True}
    (tmp_path / "old.jsonl").write_text(
        "\n".join(
            [
                json.dumps(known),  # before fingerprints: stale
                json.dumps({**known, "id": "b", "added_later": 1}),  # a field from a newer version
                json.dumps([1, 2]),
                json.dumps({"id": "no category"}),
                "",
                '{"id": "torn',
            ]
        )
    )
    (tmp_path / "notes.txt").write_text("not a result file")
    assert [(r.id, r.fingerprint) for r in store.load()] == [("a", ""), ("b", "")]
    assert store.reusable("m", "s", fingerprint="now") == {}
    assert set(store.reusable("m", "s", fingerprint="now", keep_stale=True)) == {("c", "a"), ("c", "b")}
    assert store.load("m", "other") == []


def test_result_files_are_named_by_model_strategy_and_shard(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    assert store.path_for("local:smollm2-135m", "staged").name == "local_smollm2-135m.staged.jsonl"
    assert store.path_for("openai:gpt/4o", "plain", Shard(index=3, count=8)).name == (
        "openai_gpt_4o.plain.shard-3-of-8.jsonl"
    )
    result = CaseResult(id="a", category="c", model="m", strategy="s", valid=True)
    assert store.append(result, shard=Shard(index=1, count=2)).name == "m.s.shard-1-of-2.jsonl"


# -- the command ------------------------------------------------------------------------------


def _cli(*args: str) -> Any:
    model = f"scripted:{THIS_MODULE}:oracle_model"
    return CliRunner().invoke(eval_app, ["bfcl", "--model", model, "--strategy", "native",
                                         "-c", "simple_python", "-c", "irrelevance", "-n", "4",
                                         *args])


def _summary(*args: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``--summary-only``, with loading a model an error."""

    def load_model(name: str) -> None:
        raise AssertionError(f"--summary-only loaded {name}")

    with monkeypatch.context() as patch:
        patch.setattr("toolwire.models.load_model", load_model)
        return _cli("--summary-only", *args)


@pytest.mark.parametrize("bad", ["0/4", "5/4", "x", "1/0"])
def test_a_bad_shard_is_a_usage_error(bad: str, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _summary("--shard", bad, monkeypatch=monkeypatch)  # refused before any model
    assert result.exit_code == 2, result.output
    assert "--shard must be I/N" in result.output


def test_sharded_runs_into_a_results_directory_then_a_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = tmp_path / "docs" / "eval" / "bfcl"
    summary = _summary("--results", str(results), "--json", monkeypatch=monkeypatch)
    assert summary.exit_code == 0, summary.output
    data = json.loads(summary.stdout)
    assert data["answered"] is False
    assert [(r["n"], r["selected"]) for r in data["categories"].values()] == [(0, 4), (0, 4)]

    for part in ("1/3", "2/3", "3/3"):
        run = _cli("--results", str(results), "--shard", part, "--json")
        assert run.exit_code == 0, run.output
        assert json.loads(run.stdout)["shard"] == part
    assert len(list(results.glob("*.shard-*-of-3.jsonl"))) >= 2
    assert not (get_settings().home / "eval").exists()  # nothing under TOOLWIRE_HOME

    summary = _summary("--results", str(results), monkeypatch=monkeypatch)
    assert summary.exit_code == 0, summary.output
    assert "stored results" in summary.stdout and "100.0%" in summary.stdout
    assert "of 4" not in summary.stdout  # every selected question answered
    data = json.loads(_summary("--results", str(results), "--json", monkeypatch=monkeypatch).stdout)
    assert [(r["n"], r["selected"]) for r in data["categories"].values()] == [(4, 4), (4, 4)]
    assert data["overall"] | {"n": 8, "selected": 8, "pooled_accuracy": 1.0, "stale": 0} == (
        data["overall"]
    )


def test_the_summary_counts_stale_results_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = tmp_path / "results"
    assert _cli("--results", str(results)).exit_code == 0
    (path,) = results.glob("*.jsonl")
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows[0]["fingerprint"] = "an-older-engine"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))

    report = tmp_path / "bfcl.html"
    summary = _summary("--results", str(results), "--report", str(report), monkeypatch=monkeypatch)
    assert summary.exit_code == 0, summary.output
    assert "3 of 4" in summary.stdout
    assert "questions left out, their results stale: 1" in summary.stdout
    html = report.read_text()
    assert ">3 of 4<" in html and "their results stale: 1" in html and "nothing answered" in html
    kept = _summary("--results", str(results), "--keep-stale", "--json", monkeypatch=monkeypatch)
    overall = json.loads(kept.stdout)["overall"]
    assert (overall["n"], overall["stale"], overall["stale_unused"]) == (8, 1, 0)


def test_compacting_keeps_the_last_line_of_each_question(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    old = CaseResult(id="a", category="c", model="m", strategy="s", valid=False, fingerprint="1")
    other = CaseResult(id="b", category="c", model="m", strategy="s", valid=True, fingerprint="1")
    new = CaseResult(id="a", category="c", model="m", strategy="s", valid=True, fingerprint="2")
    path = store.append(old)
    for result in (other, new):
        store.append(result)
    with path.open("a") as f:
        f.write('{"id": "torn\n')
    assert store.compact(path) == 2  # a's older line and the torn one
    assert [(r.id, r.fingerprint) for r in store.load()] == [("b", "1"), ("a", "2")]
    assert store.compact(path) == 0 and store.compact(tmp_path / "absent.jsonl") == 0


def test_only_tuning_questions_are_stored_with_their_text(tmp_path: Path) -> None:
    ids = [f"simple_python_{i}" for i in range(20)]
    tune = next(i for i in ids if bfcl.in_split(i, "tune"))
    report = next(i for i in ids if bfcl.in_split(i, "report"))
    store = ResultStore(tmp_path)
    whole = {"prompt": "weather in Paris?", "expected": [{"get_weather": {"city": ["Paris"]}}],
             "errors": ["Expected one of ['Paris']"], "got": [{"get_weather": {"city": "Rome"}}]}
    for case_id in (tune, report):
        store.append(CaseResult(id=case_id, category="simple_python", model="m", strategy="s",
                                valid=False, error_type="value_error:string", **whole))
    stored = {r.id: r for r in store.load()}
    assert stored[tune].prompt == "weather in Paris?" and stored[tune].expected
    assert (stored[report].prompt, stored[report].expected, stored[report].errors) == ("", None, [])
    assert stored[report].got == whole["got"] and stored[report].error_type == "value_error:string"
    path = store.files()[0]  # a file written before: compacting strips the report question
    path.write_text("".join(json.dumps({"id": i, "category": "simple_python", "model": "m",
                                        "strategy": "s", "valid": False, **whole}) + "\n"
                            for i in (tune, report)))
    store.compact(path)
    assert [r.prompt for r in store.load()] == ["weather in Paris?", ""]


def test_a_run_into_a_results_directory_leaves_one_line_per_question(tmp_path: Path) -> None:
    results = tmp_path / "results"
    for _ in range(2):  # the second run reuses every result and appends nothing
        assert _cli("--results", str(results), "--shard", "1/1").exit_code == 0
    lines = [line for path in results.glob("*.jsonl") for line in path.read_text().splitlines()]
    ids = [json.loads(line)["id"] for line in lines]
    assert len(ids) == len(set(ids)) == 8


def test_fitted_weights_are_part_of_the_fingerprint() -> None:
    from toolwire.eval.results import PACKAGE, _source_files

    sources = {p.relative_to(PACKAGE).as_posix() for p in _source_files(PACKAGE)}
    assert "strategies/staged/relevance.json" in sources  # a refit changes answers
    assert "strategies/staged/selection.json" in sources
    assert "strategies/staged/select.py" in sources
