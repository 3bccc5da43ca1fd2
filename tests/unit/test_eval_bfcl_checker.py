"""The bfcl-eval checker adapter: real BFCL data, scored by bfcl-eval's own ast_checker."""

from __future__ import annotations

import sys

import pytest

pytest.importorskip("bfcl_eval")

from toolwire.eval import checker


def _entry(category: str, qid: str) -> tuple[list[dict], list[dict]]:
    entries = {e["id"]: e for e in checker.load_entries(category)}
    return entries[qid]["function"], checker.load_ground_truth(category)[qid]


def test_a_correct_call_is_valid() -> None:
    functions, truth = _entry("simple_python", "simple_python_1")
    verdict = checker.check(
        category="simple_python",
        functions=functions,
        calls=[{"math.factorial": {"number": 5}}],
        ground_truth=truth,
    )
    assert verdict.valid and verdict.error_type is None


def test_a_wrong_value_gets_the_checkers_error_type() -> None:
    functions, truth = _entry("simple_python", "simple_python_1")
    verdict = checker.check(
        category="simple_python",
        functions=functions,
        calls=[{"math.factorial": {"number": 6}}],
        ground_truth=truth,
    )
    assert not verdict.valid
    assert verdict.error_type == "value_error:others"
    assert "6" in verdict.errors[0]


def test_function_names_keep_their_dots() -> None:
    functions, truth = _entry("simple_python", "simple_python_1")
    verdict = checker.check(
        category="simple_python",
        functions=functions,
        calls=[{"math_factorial": {"number": 5}}],
        ground_truth=truth,
    )
    assert verdict.error_type == "simple_function_checker:wrong_func_name"


def test_parallel_calls_match_in_any_order() -> None:
    functions, truth = _entry("parallel", "parallel_0")
    calls = [
        {"spotify.play": {"artist": "Maroon 5", "duration": 15}},
        {"spotify.play": {"artist": "Taylor Swift", "duration": 20}},
    ]
    ok = checker.check(category="parallel", functions=functions, calls=calls, ground_truth=truth)
    short = checker.check(
        category="parallel", functions=functions, calls=calls[:1], ground_truth=truth
    )
    assert ok.valid
    assert short.error_type == "parallel_function_checker_no_order:wrong_count"


@pytest.mark.parametrize("category", ["irrelevance", "live_irrelevance"])
def test_irrelevance_no_call_is_correct_and_a_call_is_not(category: str) -> None:
    functions = checker.load_entries(category)[0]["function"]
    none = checker.check(category=category, functions=functions, calls=[], ground_truth=None)
    some = checker.check(
        category=category, functions=functions, calls=[{functions[0]["name"]: {}}], ground_truth=None
    )
    assert none.valid
    assert not some.valid and some.error_type == "irrelevance_error:decoder_success"


def test_relevance_needs_a_call() -> None:
    functions = checker.load_entries("live_relevance")[0]["function"]
    none = checker.check(category="live_relevance", functions=functions, calls=[], ground_truth=None)
    some = checker.check(
        category="live_relevance",
        functions=functions,
        calls=[{functions[0]["name"]: {}}],
        ground_truth=None,
    )
    assert not none.valid and none.error_type == "relevance_error:decoder_failed"
    assert some.valid


def test_malformed_output_is_a_format_error_not_a_crash() -> None:
    functions, truth = _entry("simple_python", "simple_python_1")
    verdict = checker.check(
        category="simple_python",
        functions=functions,
        calls=[{"math.factorial": 5}],  # type: ignore[dict-item]
        ground_truth=truth,
    )
    assert verdict.error_type == "ast_decoder:decoder_wrong_output_format"


def test_the_model_config_stub_answers_any_model_name() -> None:
    stub = sys.modules["bfcl_eval.constants.model_config"]
    assert stub.MODEL_CONFIG_MAPPING["anything/at-all"].underscore_to_dot is False


def test_ground_truth_is_keyed_by_question_id() -> None:
    truth = checker.load_ground_truth("multiple")
    assert len(truth) == len(checker.load_entries("multiple")) == 200
    assert checker.load_ground_truth("irrelevance") == {}
