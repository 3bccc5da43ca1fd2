"""Several calls from one sentence: clauses, sets of numbers, numeric optionals, segments."""

from __future__ import annotations

from toolwire.strategies.staged.segments import clauses, number_sets
from toolwire.text.reading import read


def test_clauses_split_at_coordination() -> None:
    assert clauses(read("weather in Paris and London")) == ["weather in Paris", "London"]
    assert clauses(read("open the calculator")) == ["open the calculator"]


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
    recipes = _numeric_tool("find_recipe", "servings", extra={"diet": {"type": "string"}})
    assert number_sets(read("a recipe that serves 2 people, is vegan, and takes under 30 "
                            "minutes to prepare"), recipes) is None  # no word of 2 is 30's


def test_a_word_written_once_between_two_numbers_makes_them_no_sets() -> None:
    """In "12 laps long, at 90 seconds each", "laps" and "long" are written once, between the
    numbers; they say what 12 counts, not that 90 counts the same."""
    race = _numeric_tool("plan_race", "laps")
    assert number_sets(read("Plan a race on the old track, 12 laps long, at 90 seconds each."),
                       race) is None
    assert number_sets(read("Plan a race of 12 laps, and another race of 30 laps."),
                       race) is not None  # "laps" written again: two sets


def test_numbers_written_again_are_one_call_said_twice() -> None:
    convert = _numeric_tool("convert", "quantity", extra={"item": {"type": "string"}})
    question = ("I have a recipe that calls for 2 cups of flour, but I only have a scale. Can "
                "you convert 2 cups of flour into grams for me?")
    assert number_sets(read(question), convert) is None
    assert number_sets(read("convert 2 cups of flour, and also 3 cups of flour"),
                       convert) is not None  # other numbers: another call


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


def test_a_clause_that_only_introduces_a_function_is_no_segment() -> None:
    """In "We have two shapes, a triangle and a circle" the clause names both functions
    before the parts that write their values; it asks for no call of its own."""
    from toolwire.strategies.staged.segments import tool_segments

    triangle = _numeric_tool("triangle", "side1", "side2", "side3")
    circle = _numeric_tool("circle", "radius")
    question = ("We have two shapes to draw, a triangle and a circle, for the class. For the "
                "triangle, the sides are 5, 7 and 9 units. For the circle, the radius is 3 "
                "units.")
    parts = tool_segments(read(question), triangle, [triangle, circle])
    assert [t.name for t, _ in parts] == ["triangle", "circle"]
    assert "5, 7 and 9" in parts[0][1].text and parts[1][1].text.startswith("For the circle")
