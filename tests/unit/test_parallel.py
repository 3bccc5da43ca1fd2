"""Extra calls from later clauses: only for values the first call did not use."""

from __future__ import annotations

import pytest

from toolwire.builtin import default_registry
from toolwire.parallel import clauses, more_calls


@pytest.fixture(scope="module")
def registry():  # type: ignore[no-untyped-def]
    return default_registry()


def test_clauses_split_at_coordination() -> None:
    assert clauses("weather in Paris and London") == ["weather in Paris", "London"]
    assert clauses("open the calculator") == ["open the calculator"]


def test_same_function_for_another_city(registry) -> None:  # type: ignore[no-untyped-def]
    tool = registry.get("get_weather")
    extra = more_calls("What's the weather in Paris and London?", tool, {"city": "Paris"})
    assert extra == [{"city": "London"}]
    extra = more_calls(
        "weather in Paris in celsius and London in fahrenheit",
        tool,
        {"city": "Paris", "unit": "celsius"},
    )
    assert extra == [{"city": "London", "unit": "fahrenheit"}]


def test_varied_enum_and_numbers(registry) -> None:  # type: ignore[no-untyped-def]
    tool = registry.get("convert_currency")
    first = {"amount": 100, "from_currency": "USD", "to_currency": "EUR"}
    assert more_calls("Convert 100 USD to EUR and GBP", tool, first) == [
        {"amount": 100, "from_currency": "USD", "to_currency": "GBP"}
    ]
    assert more_calls("Convert 100 USD to EUR, 50 CAD to GBP and 7 to JPY", tool, first) == [
        {"amount": 50, "from_currency": "CAD", "to_currency": "GBP"},
        {"amount": 7, "from_currency": "USD", "to_currency": "JPY"},
    ]


def test_no_extra_call_when_the_clause_brings_nothing_new(registry) -> None:  # type: ignore[no-untyped-def]
    assert more_calls("Please, open the calculator", registry.get("open_app"),
                      {"app_name": "calculator"}) == []
    assert more_calls("find pizza and pasta places", registry.get("get_weather"),
                      {"city": "Paris"}) == []


def test_a_clause_naming_a_parameter_adds_to_the_same_call() -> None:
    from toolwire import Registry

    registry = Registry()
    registry.add_schema({"name": "displacement", "parameters": {"type": "object", "properties": {
        "initial_velocity": {"type": "number"}, "time": {"type": "number"},
        "acceleration": {"type": "number"}}, "required": ["initial_velocity", "time"]}})
    first = {"initial_velocity": 10, "time": 5, "acceleration": 9.8}
    question = "the initial velocity of 10 and acceleration of 9.8 within 5 seconds"
    assert more_calls(question, registry.get("displacement"), first) == []


def test_numeric_optionals_take_spare_numbers() -> None:
    from toolwire.staged import _with_numeric_optionals

    props = {"religion": {"type": "string"}, "century": {"type": "integer"},
             "count": {"type": "integer"}, "limit": {"type": "integer"}}
    from toolwire.extraction import numbers

    written = len(numbers("ten events in the 16th century"))
    chosen = _with_numeric_optionals(written, props, ["religion", "century"])
    assert chosen == ["religion", "century", "count"]
    written = len(numbers("events in the 16th century"))
    assert _with_numeric_optionals(written, props, ["religion", "century"]) == [
        "religion", "century"
    ]
