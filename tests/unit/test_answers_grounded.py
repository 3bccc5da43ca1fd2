"""Answers a person can trust: the model's sentence is replaced when it states a number no
source holds or leaves out the one a result holds; templates answer first; where no tool
serves the answer says so (free answers only where allowed); a failed call is stated as one."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from tests.unit.test_api import adder, make_registry, settings_for, start
from toolwire.answer import (
    acceptable,
    factual_answer,
    free_answers_allowed,
    generic_sentence,
    missing_answer,
    no_tool_answer,
    outcome_text,
)
from toolwire.api.app import create_app
from toolwire.builtin import register_builtins, weather
from toolwire.config import Settings
from toolwire.engine import Engine
from toolwire.grounding import sources, ungrounded
from toolwire.messages import Completion, ToolCallRequest
from toolwire.models.scripted import Request, ScriptedModel
from toolwire.pipeline import EngineConfig
from toolwire.retrieval import ToolIndex
from toolwire.run import AnswerDelta, CallResult, Event
from toolwire.service.processing import run_overrides
from toolwire.store.tables import InteractionCreate
from toolwire.tools.registry import Registry, Tool

LOCAL = "local:smollm2-135m"


def call(name: str, **arguments: Any) -> Completion:
    return Completion(tool_calls=[ToolCallRequest(id="", name=name, arguments=arguments)])


def ok(name: str, result: Any, **arguments: Any) -> CallResult:
    return CallResult(id="c1", name=name, arguments=arguments, status="ok", result=result)


def builtins() -> Registry:
    registry = Registry()
    registry.use_index(ToolIndex(embedder=None))
    return register_builtins(registry)


def rates_registry() -> Registry:
    """An imported OpenAPI operation as the issue met it: no template, an HTTP envelope."""
    registry = Registry()
    registry.use_index(ToolIndex(embedder=None))
    registry.add_schema(
        {"name": "get_latest_rate",
         "description": "GET /rates/latest: the latest exchange rate between two currencies.",
         "parameters": {"type": "object", "required": ["base", "target"], "properties": {
             "base": {"type": "string"}, "target": {"type": "string"}}}},
        handler=lambda base, target: {"status": 200, "body": {"rate": 161.5}},
        keywords=("exchange", "rate"),
    )
    return registry


# -- no number without a source ---------------------------------------------------------------
@pytest.mark.parametrize("style", ["template", "model"])
async def test_the_imported_rates_tool_answer_states_161_5(style: str) -> None:
    model = ScriptedModel([
        call("get_latest_rate", base="EUR", target="JPY"),
        Completion(text="The exchange rate between EUR to JPY right now is 1.615."),
    ])
    engine = Engine(rates_registry(), model=model,
                    config=EngineConfig(strategy="native", answer_style=style))  # type: ignore[arg-type]
    run = await engine.arun("What is the exchange rate between EUR and JPY right now?")
    assert run.calls[0].result == {"status": 200, "body": {"rate": 161.5}}
    assert "161.5" in run.answer and "1.615" not in run.answer, run.answer
    assert run.answer == ("GET /rates/latest: the latest exchange rate between two currencies, "
                          "with base EUR and target JPY: the result is rate 161.5.")


@pytest.mark.parametrize("answer, verdict", [
    ("The rate between EUR and JPY is 161.5.", True),
    ("The rate between EUR and JPY is about 162.", True),  # rounded
    ("The rate between EUR and JPY is 1.615.", False),  # a number from nowhere
    ("The rate between EUR and JPY is 161.5, up 3 percent.", False),  # an invented extra
    ("Here is the rate between EUR and JPY.", False),  # the one number left out
])
def test_a_model_sentence_about_a_dict_result_is_checked(answer: str, verdict: bool) -> None:
    rate = ok("get_latest_rate", {"status": 200, "body": {"rate": 161.5}}, base="EUR",
              target="JPY")
    assert acceptable(answer, [rate], question="EUR to JPY rate?") is verdict


def test_numbers_of_the_question_may_be_stated() -> None:
    weather_report = ok("get_weather", {"city": "Paris", "temperature": 21, "humidity": 40})
    said = "In Paris it is 21 degrees with 40% humidity, warmer than the 15 you said."
    assert acceptable(said, [weather_report], question="is it over 15 degrees in Paris?")
    assert not acceptable(said, [weather_report], question="is it warm in Paris?")


def test_a_template_stating_a_number_the_call_lacks_gives_way_to_the_generic_sentence() -> None:
    registry = Registry()

    def rain_chance(city: str) -> dict[str, Any]:
        """Chance of rain in a city.

        Args:
            city: the city
        """
        return {"city": city, "chance": 0.2}

    registry.register(rain_chance, answer=lambda args, result: f"{result['chance'] * 100}% in "
                                                                f"{args['city']}, 99 for sure.")
    text = outcome_text(ok("rain_chance", {"city": "Oslo", "chance": 0.2}, city="Oslo"),
                        registry.get("rain_chance"))
    assert text == ("Chance of rain in a city, with city Oslo: the result is city Oslo and "
                    "chance 0.2.")


def test_a_description_with_numbers_of_its_own_gives_way_to_the_tools_name() -> None:
    tool = Tool(name="get_rates_v2", description="Rates of 2019, updated every 15 minutes.",
                parameters={"type": "object", "properties": {}})
    sentence = generic_sentence(tool, ok("get_rates_v2", {"EUR": 1.1}, base="USD"))
    assert sentence == "Get rates v2, with base USD: the result is EUR 1.1."
    plain = Tool(name="get_rates", description="Latest rates.", parameters={})
    assert generic_sentence(plain, ok("get_rates", 2)).startswith("Latest rates")


def test_a_value_description_stating_a_number_is_left_out_of_the_question() -> None:
    asked = missing_answer("convert_currency", ["amount", "from_currency"],
                           {"amount": "how much", "from_currency": "ISO 4217 code, e.g. USD"},
                           question="convert some money")
    assert asked == ("To call convert_currency I need: amount (how much), from_currency. "
                     "Please tell me and I will run it.")
    kept = missing_answer("f", ["code"], {"code": "ISO 4217 code"}, question="an ISO 4217 code")
    assert "(ISO 4217 code)" in kept


async def test_the_final_check_replaces_any_answer_with_a_number_from_nowhere() -> None:
    """A native model's own text (it made no call) is a free answer: checked all the same."""
    model = ScriptedModel([Completion(text="It has been raining for 3 days in Berlin.")])
    engine = Engine(builtins(), model=model,
                    config=EngineConfig(strategy="native", free_answers=True))
    run = await engine.arun("Is it raining in Berlin?")
    assert run.calls == [] and "3" not in run.answer
    assert run.answer.startswith("I have no tool that can do that.")


# -- the template first -----------------------------------------------------------------------
async def test_a_templated_tool_is_answered_without_asking_the_model() -> None:
    model = ScriptedModel([call("convert_currency", amount=42, from_currency="USD",
                                to_currency="CAD")])  # no second answer: it is never asked
    events: list[Event] = []
    engine = Engine(builtins(), model=model, config=EngineConfig(strategy="native"))
    run = await engine.arun("exchange 42 US dollars to Canadian dollars", on_event=events.append)
    assert run.answer == "42 US dollars is 131.95 Canadian dollars."
    assert len(model.requests) == 1
    assert [e.text for e in events if isinstance(e, AnswerDelta)] == [run.answer]


async def test_the_model_style_asks_the_model_and_keeps_a_sound_sentence() -> None:
    said = "Sure: 42 US dollars buys you 131.95 Canadian dollars."
    model = ScriptedModel([call("convert_currency", amount=42, from_currency="USD",
                                to_currency="CAD"), Completion(text=said)])
    engine = Engine(builtins(), model=model,
                    config=EngineConfig(strategy="native", answer_style="model"))
    run = await engine.arun("exchange 42 US dollars to Canadian dollars")
    assert run.answer == said and len(model.requests) == 2


async def test_a_tool_without_a_template_still_gets_the_models_checked_sentence() -> None:
    model = ScriptedModel([call("get_latest_rate", base="EUR", target="JPY"),
                           Completion(text="One euro buys 161.5 yen today.")])
    engine = Engine(rates_registry(), model=model, config=EngineConfig(strategy="native"))
    run = await engine.arun("EUR to JPY rate")
    assert run.answer == "One euro buys 161.5 yen today." and len(model.requests) == 2


def test_the_answer_style_and_free_answers_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    monkeypatch.setenv("TOOLWIRE_ANSWER_STYLE", "model")
    monkeypatch.setenv("TOOLWIRE_FREE_ANSWERS", "true")
    engine = Engine(Registry(), model=ScriptedModel(), settings=Settings(home=tmp_path))
    assert (engine.config.answer_style, engine.config.free_answers) == ("model", True)
    monkeypatch.delenv("TOOLWIRE_ANSWER_STYLE")
    monkeypatch.delenv("TOOLWIRE_FREE_ANSWERS")
    default = Engine(Registry(), model=ScriptedModel(), settings=Settings(home=tmp_path))
    assert (default.config.answer_style, default.config.free_answers) == ("template", None)


# -- where no tool serves ---------------------------------------------------------------------
@pytest.mark.parametrize("setting, name, allowed", [
    (None, LOCAL, False), (None, "local:/models/big.gguf", False),
    (None, "openai:gpt-4o-mini", True), (None, "anthropic:claude", True),
    (None, "gemini:gemini-2.0-flash", True),
    (True, LOCAL, True), (False, "openai:gpt-4o-mini", False),
])
def test_free_answers_default_to_remote_models_only(
    setting: bool | None, name: str, allowed: bool,
) -> None:
    assert free_answers_allowed(setting, name) is allowed


def test_the_no_tool_answer_names_at_most_three_close_tools() -> None:
    assert no_tool_answer([]) == "I have no tool that can do that."
    assert no_tool_answer(["get_weather"]) == (
        "I have no tool that can do that. The closest tool I have is get_weather.")
    assert no_tool_answer(["get_weather", "get_time", "calculate", "open_app"]) == (
        "I have no tool that can do that. The closest tools I have are get_weather, get_time "
        "and calculate.")


INVENTED = [
    ("Is it raining in Berlin?", "No, it's not raining in Berlin. It's a very special day."),
    ("Who wrote Pride and Prejudice?", "Pride and Prejudice was written by Elizabeth Bennet."),
    ("Remind me to call mom tomorrow at 5pm", "Remind me to call mom tomorrow at 5pm."),
    ("How much is 345 plus 678?", "345 plus 678 is 1221, and 111 more."),
]


@pytest.mark.parametrize("question, invented", INVENTED)
async def test_the_local_model_says_no_tool_serves_instead_of_inventing(
    question: str, invented: str,
) -> None:
    """A local model answering in its own words instead of calling: the answer says that no
    tool can do it, names the closest tools, never echoes the sentence nor states a number."""
    model = ScriptedModel([Completion(text=invented)], name=LOCAL)
    engine = Engine(builtins(), model=model, config=EngineConfig(strategy="native"))
    run = await engine.arun(question)
    assert run.calls == [] and run.candidates
    assert run.answer == no_tool_answer(run.candidates)
    assert run.answer.startswith("I have no tool that can do that. The closest tools I have")
    assert question.rstrip("?") not in run.answer
    assert ungrounded(run.answer, sources("", [], names=run.candidates)) == []
    assert len(model.requests) == 1  # no plain answer was asked for


@pytest.mark.parametrize("question", [q for q, _ in INVENTED[1:3]])
async def test_a_sentence_the_gate_turns_away_gets_the_no_tool_answer(question: str) -> None:
    model = ScriptedModel(lambda _request: Completion(text="It is 12 degrees."), name=LOCAL,
                          supports_tools=False, supports_grammar=True)
    gated = EngineConfig(relevance_threshold=0.99, named_relevance_threshold=0.99)
    run = await Engine(builtins(), model=model, config=gated).arun(question)
    assert run.calls == [] and run.answer == no_tool_answer(run.candidates)
    assert all(r.constraint is not None for r in model.requests)  # no plain answer asked for


async def test_an_operator_may_allow_free_answers_which_are_still_checked() -> None:
    def plain(request: Request) -> Completion:
        asked = request.messages[-1].content
        return Completion(text="Jane Austen wrote it." if "Pride" in asked
                          else "It was published in 1813.")

    config = EngineConfig(relevance_threshold=0.99, named_relevance_threshold=0.99,
                          free_answers=True)
    events: list[Event] = []
    engine = Engine(builtins(), model=ScriptedModel(plain, name=LOCAL, supports_tools=False,
                                                     supports_grammar=True), config=config)
    run = await engine.arun("Who wrote Pride and Prejudice?", on_event=events.append)
    assert run.answer == "Jane Austen wrote it."
    assert [e.text for e in events if isinstance(e, AnswerDelta)] == ["Jane Austen wrote it."]
    run = await engine.arun("When did that book come out?", on_event=events.append)
    assert run.answer.startswith("I have no tool that can do that.") and "1813" not in run.answer


async def test_a_free_answer_that_only_repeats_the_sentence_is_replaced() -> None:
    model = ScriptedModel([Completion(text="Remind me to call mom tomorrow!")],
                          name="openai:gpt-4o-mini")
    run = await Engine(builtins(), model=model, config=EngineConfig(strategy="native")).arun(
        "remind me to call mom tomorrow")
    assert run.answer.startswith("I have no tool that can do that.")


async def test_a_remote_model_answers_freely_by_default() -> None:
    model = ScriptedModel([Completion(text="Jane Austen wrote it.")], name="openai:gpt-4o-mini")
    run = await Engine(builtins(), model=model, config=EngineConfig(strategy="native")).arun(
        "Who wrote Pride and Prejudice?")
    assert run.answer == "Jane Austen wrote it."


# -- weather offline: a tool error, stated as such ---------------------------------------------
@pytest.fixture
def offline_weather() -> Iterator[None]:
    previous = weather._transport

    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("network is unreachable", request=request)

    weather.set_transport(httpx.MockTransport(unreachable))
    yield
    weather.set_transport(previous)


@pytest.mark.usefixtures("offline_weather")
@pytest.mark.parametrize("style", ["template", "model"])
async def test_weather_offline_is_a_tool_error_never_a_forecast(style: str) -> None:
    model = ScriptedModel([call("get_weather", city="Berlin"),
                           Completion(text="No, it's not raining in Berlin.")])
    engine = Engine(builtins(), model=model,
                    config=EngineConfig(strategy="native", answer_style=style))  # type: ignore[arg-type]
    run = await engine.arun("Is it raining in Berlin?")
    [weather_call] = run.calls
    assert weather_call.status == "error"
    assert "weather service unreachable" in run.answer and "failed" in run.answer
    assert "not raining" not in run.answer and len(model.requests) == 1
    assert run.answer == factual_answer(run.calls)


# -- the interaction setting ------------------------------------------------------------------
def test_free_answers_is_an_interaction_setting_and_only_a_boolean() -> None:
    assert run_overrides({"free_answers": False, "note": 1}) == {"free_answers": False}
    assert run_overrides({}) == {}
    for bad in ("yes", 1, "true", [True]):
        with pytest.raises(ValidationError):
            InteractionCreate.model_validate({"settings": {"free_answers": bad}})


async def test_an_interaction_can_refuse_free_answers(database_url: str, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    engine = Engine(make_registry(), model=ScriptedModel(adder), settings=settings)
    app = create_app(engine=engine, database_url=database_url, settings=settings)
    async for client in start(app):
        refused = await client.post("/interactions", json={"settings": {"free_answers": "no"}})
        assert refused.status_code == 422, refused.text
        answers = {}
        for allowed in (True, False):
            made = await client.post("/interactions", json={"settings": {"free_answers": allowed}})
            url = f"/interactions/{made.json()['id']}/messages"
            await client.post(url, json={"content": "write me a poem"})
            answers[allowed] = await _reply(client, url)
        assert answers[True] == "Give me two numbers to add."  # the scripted model's own text
        assert answers[False] == ("I have no tool that can do that. The closest tool I have "
                                  "is add.")


async def _reply(client: httpx.AsyncClient, url: str) -> str:
    for _ in range(1000):
        replies = [m for m in (await client.get(url)).json() if m["role"] == "assistant"]
        if replies and replies[0]["content"]:
            return str(replies[0]["content"])
        await asyncio.sleep(0.02)
    raise AssertionError("no reply")


async def test_the_final_check_also_guards_answers_about_calls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def careless(*_args: Any, **_kwargs: Any) -> str:
        return "The rate is 99."

    monkeypatch.setattr("toolwire.pipeline.describe", careless)
    model = ScriptedModel([call("get_latest_rate", base="EUR", target="JPY")])
    engine = Engine(rates_registry(), model=model, config=EngineConfig(strategy="native"))
    run = await engine.arun("EUR to JPY rate")
    assert run.answer == factual_answer(run.calls, engine.registry.find)
    assert "161.5" in run.answer and "99" not in run.answer
