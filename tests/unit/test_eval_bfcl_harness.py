"""The BFCL harness end to end on the scripted model: real BFCL questions, bfcl-eval's checker.

The oracle model answers each question with its ground truth (first accepted value of every
argument) as native tool calls; other scripted models answer wrongly or never call.
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

pytest.importorskip("bfcl_eval")

from toolwire.config import get_settings
from toolwire.eval import bfcl, checker
from toolwire.eval.commands import eval_app
from toolwire.models.base import Completion, ModelError, ToolCallRequest
from toolwire.models.scripted import Request, ScriptedModel
from toolwire.retrieval import ToolIndex

ORACLE_CATEGORIES = ("simple_python", "multiple", "parallel", "parallel_multiple", "live_simple")
THIS_MODULE = "tests.unit.test_eval_bfcl_harness"


# -- scripted models --------------------------------------------------------------------------


def _first_accepted(values: list[Any]) -> Any:
    """The first accepted value; ``None`` when the argument may be left out."""
    for value in values:
        if value != "":
            return _plain(value)
    return None


def _plain(value: Any) -> Any:
    if isinstance(value, dict):  # a nested dict of accepted values
        return {k: v for k, v in ((k, _first_accepted(v)) for k, v in value.items()) if v is not None}
    return value


def _truth_calls(truth: list[dict[str, Any]]) -> list[ToolCallRequest]:
    calls = []
    for i, item in enumerate(truth):
        for name, args in item.items():
            arguments = {k: _first_accepted(v) for k, v in args.items()}
            calls.append(
                ToolCallRequest(
                    id=f"call_{i}",
                    name=name,
                    arguments={k: v for k, v in arguments.items() if v is not None},
                )
            )
    return calls


@cache
def _answers() -> dict[tuple[str, frozenset[str]], list[dict[str, Any]]]:
    """Ground truth by (question, functions offered): the same question recurs across categories."""
    answers: dict[tuple[str, frozenset[str]], list[dict[str, Any]]] = {}
    for category in ORACLE_CATEGORIES:
        truth = checker.load_ground_truth(category)
        for entry in checker.load_entries(category):
            names = frozenset(f["name"] for f in entry["function"])
            answers[(entry["question"][0][-1]["content"], names)] = truth[entry["id"]]
    return answers


def _oracle(request: Request) -> Completion:
    if not request.tools:
        return Completion(text="done")
    offered = frozenset(t.name for t in request.tools)  # all of them: these questions have <= k
    truth = _answers().get((request.messages[-1].content, offered))
    return Completion(tool_calls=_truth_calls(truth) if truth else [])


def _off_by_one(request: Request) -> Completion:
    """The right function with every number one too big and every string changed."""
    completion = _oracle(request)
    for call in completion.tool_calls:
        call.arguments = {k: _spoil(v) for k, v in call.arguments.items()}
    return completion


def _spoil(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return value + " (wrong)"
    return value


def _always_first_tool(request: Request) -> Completion:
    tool = (request.tools or [None])[0]
    if tool is None:
        return Completion(text="done")
    return Completion(tool_calls=[ToolCallRequest(id="c1", name=tool.name, arguments={})])


def oracle_model() -> ScriptedModel:
    """Factory for ``--model scripted:tests.unit.test_eval_bfcl_harness:oracle_model``."""
    return ScriptedModel(_oracle, name="oracle")


async def _bench(model: ScriptedModel, categories: list[str], tmp_path: Path, **kw: Any) -> bfcl.Benchmark:
    store = kw.pop("store", None) or bfcl.ResultStore(tmp_path / "results")
    return await bfcl.benchmark(
        categories,
        model=model,
        model_name=model.name,
        strategy="native",
        limit=kw.pop("limit", 3),
        store=store,
        make_index=lambda: ToolIndex(embedder=None),  # keyword-only: offline and fast
        **kw,
    )


# -- scoring ----------------------------------------------------------------------------------


async def test_correct_answers_score_one(tmp_path: Path) -> None:
    bench = await _bench(oracle_model(), list(ORACLE_CATEGORIES), tmp_path)
    for name, score in bench.main.scores.items():
        assert (score.n, score.accuracy) == (3, 1.0), (name, bench.main.results)


async def test_wrong_answers_score_zero_with_the_checkers_error_types(tmp_path: Path) -> None:
    model = ScriptedModel(_off_by_one, name="off-by-one")
    bench = await _bench(model, ["simple_python", "parallel"], tmp_path)
    assert [s.accuracy for s in bench.main.scores.values()] == [0.0, 0.0]
    scored = [r for r in bench.main.results if r.got]  # spoiled enums are rejected, not made
    assert scored
    assert {r.error_type for r in scored} <= {
        "value_error:others",
        "value_error:string",
        "value_error:list/tuple",
        "parallel_function_checker_no_order:cannot_find_match",
    }


async def test_irrelevance_rewards_no_call(tmp_path: Path) -> None:
    silent = ScriptedModel(lambda r: Completion(text="I cannot help with that."), name="silent")
    bench = await _bench(silent, ["irrelevance", "simple_python"], tmp_path)
    assert bench.main.scores["irrelevance"].accuracy == 1.0
    assert bench.main.scores["simple_python"].accuracy == 0.0
    assert bench.main.scores["simple_python"].error_types == {
        "simple_function_checker:wrong_count": 3
    }


async def test_a_call_on_an_irrelevant_question_is_wrong(tmp_path: Path) -> None:
    eager = ScriptedModel(_always_first_tool, name="eager")
    bench = await _bench(eager, ["irrelevance"], tmp_path)
    score = bench.main.scores["irrelevance"]
    # Calls with invalid arguments are not made (as in the service), so only valid ones count.
    made = [r for r in bench.main.results if r.got]
    assert score.correct == score.n - len(made)
    assert all(r.error_type == "irrelevance_error:decoder_success" for r in made)
    assert all(r.rejected for r in bench.main.results if not r.got)


async def test_an_engine_failure_is_recorded_not_fatal(tmp_path: Path) -> None:
    def broken(request: Request) -> Completion:
        raise ModelError("scripted", "backend down")

    bench = await _bench(ScriptedModel(broken, name="broken"), ["simple_python"], tmp_path, limit=2)
    assert [r.error_type for r in bench.main.results] == ["engine:ModelError"] * 2
    assert "backend down" in bench.main.results[0].errors[0]


async def test_baseline_runs_the_same_questions(tmp_path: Path) -> None:
    bench = await _bench(oracle_model(), ["multiple"], tmp_path, baseline="native")
    assert bench.baseline is not None
    assert [r.id for r in bench.main.results] == [r.id for r in bench.baseline.results]


# -- resuming ---------------------------------------------------------------------------------


async def test_a_rerun_skips_questions_already_answered(tmp_path: Path) -> None:
    store = bfcl.ResultStore(tmp_path / "r")
    first = oracle_model()
    await _bench(first, ["simple_python", "irrelevance"], tmp_path, store=store)
    assert first.requests

    again = oracle_model()
    bench = await _bench(again, ["simple_python", "irrelevance"], tmp_path, store=store, limit=4)
    assert len(again.requests) == 2  # only the one new question per category
    assert bench.main.scores["simple_python"].n == 4

    fresh = oracle_model()
    await _bench(fresh, ["simple_python"], tmp_path, store=store, resume=False)
    assert len(fresh.requests) == 3


def test_the_store_survives_a_torn_last_line(tmp_path: Path) -> None:
    store = bfcl.ResultStore(tmp_path / "r")
    one = bfcl.CaseResult(id="a", category="c", model="m", strategy="s", valid=True)
    two = bfcl.CaseResult(id="b", category="c", model="m", strategy="s", valid=False)
    path = store.append(one)
    with path.open("a") as f:
        f.write('{"id": "torn", "categ')  # a run killed mid-write
    assert store.append(two) == path
    assert [r.key for r in store.load()] == [one.key, two.key]


# -- data -------------------------------------------------------------------------------------


def test_samples_are_seeded_and_keep_dataset_order() -> None:
    a = [c.id for c in bfcl.load_cases("live_multiple", limit=5, seed=1)]
    b = [c.id for c in bfcl.load_cases("live_multiple", limit=5, seed=1)]
    c = [c.id for c in bfcl.load_cases("live_multiple", limit=5, seed=2)]
    everything = [c.id for c in bfcl.load_cases("live_multiple")]
    assert a == b != c
    assert a == sorted(a, key=everything.index)
    assert len(everything) == 1053


def test_the_last_user_message_is_the_prompt_and_the_rest_history() -> None:
    prompt, history = bfcl.split_question(
        [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"},
            {"role": "user", "content": "weather in Paris?"},
        ]
    )
    assert prompt == "weather in Paris?"
    assert [(m.role, m.content) for m in history] == [
        ("system", "be brief"), ("user", "hi"), ("assistant", "hello")
    ]


def test_every_category_loads_and_registers() -> None:
    for category in bfcl.ALL_CATEGORIES:
        case = bfcl.load_cases(category, limit=1)[0]
        registry = bfcl.build_registry(case.functions)
        assert len(registry) == len(case.functions)


def test_an_unknown_category_is_a_clear_error() -> None:
    with pytest.raises(bfcl.EvalError, match="unknown BFCL category 'simple'"):
        bfcl.check_categories(["simple"])


# -- the command ------------------------------------------------------------------------------


def _cli(*args: str) -> Any:
    model = f"scripted:{THIS_MODULE}:oracle_model"
    return CliRunner().invoke(eval_app, ["bfcl", "--model", model, "--strategy", "native", *args])


def test_the_command_prints_json_and_writes_the_report(tmp_path: Path) -> None:
    report = tmp_path / "docs" / "bfcl.html"
    result = _cli("-c", "simple_python", "-c", "irrelevance", "-n", "2", "--json",
                  "--report", str(report))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["model"].startswith("scripted:") and data["strategy"] == "native"
    assert set(data["categories"]) == {"simple_python", "irrelevance"}
    row = data["categories"]["simple_python"]
    assert row["n"] == 2 and row["accuracy"] == 1.0 and isinstance(row["p50_ms"], float)
    assert data["overall"]["n"] == 4
    html = report.read_text()
    assert html.count("<svg") == 2 and "Qwen2.5-0.5B-Instruct" in html
    assert "http" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_the_command_with_baseline_prints_both(tmp_path: Path) -> None:
    result = _cli("-c", "multiple", "-n", "2", "--baseline", "--json")
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)["categories"]["multiple"]
    assert {"baseline_accuracy", "delta_points"} <= set(row)


def test_the_command_table_and_resume(tmp_path: Path) -> None:
    first = _cli("-c", "simple_python", "-n", "2")
    assert first.exit_code == 0, first.output
    assert "simple_python" in first.stdout and "100.0%" in first.stdout
    stored = list((get_settings().home / "eval" / "bfcl").glob("*.jsonl"))
    assert len(stored) == 1 and len(stored[0].read_text().splitlines()) == 2
    _cli("-c", "simple_python", "-n", "2")
    assert len(stored[0].read_text().splitlines()) == 2  # nothing answered twice


def test_the_command_refuses_an_unknown_category() -> None:
    result = _cli("-c", "nope")
    assert result.exit_code == 2
    assert "unknown BFCL category" in result.output


def test_the_command_refuses_an_unknown_strategy() -> None:
    result = CliRunner().invoke(eval_app, ["bfcl", "--strategy", "magic", "-n", "1",
                                           "--model", f"scripted:{THIS_MODULE}:oracle_model"])
    assert result.exit_code == 2
    assert "unknown strategy 'magic'" in result.output


def test_the_command_refuses_an_unknown_model() -> None:
    result = CliRunner().invoke(eval_app, ["bfcl", "-n", "1", "--model", "nosuch:thing"])
    assert result.exit_code == 2
    assert "unknown model provider" in result.output


async def test_a_question_the_gate_turned_away_is_asked_again_to_count_the_cost() -> None:
    from toolwire.models.base import ChoiceConstraint

    def flat(request: Request) -> Completion:  # every option alike: numbers go in order
        if isinstance(request.constraint, ChoiceConstraint):
            options = request.constraint.options
            return Completion(text=options[0], scores=dict.fromkeys(options, -1.0))
        return Completion(text="done")

    model = ScriptedModel(flat, supports_tools=False, supports_grammar=True)
    case = bfcl.Case(
        id="own_0", category="simple_python",
        messages=[{"role": "user", "content": "add 2 and 3"}],
        functions=[{"name": "add", "description": "Add two integers.", "parameters": {
            "type": "dict", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "required": ["a", "b"]}}],
        ground_truth=[{"add": {"a": [2], "b": [3]}}],
    )
    strict = bfcl.engine_config("staged")
    strict.relevance_threshold = strict.named_relevance_threshold = 2.0  # nothing is relevant
    strict.rules = replace(strict.rules, calibrated_relevance=False)  # by those thresholds
    result = await bfcl.answer_case(case, model=model, model_name="flat", strategy="staged",
                                    make_index=ToolIndex, config=strict)
    assert not result.valid and result.gated and result.ungated_valid is True
    score = bfcl.summarize("simple_python", [result])
    assert (score.gated, score.lost_to_gate) == (1, 1)

    result = await bfcl.answer_case(case, model=model, model_name="flat", strategy="staged",
                                    make_index=ToolIndex)
    assert result.valid and not result.gated and result.ungated_valid is None
