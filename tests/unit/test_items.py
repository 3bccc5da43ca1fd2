"""One call per listed item: the parts a sentence marks, the values it lists, the schema's say."""

from __future__ import annotations

import json
import re
from typing import Any

from toolwire import Registry
from toolwire.engine import Engine
from toolwire.messages import ChoiceConstraint, Completion, GrammarConstraint
from toolwire.models.scripted import Request, ScriptedModel
from toolwire.pipeline import EngineConfig
from toolwire.retrieval.index import ToolIndex
from toolwire.strategies import StagedRules
from toolwire.strategies.staged.fill import Fill, Filler
from toolwire.strategies.staged.items import changed, listed_calls, marked_parts, tool_items
from toolwire.strategies.staged.values import Filling, value_calls, values_for
from toolwire.text.reading import Reading, read
from toolwire.tools.registry import Tool

_NAME = re.compile(r"\b[A-Z][a-z]+(?: [A-Z][a-z]+)*")


def reader() -> ScriptedModel:
    """A fake that leaves choices to the sentence's wording (every option scores alike, so the
    priors decide) and copies the first name the sentence writes for a string."""

    def respond(request: Request) -> Completion:
        if isinstance(request.constraint, ChoiceConstraint):
            scores = dict.fromkeys(request.constraint.options, 0.0)
            return Completion(text=request.constraint.options[0], scores=scores)
        if isinstance(request.constraint, GrammarConstraint):
            question = next(m.content for m in reversed(request.messages) if m.role == "user")
            names = [n for n in _NAME.findall(str(question)) if n not in {"What", "The", "Give"}]
            return Completion(text=json.dumps(names[0] if names else "x"))
        return Completion(text="{}")

    return ScriptedModel(respond, supports_tools=False, supports_grammar=True)


def tool(name: str, properties: dict[str, Any], required: list[str] | None = None,
         description: str = "") -> Tool:
    registry = Registry()
    registry.add_schema({"name": name, "description": description, "parameters": {
        "type": "object", "properties": properties,
        "required": list(properties) if required is None else required}})
    return registry.get(name)


def filling(chosen: Tool) -> Filling:
    model = reader()

    async def fill(text: Reading) -> Fill:
        return await Filler(model).fill(text, chosen, [chosen])

    return fill


WEATHER = tool("get_weather", {"city": {"type": "string"},
                               "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
               ["city"])
GCD = tool("gcd", {"num1": {"type": "integer"}, "num2": {"type": "integer"}})


async def test_weather_for_two_cities_makes_a_call_each_with_the_unit_shared() -> None:
    question = "What's the weather for Paris and London in celsius?"
    first = {"city": "Paris", "unit": "celsius"}
    assert await value_calls(read(question), WEATHER, first, filling(WEATHER)) == [
        {"city": "Paris", "unit": "celsius"}, {"city": "London", "unit": "celsius"}]


async def test_two_pairs_of_numbers_after_a_repeated_preposition_make_two_calls() -> None:
    question = "Find the greatest common divisor of 12 and 15, and of 18 and 24."
    listing = marked_parts(read(question), GCD)
    assert listing is not None and listing.count == 2
    assert listing.text_of(1).text == "Find the greatest common divisor of 18 and 24."
    assert await listed_calls(read(question), GCD, filling(GCD)) == [
        {"num1": 12, "num2": 15}, {"num1": 18, "num2": 24}]


async def test_a_range_between_two_numbers_is_one_call() -> None:
    between = tool("random_between", {"low": {"type": "integer"}, "high": {"type": "integer"}})
    question = "Give me a random number between 12 and 15"
    assert marked_parts(read(question), between) is None
    first = {"low": 12, "high": 15}
    assert await value_calls(read(question), between, first, filling(between)) is None


async def test_an_array_parameter_takes_the_list_in_one_call() -> None:
    quotes = tool("stock_quotes", {"symbols": {"type": "array", "items": {"type": "string"}}})
    question = "Get the stock quotes of Apple, Google and Microsoft"
    first = {"symbols": ["Apple", "Google", "Microsoft"]}
    assert await value_calls(read(question), quotes, first, filling(quotes)) is None
    quote = tool("stock_quote", {"company": {"type": "string"}})
    question = "Get the stock quote of Apple, Google and Microsoft"
    assert await value_calls(read(question), quote, {"company": "Apple"}, filling(quote)) == [
        {"company": "Apple"}, {"company": "Google"}, {"company": "Microsoft"}]


def test_ordinals_gather_the_parts_of_each_call_and_share_the_rest() -> None:
    speed = tool("final_speed", {"initial_velocity": {"type": "number"},
                                 "time": {"type": "number"}})
    question = ("Two objects are dropped. The first object starts at 0 m/s and the second "
                "object starts at 5 m/s. If the first object falls for 10 seconds and the "
                "second object falls for 7 seconds, what are their final speeds?")
    listing = marked_parts(read(question), speed)
    assert listing is not None and listing.count == 2
    assert listing.own(0).text == ("The first object starts at 0 m/s. If the first object falls "
                              "for 10 seconds")
    assert listing.own(1).text.startswith("the second object starts at 5 m/s. the second object")
    assert listing.text_of(0).text.startswith("Two objects are dropped. The first object")


def test_steps_are_calls_and_the_words_after_the_last_are_shared() -> None:
    """The sentences with values right before the first "Also" are the first call; what
    follows the last call is shared."""
    binomial = tool("binomial", {"trials": {"type": "integer"}, "successes": {"type": "integer"},
                                 "p": {"type": "number"}})
    question = ("You win a round with probability 0.3. If you play 20 times, what is the chance "
                "of 5 wins? Also, if you play 50 times, what is the chance of 15 wins? Use the "
                "binomial function.")
    listing = marked_parts(read(question), binomial)
    assert listing is not None and listing.count == 2
    assert listing.own(0).text == ("You win a round with probability 0.3. If you play 20 times, what "
                              "is the chance of 5 wins?")
    assert listing.text_of(1).text == ("Also, if you play 50 times, what is the chance of 15 wins? "
                                  "Use the binomial function.")
    assert marked_parts(read("What is the weather in Paris? Also, thanks a lot."), WEATHER) is None


def test_a_part_with_fewer_values_changes_or_completes_the_call_before() -> None:
    force = tool("em_force", {"b_field": {"type": "integer"}, "area": {"type": "integer"},
                              "d_time": {"type": "integer"}, "turns": {"type": "integer"}},
                 ["b_field", "area", "d_time"])
    before = {"b_field": 5, "area": 2, "d_time": 4}
    again = changed(dict(before), force, read("then repeat with a change in time of 10 seconds"))
    assert again == [{"b_field": 5, "area": 2, "d_time": 10}]
    completed = dict(before)
    assert changed(completed, force, read("Also, the coil has 30 turns.")) == []
    assert completed == before | {"turns": 30}
    places = changed({"city": "Paris"}, WEATHER, read("then do the same for Rome and Madrid"))
    assert places == [{"city": "Rome"}, {"city": "Madrid"}]


def _engine(**rules: bool) -> Engine:
    registry = Registry()
    registry.use_index(ToolIndex(embedder=None))
    registry.add_schema({"name": "final_speed", "description": "final speed of a dropped object",
                         "parameters": {"type": "object", "properties": {
                             "height": {"type": "number"}, "initial_velocity": {"type": "number"}},
                             "required": ["height", "initial_velocity"]}})
    config = EngineConfig(execute=False, describe=False,
                          rules=StagedRules(relevance_gate=False, **rules))
    return Engine(registry, model=reader(), config=config)


async def test_listed_items_can_be_switched_off() -> None:
    question = ("The first object falls from a height of 10 meters and the second object "
                "from a height of 20 meters. The first object has an initial velocity of 0 m/s "
                "and the second object an initial velocity of 5 m/s. What is the final speed?")
    listed = await _engine().arun(question)
    assert [c.arguments for c in listed.calls] == [
        {"height": 10, "initial_velocity": 0}, {"height": 20, "initial_velocity": 5}]
    whole = await _engine(listed_items=False).arun(question)
    assert [c.arguments for c in whole.calls] != [c.arguments for c in listed.calls]


def test_each_marked_part_goes_to_the_function_it_asks_for() -> None:
    numbers = {"num1": {"type": "integer"}, "num2": {"type": "integer"}}
    gcd = tool("gcd", numbers, description="The greatest common divisor.")
    lcm = tool("lcm", numbers, description="The least common multiple.")
    question = ("Could you help me? First, find the greatest common divisor of 56 and 98. After "
                "that, the greatest common divisor of 81 and 27. Lastly, the least common "
                "multiple of 15 and 25.")
    assert [(t.name, r.text) for t, r in tool_items(read(question), gcd, [gcd, lcm])] == [
        ("gcd", "Could you help me? First, find the greatest common divisor of 56 and 98. "
                "After that, the greatest common divisor of 81 and 27."),
        ("lcm", "Could you help me? Lastly, the least common multiple of 15 and 25."),
    ]
    assert tool_items(read("Find the greatest common divisor of 56 and 98."), gcd,
                      [gcd, lcm]) == []


def test_the_frame_keeps_of_its_listed_names_those_a_part_names() -> None:
    price = tool("closing_price", {"company": {"type": "string"}, "days": {"type": "integer"}})
    question = ("I need data for Microsoft and Apple over the past 30 days. First, the closing "
                "price of Microsoft. Second, the closing price of Apple.")
    listing = marked_parts(read(question), price)
    assert listing is not None
    assert listing.text_of(1).text == ("I need data for Apple over the past 30 days. Second, the "
                                  "closing price of Apple.")


def test_sentences_after_the_last_part_go_on_with_it_until_one_speaks_of_all() -> None:
    budget = tool("find", {"item": {"type": "string"}, "budget": {"type": "integer"}})
    question = ("First, find me a Yamaha flute. Lastly, I want a guitar. My budget is $500. "
                "Can you find both for me?")
    listing = marked_parts(read(question), budget)
    assert listing is not None and listing.count == 2
    assert listing.own(1).text == "Lastly, I want a guitar. My budget is $500."
    assert listing.text_of(0).text == "First, find me a Yamaha flute. Can you find both for me?"


def test_values_a_part_writes_side_by_side_go_to_different_parameters() -> None:
    clock = tool("current_time", {"location": {"type": "string"}, "country": {"type": "string"}})
    before = {"location": "Tokyo", "country": "Japan"}
    own = read("Then, use the same function again for New York, United States.")
    assert changed(dict(before), clock, own) == [
        {"location": "New York", "country": "United States"}]


def test_a_segment_takes_its_earlier_sentences_as_its_frame() -> None:
    volume = tool("volume", {"company": {"type": "string"}, "days": {"type": "integer"}})
    question = ("I need data for Microsoft over the past 30 days. Third, the volume traded "
                "for Microsoft.")
    assert marked_parts(read(question), volume) is not None  # the first sentence: a first call
    assert marked_parts(read(question), volume, segment=True) is None


def test_a_word_capitalised_for_its_place_is_no_listed_name() -> None:
    """A sentence's first word and capitalised function words are no values; a name that
    starts a part cut from the sentence still is (its place is judged in the whole turn)."""
    revenue = tool("revenue", {"company": {"type": "string"}})
    reading = read("Summarize the revenue of Microsoft and Apple, I'm curious")
    assert [a.value for a in values_for(reading, revenue)] == ["Microsoft", "Apple"]
    part = reading.part(reading.text.index("Microsoft"))
    assert [a.value for a in values_for(part, revenue)] == ["Microsoft", "Apple"]
