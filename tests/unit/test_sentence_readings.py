"""What a sentence settles by itself: the arithmetic it asks for, which way it converts, the
places it names; and the staged strategy acting on them (a scripted model, no model load)."""

from __future__ import annotations

import json

import pytest

from tests.unit.test_pipeline import staged_model
from toolwire.builtin import default_registry
from toolwire.engine import Engine
from toolwire.messages import Message, ToolCallRequest
from toolwire.pipeline import EngineConfig
from toolwire.run import Run
from toolwire.strategies import StagedRules
from toolwire.strategies.staged.followup import elliptical
from toolwire.strategies.staged.settled import expression_parameter
from toolwire.text.arithmetic import MAX_TOKENS, expression, words_to_digits
from toolwire.text.places import place_mentions
from toolwire.text.reading import read


@pytest.mark.parametrize(("sentence", "expected"), [
    ("what is 12 * 7", "12 * 7"),
    ("How much is 345 plus 678?", "345 + 678"),
    ("divide 144 by 12", "144 / 12"),
    ("pls calculate 250 minus 75", "250 - 75"),
    ("twelve times seven", "12 * 7"),
    ("what is 2^10", "2 ^ 10"),
    ("2 to the power of 10", "2 ^ 10"),
    ("square root of 144", "sqrt(144)"),
    ("whats 15% of 80", "15 / 100 * 80"),
    ("20 percent of 150", "20 / 100 * 150"),
    ("subtract 5 from 20", "20 - 5"),
    ("the sum of 3, 4 and 5", "3 + 4 + 5"),
    ("average of 3, 4 and 8", "(3 + 4 + 8) / 3"),
    ("3 x 4", "3 * 4"),
    ("(2 + 3) * 4", "(2 + 3) * 4"),
    ("what is three hundred and forty-five plus twenty", "345 + 20"),
    ("5 squared", "5 ^ 2"),
    ("-5 + 3", "-5 + 3"),
    ("1,200 divided by 4", "1200 / 4"),
    ("what is 12 * 7!", "12 * 7"),
])
def test_arithmetic_is_read_from_symbols_and_words(sentence: str, expected: str) -> None:
    assert expression(sentence) == expected


@pytest.mark.parametrize("sentence", [
    "What is 60 mph in km/h?", "convert 3/4 cup to ml", "meeting on 2024-05-01",
    "Convert 42 USD to CAD", "COVID-19 cases", "how many kilometers is 42 miles",
    "I have 3 apples and 4 pears", "what times does the store open",
])
def test_no_arithmetic_where_none_is_asked(sentence: str) -> None:
    assert expression(sentence) is None


def test_number_words_become_digits() -> None:
    assert words_to_digits("forty-two and a hundred") == "42 and 100"
    assert words_to_digits("a dozen eggs") == "a dozen eggs"


@pytest.mark.parametrize(("sentence", "amount", "source", "target"), [
    ("how many kilometers is 42 miles?", "42", "miles", "kilometers"),
    ("How many pounds is 5 kg?", "5", "kg", "pounds"),
    ("How many euros is 120 dollars?", "120", "dollars", "euros"),
    ("convert 5000 yen into dollars", "5000", "yen", "dollars"),
    ("how many ounces in 2 pounds", "2", "pounds", "ounces"),
    ("what's 30 degrees celsius in fahrenheit", "30", "degrees celsius", "fahrenheit"),
    ("10 miles is how many km", "10", "miles", "km"),
    ("change 50 pounds into kg please", "50", "pounds", "kg"),
    ("$120 to euros pls", "120", "$", "euros"),
    ("convert 100 from USD to EUR", "100", "USD", "EUR"),
    ("If it's 9am in London, what time is it in Tokyo?", None, "London", "Tokyo"),
    ("what time is it in Tokyo when it's 3pm in Paris", None, "Paris", "Tokyo"),
    ("3pm London time to New York time", None, "London", "New York"),
])
def test_conversions_read_source_and_target(
    sentence: str, amount: str | None, source: str, target: str
) -> None:
    found = read(sentence).conversion
    assert found is not None
    assert (found.amount.text if found.amount else None) == amount
    assert (found.source.text, found.target.text) == (source, target)


@pytest.mark.parametrize("sentence", [
    "current time in Los Angeles?", "Is it hot in Tokyo today? Tell me in fahrenheit.",
    "open the calculator",
])
def test_no_conversion_where_none_is_asked(sentence: str) -> None:
    assert read(sentence).conversion is None


@pytest.mark.parametrize(("sentence", "places"), [
    ("current time in Los Angeles?", ["Los Angeles"]),
    ("whats the time in paris rn", ["paris"]),
    ("time in Portland, OR please", ["Portland, OR"]),
    ("convert 3pm PST to EST", ["PST", "EST"]),
    ("Tell me the time in Rio de Janeiro", ["Rio de Janeiro"]),
    ("what's 30 degrees celsius in fahrenheit", []),
    ("Remind me to call mom tomorrow at 5pm", []),
    ("weather nice today", []),  # a lower-case town name only after a preposition
])
def test_places_are_found_whole(sentence: str, places: list[str]) -> None:
    assert [p.text for p in place_mentions(sentence)] == places


def test_the_calculator_is_recognised_by_its_schema() -> None:
    registry = default_registry()
    assert expression_parameter(registry.get("calculate")) == "expression"
    assert expression_parameter(registry.get("convert_units")) is None


def _engine(**rules: bool) -> Engine:
    config = EngineConfig(rules=StagedRules(**rules))
    return Engine(default_registry(), model=staged_model(), config=config)


async def test_arithmetic_reaches_the_calculator_past_the_gate() -> None:
    run = await _engine().arun("what is twelve times seven")
    assert [(c.name, c.arguments, c.result) for c in run.calls] == [
        ("calculate", {"expression": "12 * 7"}, 84.0)
    ]
    off = await _engine(arithmetic=False).arun("what is twelve times seven")
    assert [c.arguments for c in off.calls] != [{"expression": "12 * 7"}]


async def test_conversions_go_the_way_the_sentence_asks() -> None:
    run = await _engine().arun("how many kilometers is 42 miles?")
    assert [(c.name, c.arguments) for c in run.calls] == [
        ("convert_units", {"value": 42, "from_unit": "mile", "to_unit": "kilometer"})
    ]
    money = await _engine().arun("convert 5000 yen into dollars")
    assert [(c.arguments["from_currency"], c.arguments["to_currency"]) for c in money.calls] == [
        ("JPY", "USD")
    ]


async def test_a_time_is_converted_from_the_place_beside_it() -> None:
    run = await _engine().arun("If it's 9am in London, what time is it in Tokyo?")
    assert [(c.name, c.arguments) for c in run.calls] == [
        ("convert_timezone", {"time": "09:00", "from_timezone": "London",
                              "to_timezone": "Tokyo"})
    ]


async def test_a_named_place_is_kept_whole_and_never_replaced_by_utc() -> None:
    run = await _engine().arun("current time in Los Angeles?")
    assert [(c.name, c.arguments) for c in run.calls] == [
        ("get_time", {"timezone": "Los Angeles"})
    ]
    lower = await _engine().arun("whats the time in paris rn")
    assert [c.arguments for c in lower.calls] == [{"timezone": "paris"}]


def _turn(question: str, run: Run) -> list[Message]:
    """One finished turn as the service's history holds it (``store/history.py``)."""
    out = [Message(role="user", content=question)]
    if run.calls:
        out.append(Message(role="assistant", tool_calls=[
            ToolCallRequest(id=c.id, name=c.name, arguments=c.arguments) for c in run.calls]))
        out += [Message(role="tool", tool_call_id=c.id, name=c.name,
                        content=json.dumps(c.result)) for c in run.calls]
    return [*out, Message(role="assistant", content=run.answer)]


async def _conversation(*questions: str, **rules: bool) -> list[Run]:
    engine, history, runs = _engine(**rules), [], []
    for question in questions:
        run = await engine.arun(question, history=history)
        history += _turn(question, run)
        runs.append(run)
    return runs


async def test_a_follow_up_reuses_the_previous_call() -> None:
    runs = await _conversation("What time is it in Tokyo?", "and in London?")
    assert [c.arguments for c in runs[1].calls] == [{"timezone": "London"}]


async def test_that_is_the_previous_result_in_the_previous_target() -> None:
    runs = await _conversation("Convert 42 US dollars to Canadian dollars",
                               "and how much is that in euros?", "what about 100 of them?")
    assert [c.arguments for c in runs[1].calls] == [
        {"amount": 131.95, "from_currency": "CAD", "to_currency": "EUR"}]
    assert [c.arguments for c in runs[2].calls] == [
        {"amount": 100, "from_currency": "CAD", "to_currency": "EUR"}]


async def test_a_follow_up_replaces_only_what_it_writes() -> None:
    runs = await _conversation("how many km is 10 miles", "and 20 miles?")
    assert [c.arguments for c in runs[1].calls] == [
        {"value": 20, "from_unit": "mile", "to_unit": "kilometer"}]
    off = await _conversation("What time is it in Tokyo?", "and in London?", followups=False)
    assert [c.arguments for c in off[1].calls] != [{"timezone": "London"}]


def test_only_short_leaning_sentences_are_follow_ups() -> None:
    assert elliptical(read("and in London?")) and elliptical(read("what about 100 of them?"))
    assert not elliptical(read("What time is it in London?"))
    assert not elliptical(read("and then I told her the whole long story about my trip to Rome"))


async def test_that_in_a_sum_is_the_previous_result() -> None:
    runs = await _conversation("What is 15 multiplied by 24?", "Now divide that by 8, please.")
    assert [(c.arguments, c.result) for c in runs[1].calls] == [({"expression": "360 / 8"}, 45.0)]


async def test_a_named_place_lets_a_place_tool_past_the_gate_only_with_its_word() -> None:
    config = EngineConfig(relevance_threshold=0.99, named_relevance_threshold=0.99)
    engine = Engine(default_registry(), model=staged_model(), config=config)
    raining = await engine.arun("Is it raining in Berlin?")
    assert [(c.name, c.arguments.get("city")) for c in raining.calls] == [("get_weather", "Berlin")]
    population = await engine.arun("What's the population of Paris?")
    assert population.calls == [] and population.gated


def test_a_sum_longer_than_any_calculator_takes_is_not_read() -> None:
    within = " + ".join(["1"] * ((MAX_TOKENS + 1) // 2))
    assert expression(f"what is {within}") == within
    assert expression("1+" * MAX_TOKENS + "1") is None  # a prompt-sized sum: no quadratic scan


@pytest.mark.parametrize(("sentence", "expected"), [
    ("How much is a third of 270?", "270 / 3"),
    ("two thirds of 90", "90 * 2 / 3"),
    ("half of 50", "50 / 2"),
    ("What is the cube of 9?", "9 ^ 3"),
    ("the square of 12", "12 ^ 2"),
    ("Can you tell me what 2 raised to the 20th power is?", "2 ^ 20"),
    ("If I split a bill of 186 dollars among 6 people, how much does each pay?", "186 / 6"),
    ("$90 shared between 3 friends", "90 / 3"),
    ("If I save 350 a month, how much will I have after 18 months?", "350 * 18"),
    ("driving at 60 miles per hour for 3 hours", "60 * 3"),
])
def test_arithmetic_said_in_words_is_read(sentence: str, expected: str) -> None:
    """Fractions, powers by their noun, a quantity shared out, a rate times a count of its
    unit: arithmetic without an operator symbol."""
    assert expression(sentence) == expected


@pytest.mark.parametrize("sentence", [
    "the third quarter of 2023", "I have 3 apples and a pear, 4 pears", "I earn 20 an hour",
    "what is the square root of", "convert 60 km per hour to miles per hour",
])
def test_no_word_problem_where_none_is_asked(sentence: str) -> None:
    assert expression(sentence) is None


@pytest.mark.parametrize(("sentence", "amount", "source", "target"), [
    ("how many cups in a liter", 1.0, "liter", "cups"),
    ("How many litres does a 15-gallon tank hold?", 15.0, "gallon tank hold", "litres"),
    ("10am london = ? in dubai", None, "london", "dubai"),
])
def test_conversions_with_an_article_a_hyphen_or_a_bare_place(
    sentence: str, amount: float | None, source: str, target: str
) -> None:
    found = read(sentence).conversion
    assert found is not None
    assert (found.amount.value if found.amount else None) == amount
    assert (found.source.text, found.target.text) == (source, target)


@pytest.mark.parametrize(("sentence", "places"), [
    ("current time sydney", ["sydney"]),
    ("10am london = ? in dubai", ["london", "dubai"]),
    ("weather nice today", []),  # a town, not a big city: only after a preposition
    ("hue of the sky", []),  # too short to be read as a place without a preposition
])
def test_a_big_city_is_a_place_in_lower_case_anywhere(sentence: str, places: list[str]) -> None:
    assert [p.text for p in place_mentions(sentence)] == places


async def test_an_amount_written_as_an_article_is_converted() -> None:
    run = await _engine().arun("how many cups in a liter")
    assert [(c.name, c.arguments) for c in run.calls] == [
        ("convert_units", {"value": 1, "from_unit": "liter", "to_unit": "cup"})]


async def test_a_bare_big_city_is_the_place_asked_about() -> None:
    run = await _engine().arun("current time sydney")
    assert [(c.name, c.arguments) for c in run.calls] == [("get_time", {"timezone": "sydney"})]


async def test_a_follow_up_sum_replaces_the_operand_it_stands_for() -> None:
    runs = await _conversation("20% of 150", "and of 300?")
    assert [(c.arguments, c.result) for c in runs[1].calls] == [
        ({"expression": "20 / 100 * 300"}, 60.0)]
    off = await _conversation("20% of 150", "and of 300?", followups=False)
    assert [c.arguments for c in off[1].calls] != [{"expression": "20 / 100 * 300"}]


async def test_a_follow_up_converts_to_what_how_many_asks() -> None:
    runs = await _conversation("How many grams are in 12 ounces?",
                               "And how many kilograms is that?")
    assert [(c.arguments["from_unit"], c.arguments["to_unit"]) for c in runs[1].calls] == [
        ("gram", "kilogram")]


async def test_there_is_the_place_of_the_previous_call() -> None:
    runs = await _conversation("whats the time in sydney", "hows the weather there")
    assert [(c.name, c.arguments.get("city")) for c in runs[1].calls] == [
        ("get_weather", "sydney")]
    existential = await _conversation("whats the time in sydney", "is there a tool for jokes")
    assert existential[1].calls == [] or all(
        c.arguments.get("city") != "sydney" for c in existential[1].calls)


async def test_weather_asked_by_how_it_feels_or_a_short_word_passes_the_gate() -> None:
    config = EngineConfig(relevance_threshold=0.99, named_relevance_threshold=0.99)
    engine = Engine(default_registry(), model=staged_model(), config=config)
    for sentence in ("how hot is it in Dubai", "temp in Chicago"):
        run = await engine.arun(sentence)
        assert [c.name for c in run.calls] == ["get_weather"], sentence


async def test_the_clock_is_asked_about_by_the_parts_of_the_day() -> None:
    config = EngineConfig(relevance_threshold=0.99, named_relevance_threshold=0.99)
    engine = Engine(default_registry(), model=staged_model(), config=config)
    for sentence in ("is it morning in Sydney yet", "is it past midnight in Tokyo"):
        run = await engine.arun(sentence)
        assert [c.name for c in run.calls] == ["get_time"], sentence
