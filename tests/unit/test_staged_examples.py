"""Optional parameters the sentence fills by meaning: a description's example ("e.g. USD")
against the sentence's phrases ("US dollars"), and code-shaped values written as codes."""

from __future__ import annotations

from typing import Any

from toolwire import Registry
from toolwire.models.base import ChoiceConstraint, Completion, GrammarConstraint
from toolwire.models.scripted import Request, ScriptedModel
from toolwire.strategies.staged.examples import code_grammar, code_shape, example_of, names_the_kind
from toolwire.strategies.staged.fill import Filler
from toolwire.strategies.staged.rules import StagedRules
from toolwire.text.reading import read

CLIENT_SCHEMA: dict[str, Any] = {  # what a /v1 client sent: everything optional, loosely typed
    "amount": {"type": ["string", "number"], "description": "The amount to convert"},
    "from_currency": {"type": ["string", "number"],
                      "description": "The source currency to convert from, e.g. USD"},
    "to_currency": {"type": ["string", "number"],
                    "description": "The target currency to convert to, e.g. USD"},
}


def test_the_example_and_its_shape_are_read_from_the_description() -> None:
    assert example_of({"description": "The source currency to convert from, e.g. USD"}) == "USD"
    assert example_of({"description": "City name, for example 'Paris'."}) == "Paris"
    assert example_of({"description": "The city"}) is None
    assert code_shape("USD") == 3 and code_shape("Paris") is None
    assert code_grammar(3) == 'root ::= "\\"" [A-Z] [A-Z] [A-Z] "\\""'


def test_a_phrase_close_in_meaning_names_the_kind() -> None:
    assert names_the_kind(read("I want to exchange 42 US dollars to Canadian dollars"), "USD")
    assert not names_the_kind(read("what's the weather in Paris tomorrow"), "USD")


def _coder(codes: list[str]) -> tuple[ScriptedModel, list[Request]]:
    """Picks the first option of a choice and writes the next code under a code grammar."""
    asked: list[Request] = []

    def respond(request: Request) -> Completion:
        asked.append(request)
        if isinstance(request.constraint, ChoiceConstraint):
            options = request.constraint.options
            return Completion(text=options[0], scores=dict.fromkeys(options, -1.0))
        if isinstance(request.constraint, GrammarConstraint):
            return Completion(text=f'"{codes.pop(0)}"')
        return Completion(text="{}")

    return ScriptedModel(respond, supports_tools=False, supports_grammar=True), asked


async def test_optional_values_the_sentence_names_are_filled_as_codes() -> None:
    registry = Registry()
    registry.add_schema({"name": "convert_currency", "parameters": {
        "type": "object", "properties": CLIENT_SCHEMA}})
    tool = registry.get("convert_currency")
    sentence = "I want to exchange 42 US dollars to Canadian dollars"
    model, asked = _coder([])
    fill = await Filler(model).fill(read(sentence), tool, [tool])
    assert fill.arguments == {"amount": 42, "from_currency": "USD", "to_currency": "CAD"}
    assert not [r for r in asked if isinstance(r.constraint, GrammarConstraint)]  # by name
    model, _ = _coder([])
    off = await Filler(model, StagedRules(described_examples=False)).fill(read(sentence), tool, [tool])
    assert "from_currency" not in off.arguments  # the rule is what fills them


async def test_a_code_the_sentence_does_not_name_is_written_in_the_example_shape() -> None:
    registry = Registry()
    registry.add_schema({"name": "convert_currency", "parameters": {
        "type": "object", "properties": CLIENT_SCHEMA, "required": ["to_currency"]}})
    tool = registry.get("convert_currency")
    model, asked = _coder(["JPY"])
    fill = await Filler(model).fill(read("convert 100 euros into yen"), tool, [tool])
    assert fill.arguments == {"amount": 100, "from_currency": "EUR", "to_currency": "JPY"}
    grammars = [r.constraint.gbnf for r in asked if isinstance(r.constraint, GrammarConstraint)]
    assert grammars == [code_grammar(3)]  # EUR was named; the second code the model wrote


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
