"""The everyday-sentence fixture of issue 22 (``bench/everyday_sentences.py``) and the pure
parts of its scoring (``bench/everyday.py``), without a model."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

from bench.bar import BAR, EXTRA
from bench.everyday import echoes, same_arguments, states_time, ungrounded_numbers
from bench.everyday_sentences import (
    CONVERSATIONS,
    SENTENCES,
    THAT,
    Call,
    Case,
    held_out,
)
from toolwire.builtin import BUILTIN_NAMES, default_registry

TURNS: tuple[Case, ...] = tuple(t for c in CONVERSATIONS for t in c.turns)
ISSUE_TABLE = (
    "what is 12 * 7", "How much is 345 plus 678?", "divide 144 by 12",
    "What is 60 mph in km/h?", "how many kilometers is 42 miles?", "How many pounds is 5 kg?",
    "How many euros is 120 dollars?", "convert 5000 yen into dollars",
    "If it's 9am in London, what time is it in Tokyo?", "Is it raining in Berlin?",
    "Who wrote Pride and Prejudice?", "Remind me to call mom tomorrow at 5pm",
    "current time in Los Angeles?", "whats the time in paris rn",
    "what's 30 degrees celsius in fahrenheit", "how many ounces in 2 pounds",
    "pls calculate 250 minus 75", "open spotify",
)
"""The sentences of issue 22's table: a measure already, so none is in the fixture."""


def _key(sentence: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", sentence.casefold()))


def _calls() -> list[Call]:
    cases = (*SENTENCES, *TURNS)
    return [call for c in cases for call in ((c.expected, *c.also) if c.expected else ())]


@pytest.fixture(scope="module")
def registry() -> Any:
    return default_registry()


def test_enough_sentences_and_conversations() -> None:
    assert len(SENTENCES) >= 150
    assert len(CONVERSATIONS) >= 20
    assert all(2 <= len(c.turns) <= 3 for c in CONVERSATIONS)


def test_every_tool_and_no_tool_in_both_styles() -> None:
    seen = Counter((c.tool, c.style) for c in SENTENCES)
    for tool in (*BUILTIN_NAMES, "none"):
        for style in ("texting", "polite"):
            assert seen[(tool, style)] >= 4, (tool, style)


@pytest.mark.parametrize("items", [SENTENCES, CONVERSATIONS], ids=["sentences", "conversations"])
def test_a_third_is_held_out_in_both_styles(items: tuple[Any, ...]) -> None:
    held = sum(c.split == "heldout" for c in items)
    assert abs(held / len(items) - 1 / 3) <= 0.05
    assert {(c.style, c.split) for c in items} == {
        (s, p) for s in ("texting", "polite") for p in ("tune", "heldout")}


def test_every_tool_is_held_out_in_proportion() -> None:
    for tool in (*BUILTIN_NAMES, "none"):
        cases = [c for c in SENTENCES if c.tool == tool]
        held = sum(c.split == "heldout" for c in cases)
        assert 0.2 <= held / len(cases) <= 0.45, tool


def test_a_conversation_is_split_whole() -> None:
    for conversation in CONVERSATIONS:
        assert {t.split for t in conversation.turns} == {conversation.split}
        assert {t.style for t in conversation.turns} == {conversation.style}


def test_the_split_rule_gives_one_of_each_three() -> None:
    items = [("a", f"sentence {i}") for i in range(7)] + [("b", "x"), ("b", "y")]
    flags = held_out(items)
    assert [sum(flags[i:i + 3]) for i in (0, 3)] == [1, 1]
    assert flags[6] is False  # a last run of one gives none
    assert sum(flags[7:]) == 1  # a last run of two gives one
    assert held_out(items) == flags


def test_every_expected_call_is_valid_for_the_real_registry(registry: Any) -> None:
    for call in _calls():
        tool = registry.get(call.name)
        arguments = {k: 1.0 if v == THAT else v for k, v in call.arguments.items()}
        assert tool.validate(tool.normalized(arguments)) == [], call


def test_every_expression_computes_and_every_zone_resolves() -> None:
    from toolwire.builtin.calculator import calculate
    from toolwire.builtin.clock import zone

    for call in _calls():
        if call.name == "calculate":
            calculate(call.arguments["expression"])
        for name in ("timezone", "from_timezone", "to_timezone"):
            if name in call.arguments:
                zone(call.arguments[name])


def test_no_sentence_of_the_bar_nor_the_issue_table() -> None:
    known = {_key(c.sentence) for c in (*BAR, *EXTRA)} | {_key(s) for s in ISSUE_TABLE}
    assert [c.sentence for c in (*SENTENCES, *TURNS) if _key(c.sentence) in known] == []


def test_no_duplicates() -> None:
    counts = Counter(_key(c.sentence) for c in (*SENTENCES, *TURNS))
    assert [s for s, n in counts.items() if n > 1] == []


# -- the scoring's pure parts ------------------------------------------------------------------
def test_every_expected_call_matches_itself(registry: Any) -> None:
    for call in _calls():
        tool = registry.get(call.name)
        assert same_arguments(tool, call.arguments, call.arguments), call


@pytest.mark.parametrize(("name", "got", "want", "same"), [
    ("calculate", {"expression": "7*12"}, {"expression": "12 * 7"}, True),
    ("calculate", {"expression": "84"}, {"expression": "12 * 7"}, False),  # a guess, not a sum
    ("calculate", {"expression": "12 + 7"}, {"expression": "12 * 7"}, False),
    ("get_time", {"timezone": "America/Los_Angeles"}, {"timezone": "Los Angeles"}, True),
    ("get_time", {"timezone": "Asia/Singapore"}, {"timezone": "Singapore"}, True),
    ("get_time", {"timezone": "UTC"}, {"timezone": "London"}, False),
    ("get_time", {"timezone": "Paris"}, {"timezone": "Berlin"}, False),
    ("get_time", {}, {"timezone": "UTC"}, True),
    ("convert_timezone", {"time": "2026-01-05T09:00", "from_timezone": "London",
                          "to_timezone": "Tokyo"},
     {"time": "09:00", "from_timezone": "Europe/London", "to_timezone": "Asia/Tokyo"}, True),
    ("convert_units", {"value": 5, "from_unit": "miles", "to_unit": "km"},
     {"value": 5, "from_unit": "mile", "to_unit": "kilometer"}, True),
    ("convert_units", {"value": 5, "from_unit": "kilometer", "to_unit": "mile"},
     {"value": 5, "from_unit": "mile", "to_unit": "kilometer"}, False),
    ("convert_currency", {"amount": 20, "from_currency": "dollars", "to_currency": "yen"},
     {"amount": 20, "from_currency": "USD", "to_currency": "JPY"}, True),
    ("get_weather", {"city": "paris, France"}, {"city": "Paris", "unit": "celsius"}, True),
    ("get_weather", {"city": "Paris", "unit": "fahrenheit"}, {"city": "Paris"}, False),
])
def test_arguments_compare_by_what_they_mean(registry: Any, name: str, got: dict[str, Any],
                                            want: dict[str, Any], same: bool) -> None:
    assert same_arguments(registry.get(name), got, want) is same


def test_answer_checks() -> None:
    assert states_time("It is 19:45 on Thursday in Tokyo.", "2026-12-03T19:45:00+09:00")
    assert states_time("It's 7:45 pm in Tokyo.", "2026-12-03T19:45:00+09:00")
    assert not states_time("It is 18:45 in Tokyo.", "2026-12-03T19:45:00+09:00")
    assert echoes("Remind me to call mom tomorrow at 5pm.", "remind me to call mom tomorrow at 5pm")
    assert echoes("10am london in dubai.", "10am london = ? in dubai")
    assert not echoes("No tool here can set reminders.", "remind me to call mom tomorrow at 5pm")
    assert not echoes("The result of 2 to the 16th power is 65536.", "2 to the 16th power")


def test_the_bench_grounds_answers_by_toolwire_grounding() -> None:
    class Call:
        name, arguments, error = "convert_currency", {"amount": 42}, None
        result = 131.9499

    assert ungrounded_numbers("42 US dollars is 131.95 (about 132) dollars.", "42 usd", [Call]) == []
    assert ungrounded_numbers("42 US dollars is 13.19 dollars.", "42 usd", [Call]) == ["13.19"]
    assert ungrounded_numbers("Twelve times seven: 12 and 7.", "twelve times seven", []) == []
