"""A description's example ("e.g. USD", "e.g. Tokyo"): read from the description, and an
optional place parameter filled by a place the sentence names (``whole_places``)."""

from __future__ import annotations

from toolwire import Registry
from toolwire.models.base import Completion
from toolwire.models.scripted import ScriptedModel
from toolwire.strategies.staged.examples import code_shape, example_of
from toolwire.strategies.staged.fill import Filler
from toolwire.text.reading import read


def test_the_example_and_its_shape_are_read_from_the_description() -> None:
    assert example_of({"description": "The source currency to convert from, e.g. USD"}) == "USD"
    assert example_of({"description": "City name, for example 'Paris'."}) == "Paris"
    assert example_of({"description": "The city"}) is None
    assert code_shape("USD") == 3 and code_shape("Paris") is None


async def test_a_place_the_sentence_names_fills_an_optional_place_parameter() -> None:
    registry = Registry()

    @registry.tool
    def get_time(timezone: str = "UTC") -> str:
        """Get the current time.

        Args:
            timezone: city or IANA time zone, e.g. Tokyo or America/New_York
        """
        return ""

    tool = registry.get("get_time")
    for sentence, place in (("What time is it in New York right now?", "New York"),
                            ("what time is it in Sao Paulo", "Sao Paulo")):
        model_span = ScriptedModel(lambda _r, said=place: Completion(text=f'"{said}"'),
                                   supports_tools=False, supports_grammar=True)
        fill = await Filler(model_span).fill(read(sentence), tool, [tool])
        assert fill.arguments == {"timezone": place}, sentence
    fill = await Filler(model_span).fill(read("what time is it?"), tool, [tool])
    assert fill.arguments == {}
