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


LAWSUITS = tool("lawsuit_search", {"entity": {"type": "string"}, "county": {"type": "string"},
                                   "state": {"type": "string"}})


def test_a_closing_clause_on_every_item_is_shared_by_every_call() -> None:
    question = ('Retrieve all lawsuits involving the entity "Google" from the county of "Santa '
                'Clara" and then do the same for the entity "Facebook" in the county of "San '
                'Mateo", both in the state of California?')
    listing = marked_parts(read(question), LAWSUITS)
    assert listing is not None and listing.count == 2
    assert "California" in listing.text_of(0).text
    assert "California" not in listing.own(1).text


def test_a_changed_value_goes_to_the_parameter_named_nearest_before_it() -> None:
    own = read('then do the same for the entity "Facebook" in the county of "San Mateo"')
    previous = {"entity": "Google", "county": "Santa Clara", "state": "California"}
    assert changed(dict(previous), LAWSUITS, own) == [
        {"entity": "Facebook", "county": "San Mateo", "state": "California"}]


def test_a_name_written_past_another_value_names_that_value_not_this_one() -> None:
    """'the shop "Corner Books" in the "Leeds" area': "shop" names "Corner Books" (the value
    beside it), not "Leeds", which the "area" right after it names."""
    shops = tool("shop_hours", {"shop": {"type": "string"}, "area": {"type": "string"},
                                "day": {"type": "string"}})
    previous = {"shop": "Page One", "area": "York", "day": "Monday"}
    own = read('Finally, do it again for the shop "Corner Books" in the "Leeds" area.')
    assert changed(dict(previous), shops, own) == [
        {"shop": "Corner Books", "area": "Leeds", "day": "Monday"}]


def test_two_items_of_one_function_keep_the_words_that_joined_them() -> None:
    """The text of a function's items is read as a listing again: "a client in London and
    another one in Tokyo" must keep its "and", or "another" starts no clause."""
    convert = tool("timezone_convert", {"time": {"type": "string"},
                                        "to_timezone": {"type": "string"}},
                   description="Convert a time to another time zone.")
    savings = tool("emission_savings", {"energy_type": {"type": "string"},
                                        "usage_duration": {"type": "integer"}},
                   description="Greenhouse gas emission savings of an energy type.")
    question = ("First, it is 2pm here in New York and I meet a client in London and another "
                "one in Tokyo. Second, I am switching to solar energy for 12 months.")
    [(first, text), (second, _)] = tool_items(read(question), convert, [convert, savings])
    assert (first.name, second.name) == ("timezone_convert", "emission_savings")
    assert "a client in London and another one in Tokyo." in text.text
    listing = marked_parts(text, convert, segment=True)
    assert listing is not None and listing.count == 2


def test_a_word_of_the_tool_name_named_again_starts_another_call() -> None:
    """"a ... restaurant and a ... restaurant" asks for ``restaurant_finder`` twice; a word of
    a parameter's name said again ("a base of 12 and a height of 15") still marks nothing."""
    finder = tool("restaurant_finder", {"location": {"type": "string"},
                                        "cuisine": {"type": "string"}})
    question = ("Find an Italian restaurant near me in New York and a Japanese sushi "
                "restaurant in Los Angeles.")
    listing = marked_parts(read(question), finder)
    assert listing is not None and listing.count == 2
    assert "Los Angeles" not in listing.text_of(0).text
    area = tool("triangle_area", {"base": {"type": "integer"}, "height": {"type": "integer"}})
    assert marked_parts(read("A triangle has a height of 12 and a base of 15 and a height of "
                             "4."), area) is None


def test_a_list_its_sentence_counts_gives_each_call_its_own_value() -> None:
    """"two datasets, 'd1' and 'd2'" with a first and a second run: one dataset per run."""
    train = tool("train_model", {"dataset": {"type": "string"}, "depth": {"type": "integer"}})
    question = ("Train a model on two different datasets, 'd1' and 'd2'. For the first run, set "
                "the depth to 10. For the second run, set the depth to 20.")
    listing = marked_parts(read(question), train)
    assert listing is not None and listing.count == 2
    assert "'d2'" not in listing.text_of(0).text and "'d1'" in listing.text_of(0).text
    assert "'d1'" not in listing.text_of(1).text and "'d2'" in listing.text_of(1).text


def test_a_quotation_after_a_comma_and_starts_another_item_like_the_first() -> None:
    """"named 'A' in X, and 'B' in Y": two items; "between 'A' and 'B'" stays one call."""
    detail = tool("exhibition_detail", {"exhibition_name": {"type": "string"},
                                        "museum_name": {"type": "string"}})
    question = ("Give me the detail of the exhibition named 'Wonder of Nature' in the Louvre "
                "museum, and 'Age of Reptiles' in the British Museum.")
    listing = marked_parts(read(question), detail)
    assert listing is not None and listing.count == 2
    assert listing.text_of(1).text == ("Give me the detail of the exhibition named 'Age of "
                                       "Reptiles' in the British Museum.")
    gap = tool("time_difference", {"place1": {"type": "string"}, "place2": {"type": "string"}})
    assert marked_parts(read("The time difference between 'New York, NY' and 'Los Angeles, "
                             "CA', please."), gap) is None


def test_words_before_a_thing_named_again_are_shared() -> None:
    """"Search for a X recipe and a Y recipe": "Search for" belongs to both calls."""
    recipes = tool("recipe_search", {"dish": {"type": "string"}})
    listing = marked_parts(read("Search for a Chicken Noodle Soup recipe and a Vegan Salad "
                                "recipe."), recipes)
    assert listing is not None and listing.count == 2
    assert listing.text_of(1).text == "Search for a Vegan Salad recipe."
