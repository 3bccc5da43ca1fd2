"""Asking instead of guessing (issue 22, Must 5): where the calibrated evidence for a call is
weak the staged strategy calls nothing and the answer asks which of the best candidates is
meant (the outcome ``clarify``); rules that settle a call never ask; ``clarify_below`` 0
turns it off; the outcome reaches the stored reply and ``/execute``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.test_api import settings_for, start
from tests.unit.test_pipeline import make_registry, staged_model
from tests.unit.test_retrieval import HashEmbedder
from tests.unit.test_sentence_readings import _turn
from toolwire.answer import clarify_answer
from toolwire.api.app import create_app
from toolwire.builtin import default_registry
from toolwire.config import Settings
from toolwire.engine import Engine
from toolwire.grounding import sources, ungrounded
from toolwire.models.scripted import ScriptedModel
from toolwire.pipeline import EngineConfig
from toolwire.retrieval import ToolIndex
from toolwire.run import CallProposed, Event, Executed, Run
from toolwire.service.context import run_overrides
from toolwire.strategies import CLARIFY_BELOW, StagedRules, StagedStrategy, Turn
from toolwire.strategies.staged.relevance import FEATURES, RelevanceModel
from toolwire.strategies.staged.strategy import clarify_names
from toolwire.tools import Registry

WEATHER = "what's the weather in Paris in celsius"
HALF = RelevanceModel(weights=dict.fromkeys(FEATURES, 0.0), bias=0.0, threshold=0.4)
"""Every sentence wants a call with probability 0.5: past the gate (0.4), weakly."""
SURE = RelevanceModel(weights=dict.fromkeys(FEATURES, 0.0), bias=50.0, threshold=0.4)


def _registry(*, lone: bool = False) -> Registry:
    registry = make_registry()
    if lone:  # get_weather only: nothing to choose between
        registry = Registry()
        from tests.unit.test_pipeline import get_weather

        registry.register(get_weather, keywords=("temperature", "forecast"))
    registry.use_index(ToolIndex(embedder=HashEmbedder()))  # embedding scores: models judge
    return registry


def _engine(monkeypatch: pytest.MonkeyPatch, clarify_below: float,
            relevance: RelevanceModel = HALF, *, lone: bool = False) -> Engine:
    monkeypatch.setattr(RelevanceModel, "shipped", classmethod(lambda cls: relevance))
    config = EngineConfig(clarify_below=clarify_below,
                          rules=StagedRules(whole_places=False))  # Paris would settle it
    return Engine(_registry(lone=lone), model=staged_model(), config=config)


async def _confidence(engine: Engine, question: str) -> float:
    pipeline = engine.pipeline()
    assert isinstance(pipeline.strategy, StagedStrategy)
    turn = Turn(question=question, history=[])
    turn.hits = await pipeline.retrieve(turn)
    choice = await pipeline.strategy.choose(turn)
    assert choice.confidence is not None
    return choice.confidence


async def test_weak_evidence_asks_which_tool_and_calls_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = _engine(monkeypatch, clarify_below=0.6)  # 0.5 x the selection's: below 0.6
    events: list[Event] = []
    run = await engine.arun(WEATHER, on_event=events.append)
    assert run.outcome == "clarify" and run.calls == [] and not run.gated
    assert run.clarify[0] == "get_weather" and set(run.clarify) <= set(run.candidates)
    assert run.answer == clarify_answer(run.clarify)
    assert all(name in run.answer for name in run.clarify)
    assert not [e for e in events if isinstance(e, (CallProposed, Executed))]  # nothing filled
    assert not ungrounded(run.answer, sources(WEATHER, [], names=run.candidates))
    assert run.to_dict()["outcome"] == "clarify"


async def test_the_bar_is_the_calibrated_confidence_in_the_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    confidence = await _confidence(_engine(monkeypatch, 0.0), WEATHER)
    assert 0.0 < confidence <= 0.5  # relevance 0.5 times the selection's probability
    at = await _engine(monkeypatch, clarify_below=confidence).arun(WEATHER)
    assert at.outcome == "calls" and [c.name for c in at.calls] == ["get_weather"]
    above = await _engine(monkeypatch, clarify_below=confidence + 1e-6).arun(WEATHER)
    assert above.outcome == "clarify"


async def test_strong_evidence_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = _engine(monkeypatch, clarify_below=0.99, relevance=SURE, lone=True)
    assert await _confidence(engine, WEATHER) > 0.99  # a sure call of the only candidate
    run = await engine.arun(WEATHER)
    assert run.outcome == "calls" and [c.name for c in run.calls] == ["get_weather"]


async def test_zero_turns_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    run = await _engine(monkeypatch, clarify_below=0.0).arun(WEATHER)
    assert run.outcome == "calls" and run.clarify == []


async def test_gated_sentences_are_not_asked_about(monkeypatch: pytest.MonkeyPatch) -> None:
    never = RelevanceModel(weights=dict.fromkeys(FEATURES, 0.0), bias=-50.0, threshold=0.4)
    run = await _engine(monkeypatch, clarify_below=1.0, relevance=never).arun(WEATHER)
    assert run.outcome == "gated" and run.clarify == []


def _sure_of_nothing() -> Engine:
    """The built-in tools with the real evidence, asking about every call the calibrated
    models judge (``clarify_below`` 1)."""
    config = EngineConfig(clarify_below=1.0)
    return Engine(default_registry(), model=staged_model(), config=config)


@pytest.mark.parametrize(("sentence", "tool"), [
    ("what is twelve times seven", "calculate"),              # arithmetic
    ("how many kilometers is 42 miles?", "convert_units"),    # a conversion's pair
    ("Is it raining in Berlin?", "get_weather"),              # a place the tool wants
])
async def test_rules_that_settle_a_call_never_ask(sentence: str, tool: str) -> None:
    run = await _sure_of_nothing().arun(sentence)
    assert run.outcome == "calls" and [c.name for c in run.calls] == [tool]


async def test_a_follow_up_never_asks() -> None:
    question = "What time is it in Tokyo?"
    first = await Engine(default_registry(), model=staged_model(),
                         config=EngineConfig(clarify_below=0.0)).arun(question)
    assert [c.name for c in first.calls] == ["get_time"]
    then = await _sure_of_nothing().arun("and in London?", history=_turn(question, first))
    assert then.outcome == "calls" and [c.arguments for c in then.calls] == [
        {"timezone": "London"}]


async def test_a_forced_tool_never_asks(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = _engine(monkeypatch, clarify_below=1.0)
    run = await engine.pipeline().run(WEATHER, tool_choice="required")
    assert run.outcome == "calls"


def test_the_question_names_the_likeliest_candidates() -> None:
    assert clarify_names({"a": 0.1, "b": 0.5, "c": 0.3, "d": 0.05}) == ["b", "c"]
    assert clarify_names({"a": 0.3, "b": 0.3, "c": 0.2, "d": 0.2}) == ["a", "b", "c"]
    assert clarify_names({"only": 1.0}) == ["only"]
    assert clarify_answer(["convert_currency", "get_exchange_rate"]) == (
        "Did you mean convert_currency or get_exchange_rate? Please ask again naming the one "
        "you want.")
    assert clarify_answer(["a", "b", "c"]).startswith("Did you mean a, b or c?")
    assert "get_weather" in clarify_answer(["get_weather"])


def test_the_run_outcome() -> None:
    assert Run(prompt="x", clarify=["a"]).outcome == "clarify"
    assert Run(prompt="x", gated=True).outcome == "gated"
    assert Run(prompt="x", missing=["city"]).outcome == "missing"
    assert Run(prompt="x").outcome == "answer"


def test_the_setting_comes_from_the_environment_and_the_interaction(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    default = Engine(Registry(), model=ScriptedModel(), settings=Settings(home=tmp_path))
    assert default.config.clarify_below == CLARIFY_BELOW
    monkeypatch.setenv("TOOLWIRE_CLARIFY_BELOW", "0")
    off = Engine(Registry(), model=ScriptedModel(), settings=Settings(home=tmp_path))
    assert off.config.clarify_below == 0.0
    assert run_overrides({"clarify_below": 0.3}) == {"clarify_below": 0.3}
    with pytest.raises(ValueError):
        run_overrides({"clarify_below": 2})


def test_the_default_is_the_fitted_one() -> None:
    fitted = json.loads((Path(__file__).parents[2] / "docs" / "clarify.json").read_text())
    assert fitted["clarify_below"] == CLARIFY_BELOW
    assert "tuning split" in fitted["fitted"]["on"]


async def test_execute_answers_with_the_outcome_and_stores_it(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path,
) -> None:
    monkeypatch.setattr(RelevanceModel, "shipped", classmethod(lambda cls: HALF))
    settings = settings_for(tmp_path, clarify_below=0.6)
    engine = Engine(_registry(), model=staged_model(), settings=settings)
    engine.config.rules = StagedRules(whole_places=False)
    app = create_app(engine=engine, database_url=database_url, settings=settings)
    async for client in start(app):
        response = await client.post("/execute", json={"prompt": WEATHER})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["outcome"] == "clarify" and body["calls"] == []
        assert body["clarify"][0] == "get_weather" and body["answer"].startswith("Did you mean")
        detail = (await client.get(f"/interactions/{body['interaction_id']}")).json()
        assert [m["outcome"] for m in detail["messages"]] == [None, "clarify"]
        made = await client.post("/interactions", json={"settings": {"clarify_below": 0}})
        off = await client.post("/execute", json={
            "prompt": WEATHER, "interaction_id": made.json()["id"]})
        assert off.json()["outcome"] == "calls"
