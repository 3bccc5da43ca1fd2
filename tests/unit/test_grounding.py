"""No number without a source: the numbers an answer may state (the sentence, the calls'
arguments, results and errors, at any depth), which written numbers a source explains (equal,
or rounded to fewer places), and the single values a sentence about a result must state."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext
from typing import Any

import httpx
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from toolwire.answer import generic_sentence, spoken, templated
from toolwire.builtin import register_builtins, weather
from toolwire.grounding import (
    Sources,
    single_value,
    sources,
    ungrounded,
    unstated,
)
from toolwire.retrieval import ToolIndex
from toolwire.run import CallResult
from toolwire.tools.dispatch import dispatch
from toolwire.tools.registry import Registry, Tool


def ok(name: str, result: Any, **arguments: Any) -> CallResult:
    return CallResult(id="c1", name=name, arguments=arguments, status="ok", result=result)


# -- generated results ------------------------------------------------------------------------
finite_floats = st.floats(allow_nan=False, allow_infinity=False)
numbers = st.one_of(st.integers(-(10**15), 10**15), finite_floats)
words = st.sampled_from(["JPY", "rate=", "at", "km", "v", "-", "T", ":", "e", ",", "."])
texts_with_numbers = st.lists(
    st.one_of(words, numbers.map(str), st.integers(0, 10**9).map(lambda n: f"{n:,}")),
    max_size=6,
).map(" ".join)
leaves = st.one_of(numbers, st.booleans(), st.none(), texts_with_numbers, st.text(max_size=20))
results = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.one_of(st.text(max_size=8), texts_with_numbers), inner, max_size=5),
    ),
    max_leaves=25,
)
arguments = st.dictionaries(st.from_regex(r"[a-z_]{1,10}", fullmatch=True), leaves, max_size=4)


@given(results)
def test_every_number_spoken_of_a_result_is_one_of_its_own(result: Any) -> None:
    assert ungrounded(spoken(result), Sources.of(result)) == []
    assert ungrounded(spoken(result, budget=7), Sources.of(result)) == []  # cut short


@given(results, arguments)
def test_the_generic_sentence_states_only_the_calls_numbers(
    result: Any, given_arguments: dict[str, Any],
) -> None:
    call = CallResult(id="c", name="lookup_v2", arguments=given_arguments, status="ok",
                      result=result)
    tool = Tool(name="lookup_v2", description="Look up the 2019 figures. More text 77.",
                parameters={"type": "object", "properties": {}})
    sentence = generic_sentence(tool, call)
    assert ungrounded(sentence, sources("", [call])) == [], sentence


def _plain_numbers(value: Any) -> Iterator[float]:
    """The numbers of a structure of numbers (the test's own reading, not the module's)."""
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _plain_numbers(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _plain_numbers(item)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield value


number_trees = st.recursive(
    numbers, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                     st.dictionaries(st.sampled_from("abcd"), inner, max_size=4)),
    max_leaves=12,
)


@given(number_trees, numbers)
def test_a_number_no_source_explains_is_reported(result: Any, seed: float) -> None:
    invented = int(abs(seed)) * 10 + 7
    assume(all(abs(abs(Decimal(n)) - invented) > 1 for n in _plain_numbers(result)))
    text = f"The rate is {invented}."
    assert ungrounded(text, Sources.of(result)) == [str(invented)]
    assert ungrounded(f"It is {invented:,} now.", Sources.of(result)) == [f"{invented:,}"]


@given(number_trees.filter(lambda tree: any(True for _ in _plain_numbers(tree))),
       st.integers(0, 6), st.data())
def test_any_source_rounded_to_fewer_places_is_accepted(
    result: Any, places: int, data: st.DataObject,
) -> None:
    value = data.draw(st.sampled_from(list(_plain_numbers(result))))
    as_written = Decimal(repr(value) if isinstance(value, float) else value)
    step = Decimal(1).scaleb(-places)
    with localcontext(prec=1000):
        shown = [
            f"{value:.{places}f}",
            str(as_written.quantize(step, rounding=ROUND_HALF_UP)),
            str(as_written.quantize(step, rounding=ROUND_HALF_EVEN)),
        ]
    for text in shown:
        assert ungrounded(f"It is {text} today.", Sources.of(result)) == [], text


# -- hand-picked ------------------------------------------------------------------------------
@pytest.mark.parametrize("text, source, verdict", [
    ("131.95", 131.9499, True), ("132", 131.9499, True), ("131.9", 131.9499, True),
    ("131.94", 131.9499, False),
    ("0.13", 0.125, True), ("0.12", 0.125, True), ("0.126", 0.125, False),
    ("42", 42.0, True), ("42.0", 42, True), ("42.00", 42, True), ("42.1", 42, False),
    ("1,221", 1221, True), ("1221", "1,221", True), ("1,221", 1222, False),
    ("1.5e3", 1500, True), ("1500", "1.5e3", True), ("1.5e-05", 0.000015, True),
    ("-5", 5, True), ("5", -5.0, True), ("minus 3.5", "-3.5 °C", True),
    ("3rd", 3, True), ("the 21st", "21", True), ("4th", 3, False),
    ("19:45", "2026-12-03T19:45:00+09:00", True), ("3 December 2026", "2026-12-03", True),
    ("+09:00", "2026-12-03T19:45:00+09:00", True), ("20:45", "2026-12-03T19:45:00", False),
    ("161.5 JPY", "161.5 JPY", True), ("rate 3", "rate=3", True),
    ("1.615", {"status": 200, "body": {"rate": 161.5}}, False),
])
def test_which_written_numbers_a_source_explains(text: str, source: Any, verdict: bool) -> None:
    assert (ungrounded(text, Sources.of(source)) == []) is verdict


def test_booleans_are_not_numbers() -> None:
    assert ungrounded("1 and 0", Sources.of(True, False, None)) == ["1", "0"]


def test_the_sentence_arguments_result_and_error_are_sources() -> None:
    failed = CallResult(id="f", name="get_v2", arguments={"city": "Berlin"}, status="error",
                        error={"type": "WeatherError", "message": "HTTP 503: busy"})
    rate = ok("get_rate", {"status": 200, "body": {"rate": 161.5}}, base="EUR", days=7)
    known = sources("convert twelve items, 42 of them", [failed, rate])
    assert ungrounded("12 items, 42, 503, v2, 7 days, 161.5 and 200.", known) == []
    assert ungrounded("It is 1.615.", known) == ["1.615"]


def test_a_single_value_must_be_stated() -> None:
    envelope = ok("get_rate", {"status": 200, "body": {"rate": 161.5}})
    assert single_value(envelope.result) == Decimal("161.5")
    assert unstated("The rate right now is 1.615.", [envelope]) == ["161.5"]
    assert unstated("The rate right now is 161.5 yen.", [envelope]) == []
    assert unstated("That is about 162 yen.", [envelope]) == []  # rounded is fine
    assert single_value(131.9499) == Decimal("131.9499")
    assert single_value("161.5 JPY") == Decimal("161.5")
    assert single_value({"city": "Paris", "temperature": 21}) == Decimal(21)
    assert single_value("2026-12-03T19:45:00+09:00") is None  # many numbers: none required
    assert single_value({"a": 1, "b": 2}) is None and single_value("sunny") is None
    assert single_value(True) is None
    failed = CallResult(id="f", name="x", arguments={}, status="error", result=5)
    assert unstated("Nothing.", [failed]) == []


# -- the built-in tools' templates on their real results ---------------------------------------
def builtin_registry() -> Registry:
    registry = Registry()
    registry.use_index(ToolIndex(embedder=None))
    return register_builtins(registry)


@pytest.fixture
def open_meteo() -> Iterator[Callable[[float, float], None]]:
    previous = weather._transport

    def install(temperature: float, wind: float) -> None:
        def answer(request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/search"):
                return httpx.Response(200, json={"results": [
                    {"name": "Paris", "latitude": 48.85341, "longitude": 2.3488,
                     "country": "France", "country_code": "FR"}]})
            return httpx.Response(200, json={"timezone": "Europe/Paris", "current": {
                "time": "2024-06-01T14:00", "temperature_2m": temperature,
                "apparent_temperature": temperature - 1.25, "relative_humidity_2m": 55,
                "weather_code": 99, "wind_speed_10m": wind}})

        weather.set_transport(httpx.MockTransport(answer))

    yield install
    weather.set_transport(previous)


BUILTIN_CALLS = [
    ("calculate", {"expression": "3 * (4 + 5)"}),
    ("calculate", {"expression": "sqrt(2)"}),
    ("calculate", {"expression": "2 ** 10 / 3"}),
    ("calculate", {"expression": "1 / 3000"}),
    ("convert_currency", {"amount": 42, "from_currency": "USD", "to_currency": "CAD"}),
    ("convert_currency", {"amount": 5000, "from_currency": "JPY", "to_currency": "USD"}),
    ("convert_currency", {"amount": 0.01, "from_currency": "JPY", "to_currency": "GBP"}),
    ("convert_units", {"value": 5, "from_unit": "mile", "to_unit": "kilometer"}),
    ("convert_units", {"value": 30, "from_unit": "celsius", "to_unit": "fahrenheit"}),
    ("convert_units", {"value": 2, "from_unit": "pound", "to_unit": "ounce"}),
    ("convert_units", {"value": 1, "from_unit": "millimeter", "to_unit": "mile"}),
    ("get_time", {"timezone": "Asia/Tokyo"}),
    ("get_time", {}),
    ("convert_timezone", {"time": "15:30", "from_timezone": "Europe/London",
                          "to_timezone": "Asia/Tokyo"}),
    ("convert_timezone", {"time": "2026-12-03T09:00", "from_timezone": "America/Los_Angeles",
                          "to_timezone": "Asia/Kolkata"}),
]


async def _templated_by_a_real_call(name: str, given_arguments: dict[str, Any]) -> None:
    registry = builtin_registry()
    outcome = await dispatch(registry, name, dict(given_arguments))
    assert outcome.status == "ok", outcome
    call = ok(name, outcome.result, **registry.get(name).normalized(dict(given_arguments)))
    text = templated(registry.get(name), call)
    assert text is not None, (name, outcome.result)
    assert ungrounded(text, sources("", [call])) == [], text


@pytest.mark.parametrize("name, given_arguments", BUILTIN_CALLS,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(BUILTIN_CALLS)])
async def test_every_builtin_template_states_only_the_calls_numbers(
    name: str, given_arguments: dict[str, Any],
) -> None:
    await _templated_by_a_real_call(name, given_arguments)


@pytest.mark.parametrize("temperature, wind", [(12.35, 11.25), (-3.0, 0.0), (21.0, 7.5)])
@pytest.mark.parametrize("unit", ["celsius", "fahrenheit"])
async def test_the_weather_template_states_only_the_reports_numbers(
    temperature: float, wind: float, unit: str, open_meteo: Callable[[float, float], None],
) -> None:
    open_meteo(temperature, wind)
    await _templated_by_a_real_call("get_weather", {"city": "Paris", "unit": unit})


def test_the_open_app_template_is_grounded() -> None:
    call = ok("open_app", {"app": "calculator", "launched": "gnome-calculator", "pid": 4242},
              app_name="calculator")
    assert templated(builtin_registry().get("open_app"), call) == "Opened calculator."
