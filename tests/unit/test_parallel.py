"""Extra calls from later clauses: only for values the first call did not use."""

from __future__ import annotations

import pytest

from toolwire.builtin import default_registry
from toolwire.strategies.staged.segments import clauses, more_calls, number_sets
from toolwire.text.reading import read


@pytest.fixture(scope="module")
def registry():  # type: ignore[no-untyped-def]
    return default_registry()


def test_clauses_split_at_coordination() -> None:
    assert clauses(read("weather in Paris and London")) == ["weather in Paris", "London"]
    assert clauses(read("open the calculator")) == ["open the calculator"]


def test_same_function_for_another_city(registry) -> None:  # type: ignore[no-untyped-def]
    tool = registry.get("get_weather")
    extra = more_calls(read("What's the weather in Paris and London?"), tool, {"city": "Paris"})
    assert extra == [{"city": "London"}]
    extra = more_calls(
        read("weather in Paris in celsius and London in fahrenheit"),
        tool,
        {"city": "Paris", "unit": "celsius"},
    )
    assert extra == [{"city": "London", "unit": "fahrenheit"}]


def test_varied_enum_and_numbers(registry) -> None:  # type: ignore[no-untyped-def]
    tool = registry.get("convert_currency")
    first = {"amount": 100, "from_currency": "USD", "to_currency": "EUR"}
    assert more_calls(read("Convert 100 USD to EUR and GBP"), tool, first) == [
        {"amount": 100, "from_currency": "USD", "to_currency": "GBP"}
    ]
    assert more_calls(read("Convert 100 USD to EUR, 50 CAD to GBP and 7 to JPY"), tool, first) == [
        {"amount": 50, "from_currency": "CAD", "to_currency": "GBP"},
        {"amount": 7, "from_currency": "USD", "to_currency": "JPY"},
    ]


def test_no_extra_call_when_the_clause_brings_nothing_new(registry) -> None:  # type: ignore[no-untyped-def]
    assert more_calls(read("Please, open the calculator"), registry.get("open_app"),
                      {"app_name": "calculator"}) == []
    assert more_calls(read("find pizza and pasta places"), registry.get("get_weather"),
                      {"city": "Paris"}) == []


def test_a_clause_naming_a_parameter_adds_to_the_same_call() -> None:
    from toolwire import Registry

    registry = Registry()
    registry.add_schema({"name": "displacement", "parameters": {"type": "object", "properties": {
        "initial_velocity": {"type": "number"}, "time": {"type": "number"},
        "acceleration": {"type": "number"}}, "required": ["initial_velocity", "time"]}})
    first = {"initial_velocity": 10, "time": 5, "acceleration": 9.8}
    question = "the initial velocity of 10 and acceleration of 9.8 within 5 seconds"
    assert more_calls(read(question), registry.get("displacement"), first) == []


def test_numeric_optionals_take_spare_numbers() -> None:
    from toolwire.strategies.staged.rules.mention import with_numeric_optionals

    props = {"religion": {"type": "string"}, "century": {"type": "integer"},
             "count": {"type": "integer"}, "limit": {"type": "integer"}}
    chosen = with_numeric_optionals(read("ten events in the 16th century"), props,
                                    ["religion", "century"])
    assert chosen == ["religion", "century", "count"]
    assert with_numeric_optionals(read("events in the 16th century"), props,
                                  ["religion", "century"]) == ["religion", "century"]


def _numeric_tool(name: str, *params: str, extra: dict | None = None):  # type: ignore[no-untyped-def,type-arg]
    from toolwire import Registry

    registry = Registry()
    props = {p: {"type": "number"} for p in params} | (extra or {})
    registry.add_schema({"name": name, "parameters": {
        "type": "object", "properties": props, "required": list(props)}})
    return registry.get(name)


def test_sets_of_numbers_cut_the_sentence_into_one_segment_per_call() -> None:
    bmi = _numeric_tool("bmi", "weight_kg", "height_m")
    question = ("John weighs 85 kilograms and is 1.8 meters tall, and Sarah weighs 60 kilograms "
                "and is 1.65 meters tall. Mike weighs 75 kilograms and is 1.7 meters tall.")
    found = number_sets(read(question), bmi)
    assert found is not None and len(found) == 3
    segments = [s.text for s in found]
    assert "85" in segments[0] and "1.8" in segments[0] and "60" not in segments[0]
    assert "60" in segments[1] and "1.65" in segments[1]
    assert segments[2].startswith("Mike weighs 75")
    assert [n.value for n in found[1].numbers] == [60.0, 1.65]  # the part's own numbers
    pyth = _numeric_tool("pythagoras", "a", "b")  # "two" is a number word, not a side
    two = number_sets(read("The two side lengths: 3 and 4, 5 and 12."), pyth)
    assert two is not None and [s.text for s in two] == [
        "The two side lengths: 3 and 4, ", "5 and 12."]


def test_one_set_of_numbers_or_unlike_numbers_make_one_call() -> None:
    area = _numeric_tool("area", "base", "height")
    assert number_sets(read("the area of a triangle with base 10 and height 5"), area) is None
    top = _numeric_tool("top_songs", "count")
    assert number_sets(read("play the top 10 songs from 2023"), top) is None


def test_a_place_after_a_comma_belongs_to_the_place_before(registry) -> None:  # type: ignore[no-untyped-def]
    tool = registry.get("get_weather")
    assert more_calls(read("Im at Riga, Latvia, can you tell me the temperature?"), tool,
                      {"city": "Riga"}) == []
    assert more_calls(read("weather in Paris and London"), tool, {"city": "Paris"}) == [
        {"city": "London"}]


def test_a_clause_holding_the_first_calls_values_adds_no_call(registry) -> None:  # type: ignore[no-untyped-def]
    tool = registry.get("get_weather")
    question = "weather for the next 10 days, at the coordinates of Paris"
    assert more_calls(read(question), tool, {"city": "Paris"}) == []
    question = "weather in New York in December, with the temperature in Celsius"
    assert more_calls(read(question), tool, {"city": "New York", "unit": "celsius"}) == []


def _bare(*names: str) -> list:  # type: ignore[type-arg]
    from toolwire import Registry

    registry = Registry()
    for name in names:
        registry.add_schema({"name": name, "parameters": {"type": "object", "properties": {}}})
    return [registry.get(n) for n in names]


def test_clauses_naming_different_functions_become_segments() -> None:
    from toolwire.strategies.staged.segments import tool_segments

    gcd, lcm = _bare("gcd", "lcm")
    question = "the GCD of 96 and 128, and the least common multiple (LCM) of 15 and 25."
    parts = tool_segments(read(question), gcd, [gcd, lcm])
    assert [(t.name, part.text) for t, part in parts] == [
        ("gcd", "the GCD of 96 and 128, and "),
        ("lcm", "the least common multiple (LCM) of 15 and 25."),
    ]
    humidity, temperature = _bare("weather.humidity_forecast", "weather.temperature")
    one = "What is the humidity level in Miami, Florida in the upcoming 7 days?"
    assert tool_segments(read(one), humidity, [humidity, temperature]) == []
