"""The staged rules as units: one table of named, explained rules whose switches are
``StagedRules``; and per rule a fixture, a sentence where the rule fires and changes the answer,
answered with every rule on and with that rule off (a scripted model, no model load).

A new rule needs its fixture here: ``test_each_rule_changes_its_fixture`` runs over the table.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from typing import Any

import pytest

from tests.unit.test_pipeline import make_registry, staged_model
from tests.unit.test_retrieval import HashEmbedder
from tests.unit.test_sentence_readings import _turn
from toolwire.builtin import default_registry
from toolwire.engine import Engine
from toolwire.messages import Message
from toolwire.models.base import ChoiceConstraint, Completion, GrammarConstraint
from toolwire.models.scripted import Request, ScriptedModel
from toolwire.pipeline import EngineConfig
from toolwire.retrieval import ToolIndex
from toolwire.retrieval.index import Hit
from toolwire.strategies import StagedRules
from toolwire.strategies.staged import strategy
from toolwire.strategies.staged.choice import FEATURES
from toolwire.strategies.staged.fill import Filler
from toolwire.strategies.staged.rules import BY_NAME, RULES, Stage, rule, tracing
from toolwire.strategies.staged.select import select
from toolwire.text.reading import read
from toolwire.tools import Registry, Tool

Outcome = Any


@dataclass(frozen=True)
class Fixture:
    """A rule's fixture: how to answer (under a switch set), and the answers with every rule
    on and with the rule off."""

    answer: Callable[[StagedRules], Awaitable[Outcome]]
    on: Outcome
    off: Outcome


def neutral_model(span: str = '"a span"') -> ScriptedModel:
    """A grammar-capable fake with no preference: every option of a choice is as likely (the
    first wins, unless a rule's prior decides), a span is ``span``."""

    def respond(request: Request) -> Completion:
        if isinstance(request.constraint, ChoiceConstraint):
            options = request.constraint.options
            return Completion(text=options[0], scores=dict.fromkeys(options, 0.0))
        if isinstance(request.constraint, GrammarConstraint):
            return Completion(text=span)
        return Completion(text="{}")

    return ScriptedModel(respond, supports_tools=False, supports_grammar=True)


def _tool(name: str, properties: dict[str, Any], required: list[str] | None = None) -> Tool:
    registry = Registry()
    registry.add_schema({"name": name, "parameters": {
        "type": "object", "properties": properties, "required": required or []}})
    return registry.get(name)


def fills(tool: Tool, sentence: str, span: str = '"a span"'
          ) -> Callable[[StagedRules], Awaitable[Outcome]]:
    """The arguments the filler gives ``tool`` for ``sentence``."""
    async def answer(rules: StagedRules) -> Outcome:
        fill = await Filler(neutral_model(span), rules).fill(read(sentence), tool, [tool])
        return fill.arguments

    return answer


def selects(tools: list[Tool], sentence: str) -> Callable[[StagedRules], Awaitable[Outcome]]:
    """The candidate selected among ``tools``, equally ranked by retrieval (the first first)."""
    hits = [Hit(tool=t, score=0.5, keyword_score=0.5, dense_score=0.5) for t in tools]

    async def answer(rules: StagedRules) -> Outcome:
        return select(read(sentence), hits, rules=rules)[0].name

    return answer


def runs(sentence: str, *before: str, registry: Callable[[], Registry] = default_registry,
         **config: Any) -> Callable[[StagedRules], Awaitable[Outcome]]:
    """The calls (name, arguments) the engine proposes for ``sentence`` (after the turns
    ``before``), or ``"gated"``."""
    async def answer(rules: StagedRules) -> Outcome:
        engine = Engine(registry(), model=staged_model('"a span"'),
                        config=EngineConfig(rules=rules, execute=False, describe=False,
                                            **config))
        history: list[Message] = []
        for question in before:
            history += _turn(question, await engine.arun(question, history=history))
        run = await engine.arun(sentence, history=history)
        return "gated" if run.gated else [(c.name, c.arguments) for c in run.calls]

    return answer


def _embedded() -> Registry:
    registry = make_registry()
    registry.use_index(ToolIndex(embedder=HashEmbedder()))
    return registry


def gcd(a: int, b: int) -> int:
    """The greatest common divisor (GCD) of two integers."""
    return a


def lcm(a: int, b: int) -> int:
    """The least common multiple (LCM) of two integers."""
    return a


def area(base: float, height: float) -> float:
    """The area of a triangle from its base and height."""
    return base * height / 2


def get_history(empire: str) -> str:
    """The history of an empire."""
    return empire


def _tools(*functions: Callable[..., Any]) -> Callable[[], Registry]:
    """A registry of ``functions`` over a keyword-only index."""
    def make() -> Registry:
        registry = Registry()
        registry.use_index(ToolIndex(embedder=None))
        for function in functions:
            registry.register(function)
        return registry

    return make


def _salons() -> Registry:
    """A salon finder whose city is described as 'City, State'."""
    registry = Registry()
    registry.use_index(ToolIndex(embedder=None))
    registry.add_schema({"name": "find_salon", "description": "Find a hair salon in a city",
                         "parameters": {"type": "object", "required": ["city"], "properties": {
                             "city": {"type": "string", "description": "The city, in the format "
                                      "'City, State', such as 'New York, NY'"}}}})
    return registry


def _clocks() -> Registry:
    """A clock that takes the city and its country apart."""
    registry = Registry()
    registry.use_index(ToolIndex(embedder=None))
    registry.add_schema({"name": "get_current_time", "description": "The current time in a city",
                         "parameters": {"type": "object", "required": ["city", "country"],
                                        "properties": {"city": {"type": "string"},
                                                       "country": {"type": "string"}}}})
    return registry


_NUMBERS = {"type": "number"}
_CONVERT = _tool("convert", {
    "value": _NUMBERS,
    "from_unit": {"type": "string", "enum": ["kilometer", "mile"]},
    "to_unit": {"type": "string", "enum": ["kilometer", "mile"]},
}, ["value", "from_unit", "to_unit"])

FIXTURES: dict[str, Fixture] = {
    "relevance_gate": Fixture(
        answer=runs("tell me a joke about penguins", registry=make_registry),
        on="gated", off=[]),  # no call either way: get_weather lacks its city
    "calibrated_relevance": Fixture(
        answer=runs("what is the forecast", registry=_embedded),
        on="gated", off=[("get_weather", {"city": "a span"})]),
    "arithmetic": Fixture(
        answer=runs("what is twelve times seven"),
        on=[("calculate", {"expression": "12 * 7"})], off=[]),
    "followups": Fixture(
        answer=runs("and in London?", "What time is it in Tokyo?"),
        on=[("get_time", {"timezone": "London"})], off="gated"),
    "conversion_pairs": Fixture(
        answer=fills(_CONVERT, "how many kilometers is 42 miles"),
        on={"value": 42, "from_unit": "mile", "to_unit": "kilometer"},
        off={"value": 42, "from_unit": "kilometer", "to_unit": "mile"}),
    "literal_selection": Fixture(
        answer=selects([_tool("search_web", {"query": {"type": "string"}}),
                        _tool("get_news", {"topic": {"type": "string"}})],
                       "any news about the elections"),
        on="get_news", off="search_web"),
    "feasibility": Fixture(
        answer=selects([_tool("book_table", {"date": {"type": "string",
                                                      "description": "The date, YYYY-MM-DD"},
                                             "guests": _NUMBERS}, ["date", "guests"]),
                        _tool("get_forecast", {"city": {"type": "string"}}, ["city"])],
                       "is it going to be hot in Tokyo"),
        on="get_forecast", off="book_table"),
    "function_segments": Fixture(
        answer=runs("find the GCD of 12 and 18 and the LCM of 4 and 6", registry=_tools(gcd, lcm),
                    relevance_threshold=0.0),
        on=[("gcd", {"a": 12, "b": 18}), ("lcm", {"a": 4, "b": 6})],
        off=[("gcd", {"a": 12, "b": 18}), ("gcd", {"a": 4, "b": 6})]),
    "number_segments": Fixture(
        answer=runs("area of triangles with base 12 and height 15, and base 18 and height 24",
                    registry=_tools(area), relevance_threshold=0.0),
        on=[("area", {"base": 12, "height": 15}), ("area", {"base": 18, "height": 24})],
        off=[("area", {"base": 12, "height": 15})]),
    "listed_items": Fixture(
        answer=runs("tell me about the Roman Empire. Also, the Ottoman Empire.",
                    registry=_tools(get_history), relevance_threshold=0.0),
        on=[("get_history", {"empire": "a span"}), ("get_history", {"empire": "Ottoman Empire"})],
        off=[("get_history", {"empire": "a span"})]),
    "distinctive_mentions": Fixture(
        answer=fills(_tool("create_repo", {"name": {"type": "string"},
                                           "private_visibility": {"type": "boolean"}},
                           ["name"]),
                     "create a repo named demo and make it private", '"demo"'),
        on={"name": "demo", "private_visibility": True}, off={"name": "demo"}),
    "numeric_optionals": Fixture(
        answer=fills(_tool("find_events", {"city": {"type": "string"}, "count": _NUMBERS},
                           ["city"]), "find 10 events in Paris"),
        on={"city": "Paris", "count": 10}, off={"city": "Paris"}),
    "cities_alone": Fixture(
        answer=runs("what is the current time in Sydney, Australia?", registry=_clocks,
                    relevance_threshold=0.0),
        on=[("get_current_time", {"city": "Sydney", "country": "a span"})],
        off=[("get_current_time", {"city": "Sydney, Australia", "country": "a span"})]),
    "listed_values": Fixture(
        answer=fills(_tool("create_histogram", {"data": {"type": "array", "items": {
            "type": "integer"}}, "bins": {"type": "integer"}}, ["data", "bins"]),
            "a histogram of the scores 85, 90, 88 and 92 with 5 bins"),
        on={"data": [85, 90, 88, 92], "bins": 5}, off={"data": {}, "bins": 5}),
    "listed_strings": Fixture(
        answer=fills(_tool("plan_trip", {"cities": {"type": "array", "items": {
            "type": "string"}}}, ["cities"]), "plan a trip that visits Rome and Florence"),
        on={"cities": ["Rome", "Florence"]}, off={"cities": {}}),
    "described_choices": Fixture(
        answer=fills(_tool("geo_distance", {"start": {"type": "string"}, "units": {
            "type": "string", "description": "The units ('miles' or 'kilometers')."}},
            ["start", "units"]), "how far is Boston from Washington in mile", '"mile"'),
        on={"start": "mile", "units": "miles"}, off={"start": "mile", "units": "mile"}),
    "initial_letters": Fixture(
        answer=fills(_tool("get_weather", {"city": {"type": "string"}, "unit": {
            "type": "string", "enum": ["celsius", "fahrenheit"]}}, ["city"]),
            "temp in chicago in F", '"chicago"'),
        on={"city": "chicago", "unit": "fahrenheit"}, off={"city": "chicago"}),
    "stated_cities": Fixture(
        answer=runs("find me a hair salon in Alameda", registry=_salons,
                    relevance_threshold=0.0),
        on=[("find_salon", {"city": "Alameda, CA"})], off=[("find_salon", {"city": "Alameda"})]),
    "whole_places": Fixture(
        answer=fills(_tool("get_time", {"timezone": {"type": "string"}}),
                     "what time is it in Los Angeles"),
        on={"timezone": "Los Angeles"}, off={}),
    "written_moments": Fixture(
        answer=fills(_tool("book", {"date": {
            "type": "string", "description": "The date, in the format YYYY-MM-DD"}}, ["date"]),
            "book a table for April 25th 2023", '"April 25th"'),
        on={"date": "2023-04-25"}, off={"date": "April 25th"}),
    "number_priors": Fixture(
        answer=fills(_tool("area", {"base": _NUMBERS, "height": _NUMBERS}, ["base", "height"]),
                     "a triangle with a height of 15 and a base of 12"),
        on={"base": 12, "height": 15}, off={"base": 15, "height": 12}),
    "quoted_passages": Fixture(
        answer=fills(_tool("find_instrument", {"instrument": {"type": "string"},
                                               "maker": {"type": "string"}},
                           ["instrument", "maker"]),
                     "find the instrument 'Violin' from 'Stradivarius' maker"),
        on={"instrument": "Violin", "maker": "Stradivarius"},
        off={"instrument": "a span", "maker": "a span"}),
    "direction_walls": Fixture(
        answer=fills(_tool("translate", {
            "source_language": {"type": "string", "enum": ["English", "French"]},
            "target_language": {"type": "string", "enum": ["English", "French"]},
        }, ["source_language", "target_language"]), "say hello in French, from English"),
        on={"source_language": "English", "target_language": "French"},
        off={"source_language": "French", "target_language": "English"}),
}


def test_the_table_and_the_switches_agree() -> None:
    names = [r.name for r in RULES]
    assert len(names) == len(set(names)) == len(BY_NAME) >= 10
    assert set(names) == {f.name for f in fields(StagedRules)}
    assert StagedRules.names() == names
    assert all(getattr(StagedRules(), name) is True for name in names)
    assert StagedRules().active() == list(RULES)
    assert [r.name for r in StagedRules(listed_items=False).active()] == [
        n for n in names if n != "listed_items"]
    assert StagedRules().off("listed_items") == StagedRules(listed_items=False)
    reading = read("what is twelve times seven")
    hits = [Hit(tool=t, score=1.0, keyword_score=1.0, dense_score=1.0)
            for t in default_registry() if t.name == "calculate"]
    with tracing() as fired:
        assert StagedRules().decide("arithmetic", "arithmetic_call", reading, hits)[1] == {
            "expression": "12 * 7"}
    assert fired == {"arithmetic"}
    off = StagedRules(arithmetic=False)
    assert off.decide("arithmetic", "arithmetic_call", reading, hits) is None
    assert off.decide("arithmetic", "arithmetic_call", reading, hits, default=[]) == []
    with pytest.raises(KeyError):  # a decision the rule does not make, on or off
        off.decide("arithmetic", "converter", reading, hits)
    with pytest.raises(KeyError):
        StagedRules().off("no_such_rule")


def test_the_strategy_holds_no_switch_of_its_own() -> None:
    source = inspect.getsource(strategy)  # it asks the table (decide), which traces the rule
    assert [f.name for f in fields(StagedRules) if f"rules.{f.name}" in source] == []


@pytest.mark.parametrize("unit", RULES, ids=lambda r: r.name)
def test_every_rule_says_what_why_and_where(unit: Any) -> None:
    assert len(unit.what) > 30 and len(unit.why) > 10 and unit.example, unit.name
    assert unit.stages and all(isinstance(s, Stage) for s in unit.stages)
    acts_here = {Stage.SELECT: unit.features, Stage.MENTION: unit.mentions or unit.params}
    for stage, hook in acts_here.items():
        assert (stage in unit.stages) == (hook is not None), (unit.name, stage)
    assert unit.hooks() or unit.decides, unit.name  # it acts with something
    for reference in unit.decides:  # each decision resolves, by its last name
        assert callable(unit.decision(reference.rpartition(".")[2].rpartition(":")[2]))
    text = unit.explain()
    assert unit.name in text and unit.why in text
    assert StagedRules.explain(unit.name).startswith(unit.what)
    with pytest.raises(KeyError):
        rule("no_such_rule")


def test_the_selection_features_are_the_select_rules() -> None:
    assert FEATURES[:4] == ("fused", "keyword", "dense", "first")
    assert set(FEATURES[4:]) == {k for r in RULES for k in r.neutral}


@pytest.mark.parametrize("name", [r.name for r in RULES])
async def test_each_rule_changes_its_fixture(name: str) -> None:
    fixture = FIXTURES[name]  # a new rule needs its fixture
    with tracing() as fired:
        on = await fixture.answer(StagedRules())
    off = await fixture.answer(StagedRules().off(name))
    assert (on, off) == (fixture.on, fixture.off)
    assert on != off
    assert name in fired  # the trace bench/ablate.py relies on sees it act


def test_the_command_line_lists_and_explains_the_rules() -> None:
    from typer.testing import CliRunner

    from toolwire.cli import app

    listed = CliRunner().invoke(app, ["rules", "list"])
    assert listed.exit_code == 0 and all(r.name in listed.stdout for r in RULES)
    explained = CliRunner().invoke(app, ["rules", "explain", "number_priors"])
    assert explained.exit_code == 0
    assert rule("number_priors").why in explained.stdout
    assert CliRunner().invoke(app, ["rules", "explain", "no_such_rule"]).exit_code == 2


def test_the_everyday_ablation_pairs_runs_by_sentence_and_conversation() -> None:
    from bench.ablate import Unit, everyday_worth

    default = {"s0": Unit(right=[True], fired=["arithmetic"]),
               "s1": Unit(right=[False], fired=[]),
               "c0": Unit(right=[True, True, False], fired=["arithmetic"])}
    off = {"s0": Unit(right=[False], fired=[]),
           "c0": Unit(right=[True, False, True], fired=[])}  # a turn lost, a turn gained
    worth = everyday_worth(default, off)
    assert (worth["fired_on"], worth["fired_runs"]) == (2, 4)
    assert (worth["gained"], worth["lost"], worth["net_runs"]) == (2, 1, 1)
    assert worth["net_95"][0] <= 1 <= worth["net_95"][1]
