"""The pipeline end to end on the scripted model: every step, feedback, errors, events."""

from __future__ import annotations

import asyncio
import json
from typing import Literal

import pytest

from toolwire import Registry
from toolwire.engine import Engine
from toolwire.models.base import (
    ChoiceConstraint,
    Completion,
    GrammarConstraint,
    JsonSchemaConstraint,
    ToolCallRequest,
)
from toolwire.models.scripted import Request, ScriptedModel
from toolwire.pipeline import EngineConfig
from toolwire.retrieval import ToolIndex
from toolwire.run import (
    AnswerDelta,
    Answered,
    CallProposed,
    Event,
    Executed,
    Retrieved,
    Selected,
    ValidationFailed,
)
from toolwire.strategies import StagedRules, StagedStrategy


def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: first term
        b: second term
    """
    return a + b


def explode(reason: str) -> None:
    """Always fails with the given reason."""
    raise RuntimeError(reason)


def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> str:
    """Current weather in a city.

    Args:
        city: the city
        unit: celsius or fahrenheit
    """
    return f"sunny in {city}"


def make_registry() -> Registry:
    registry = Registry()
    registry.use_index(ToolIndex(embedder=None))
    registry.register(add, keywords=("sum", "plus"))
    registry.register(explode)
    registry.register(get_weather, keywords=("temperature", "forecast"))
    return registry


def call(name: str, **arguments: object) -> Completion:
    return Completion(tool_calls=[ToolCallRequest(id="", name=name, arguments=dict(arguments))])


async def test_native_call_executes_with_snippet_and_answer() -> None:
    model = ScriptedModel([call("add", a=2, b=3), Completion(text="2 plus 3 is 5.")])
    events: list[Event] = []
    run = await Engine(make_registry(), model=model).arun("add 2 plus 3", on_event=events.append)

    assert [c.name for c in run.calls] == ["add"]
    first = run.calls[0]
    assert first.status == "ok" and first.result == 5 and first.arguments == {"a": 2, "b": 3}
    assert first.id.startswith("call_")
    assert first.snippet is not None and "add(" in first.snippet
    assert run.answer == "2 plus 3 is 5."
    assert run.candidates[0] == "add"
    kinds = [type(e) for e in events]
    assert kinds == [Retrieved, Selected, CallProposed, Executed, AnswerDelta, Answered]
    # a model that cannot stream hands its answer over in one piece
    assert [e.text for e in events if isinstance(e, AnswerDelta)] == ["2 plus 3 is 5."]
    # the tools offered to the model are the retrieved candidates
    assert model.requests[0].tools is not None
    assert "add" in [t.name for t in model.requests[0].tools]
    # the description request carries the result
    assert "(Result: 5)" in model.requests[1].messages[-1].content


async def test_invalid_arguments_are_fed_back_and_repaired() -> None:
    model = ScriptedModel(
        [call("add", a="two", b=3), call("add", a=2, b=3), Completion(text="It is 5.")]
    )
    events: list[Event] = []
    run = await Engine(make_registry(), model=model).arun("add two and 3", on_event=events.append)

    c = run.calls[0]
    assert c.status == "ok" and c.result == 5
    assert [a.arguments for a in c.attempts] == [{"a": "two", "b": 3}, {"a": 2, "b": 3}]
    assert c.attempts[0].errors == ["a: 'two' is not of type 'integer'"]
    failed = [e for e in events if isinstance(e, ValidationFailed)]
    assert len(failed) == 1 and failed[0].attempt == 1
    # the repair request showed the model its errors as a tool result
    feedback = model.requests[1].messages[-1]
    assert feedback.role == "tool" and "is not of type" in feedback.content


async def test_attempts_are_bounded_and_the_call_is_marked_invalid() -> None:
    model = ScriptedModel(
        [call("add", a="x", b=1), call("add", a="y", b=1), Completion(text="Sorry.")]
    )
    engine = Engine(make_registry(), model=model, config=EngineConfig(max_attempts=2))
    run = await engine.arun("add x and 1")
    c = run.calls[0]
    assert c.status == "invalid" and len(c.attempts) == 2
    assert c.error is not None and c.error["type"] == "validation"
    assert c.result is None and c.snippet is None


async def test_tool_exception_is_captured_not_raised() -> None:
    model = ScriptedModel([call("explode", reason="boom"), Completion(text="It failed.")])
    run = await Engine(make_registry(), model=model).arun("explode with boom")
    c = run.calls[0]
    assert c.status == "error"
    assert c.error is not None and c.error["type"] == "RuntimeError" and c.error["message"] == "boom"
    # a failed call is described from the facts, not by the model (which would make things up)
    assert run.answer == "The tool explode, with reason boom, failed: boom."
    assert len(model.requests) == 1


async def test_unknown_tool_from_the_model_is_an_error() -> None:
    model = ScriptedModel([call("rm_rf", path="/"), Completion(text="No.")])
    run = await Engine(make_registry(), model=model).arun("add 1 and 2")
    assert run.calls[0].status == "error"
    assert run.calls[0].error is not None and run.calls[0].error["type"] == "unknown_tool"


async def test_a_registered_tool_that_was_not_offered_never_runs() -> None:
    ran: list[str] = []

    def wipe_disk() -> str:
        """Erase every file."""
        ran.append("wipe")
        return "wiped"

    registry = make_registry()
    registry.register(wipe_disk)
    model = ScriptedModel([call("wipe_disk"), Completion(text="Done.")])
    config = EngineConfig(k=1)  # retrieval offers `add` alone for this sentence
    run = await Engine(registry, model=model, config=config).arun("add 1 and 2")
    assert [t.name for t in model.requests[0].tools or []] == ["add"]
    assert run.calls[0].status == "error" and ran == []
    assert run.calls[0].error is not None and run.calls[0].error["type"] == "not_offered"


async def test_no_call_gives_the_model_text() -> None:
    model = ScriptedModel([Completion(text="Here is a poem.")])
    run = await Engine(make_registry(), model=model).arun("write me a poem about the sea")
    assert run.calls == [] and run.answer == "Here is a poem."


async def test_parallel_native_calls_all_execute() -> None:
    both = Completion(
        tool_calls=[
            ToolCallRequest(id="1", name="add", arguments={"a": 1, "b": 2}),
            ToolCallRequest(id="2", name="add", arguments={"a": 3, "b": 4}),
        ]
    )
    model = ScriptedModel([both, Completion(text="3 and 7.")])
    run = await Engine(make_registry(), model=model).arun("add 1 and 2, and add 3 and 4")
    assert [c.result for c in run.calls] == [3, 7]
    assert [c.id for c in run.calls] == ["1", "2"]


def staged_model(span: str = '"Paris"') -> ScriptedModel:
    """A grammar-capable fake: prefers options containing 'weather' or 'celsius', else first."""

    def respond(request: Request) -> Completion:
        constraint = request.constraint
        if isinstance(constraint, ChoiceConstraint):
            scores = {o: (0.0 if ("weather" in o or "celsius" in o) else -5.0)
                      for o in constraint.options}
            return Completion(text=max(scores, key=lambda o: scores[o]), scores=scores)
        if isinstance(constraint, GrammarConstraint):
            return Completion(text=span)
        if isinstance(constraint, JsonSchemaConstraint):
            return Completion(text="{}")
        return Completion(text="It is sunny in Paris.")

    return ScriptedModel(respond, supports_tools=False, supports_grammar=True)


async def test_staged_strategy_selects_and_fills_from_the_sentence() -> None:
    model = staged_model()
    config = EngineConfig(relevance_threshold=0.0,  # the span grammar, not a named place
                          rules=StagedRules(whole_places=False))
    engine = Engine(make_registry(), model=model, config=config)
    run = await engine.arun("what's the weather in Paris in celsius")
    assert isinstance(engine.pipeline().strategy, StagedStrategy)
    c = run.calls[0]
    assert c.name == "get_weather"
    assert c.arguments == {"city": "Paris", "unit": "celsius"}
    assert c.result == "sunny in Paris"
    grammars = [r.constraint for r in model.requests if isinstance(r.constraint, GrammarConstraint)]
    assert grammars and '"Paris"' in grammars[0].gbnf  # the string is restricted to spans


async def test_staged_optional_parameter_left_out_unless_mentioned() -> None:
    run = await Engine(
        make_registry(), model=staged_model(), config=EngineConfig(relevance_threshold=0.0)
    ).arun("weather forecast for Paris")
    assert run.calls[0].arguments == {"city": "Paris"}


async def test_staged_missing_required_number_is_asked_for_not_invented() -> None:
    def respond(request: Request) -> Completion:
        if isinstance(request.constraint, ChoiceConstraint):
            opts = request.constraint.options
            scores = {o: (0.0 if o.startswith("add") else -9.0) for o in opts}
            return Completion(text=max(scores, key=lambda o: scores[o]), scores=scores)
        return Completion(text="unused")

    model = ScriptedModel(respond, supports_tools=False, supports_grammar=True)
    engine = Engine(make_registry(), model=model, config=EngineConfig(relevance_threshold=0.0))
    run = await engine.arun("please add some numbers")
    assert run.calls == []
    assert run.missing == ["a", "b"]
    assert "To call add I need" in run.answer and "first term" in run.answer


async def test_staged_irrelevant_sentence_makes_no_call() -> None:
    model = staged_model()
    engine = Engine(make_registry(), model=model, config=EngineConfig(relevance_threshold=0.99, named_relevance_threshold=0.99))
    run = await engine.arun("write me a poem about the sea")
    assert run.calls == []
    assert run.answer == "It is sunny in Paris."  # the scripted plain answer
    assert not any(isinstance(r.constraint, ChoiceConstraint) for r in model.requests)


async def test_plain_strategy_parses_one_constrained_answer() -> None:
    def respond(request: Request) -> Completion:
        if isinstance(request.constraint, JsonSchemaConstraint):
            schema = request.constraint.schema
            assert schema["type"] == "array"
            return Completion(text=json.dumps([{"name": "add", "arguments": {"a": 1, "b": 2}}]))
        return Completion(text="3")

    model = ScriptedModel(respond, supports_tools=False, supports_grammar=True)
    engine = Engine(
        make_registry(), model=model,
        config=EngineConfig(strategy="plain", relevance_threshold=0.0),
    )
    run = await engine.arun("add 1 and 2")
    assert [(c.name, c.result) for c in run.calls] == [("add", 3)]


async def test_the_plain_baseline_repairs_plainly() -> None:
    """An invalid plain answer is repaired by asking the same model again, with the errors, for
    one constrained call of that tool: no staged choice, no span grammar."""
    answers = iter([[{"name": "add", "arguments": {"a": "one", "b": 2}}],
                    [{"name": "add", "arguments": {"a": 1, "b": 2}}]])

    def respond(request: Request) -> Completion:
        assert not isinstance(request.constraint, (ChoiceConstraint, GrammarConstraint))
        if isinstance(request.constraint, JsonSchemaConstraint):
            return Completion(text=json.dumps(next(answers)))
        return Completion(text="3")

    model = ScriptedModel(respond, supports_tools=False, supports_grammar=True)
    engine = Engine(make_registry(), model=model,
                    config=EngineConfig(strategy="plain", relevance_threshold=0.0))
    run = await engine.arun("add one and 2")
    [call] = run.calls
    assert (call.name, call.arguments, call.result) == ("add", {"a": 1, "b": 2}, 3)
    assert [a.errors != [] for a in call.attempts] == [True, False]
    repair = [r for r in model.requests if isinstance(r.constraint, JsonSchemaConstraint)][1]
    assert "That call is invalid" in repair.messages[-1].content
    assert repair.constraint.schema["items"]["properties"]["name"] == {"const": "add"}


async def test_one_strategy_serves_concurrent_runs() -> None:
    """A strategy holds no per-call state: concurrent runs on one pipeline keep their values."""
    model = staged_model()
    engine = Engine(make_registry(), model=model, config=EngineConfig(relevance_threshold=0.0))
    pipeline = engine.pipeline()
    runs = await asyncio.gather(*(pipeline.run(f"add {n} and {n + 1}") for n in range(6)))
    assert [r.calls[0].arguments for r in runs] == [{"a": n, "b": n + 1} for n in range(6)]


async def test_propose_calls_uses_request_tools_without_executing() -> None:
    from toolwire.models.base import Message, ToolSpec

    model = ScriptedModel([call("lookup", q="x")])
    spec = ToolSpec(name="lookup", description="look up a word",
                    parameters={"type": "object", "properties": {"q": {"type": "string"}}})
    engine = Engine(make_registry(), model=model)
    calls = await engine.propose_calls([Message(role="user", content="look up x")], [spec])
    assert [(c.name, c.arguments) for c in calls] == [("lookup", {"q": "x"})]
    assert await engine.propose_calls([Message(role="user", content="hi")], [spec], "none") == []


def test_sync_run_refuses_inside_an_event_loop() -> None:
    import asyncio

    engine = Engine(make_registry(), model=ScriptedModel([Completion(text="hi")]))

    async def inside() -> None:
        with pytest.raises(RuntimeError, match="arun"):
            engine.run("hello")

    asyncio.run(inside())
    assert engine.run("hello").answer == "hi"


def test_feasibility_prefers_a_tool_the_sentence_can_fill() -> None:
    from toolwire.builtin import default_registry
    from toolwire.strategies.staged.matching import feasible
    from toolwire.text.reading import read

    registry = default_registry()
    question = "Is it hot in Tokyo today? Tell me in fahrenheit."
    assert not feasible(read(question), registry.get("convert_units"))
    assert feasible(read(question), registry.get("get_weather"))
    assert feasible(read("convert 5 miles to km"), registry.get("convert_units"))


async def test_a_model_answer_that_loses_a_number_is_replaced_by_the_facts() -> None:
    config = EngineConfig(strategy="native")
    facts = "Add two integers, with a 2 and b 3: the result is 5."  # from the description
    for said in ("The sum is 5.", "2 plus 3 is 6."):  # "2" and "3" dropped; a wrong sum
        model = ScriptedModel([call("add", a=2, b=3), Completion(text=said)])
        run = await Engine(make_registry(), model=model, config=config).arun("add 2 plus 3")
        assert run.answer == facts
    right = ScriptedModel([call("add", a=2, b=3), Completion(text="2 plus 3 is 5.")])
    run = await Engine(make_registry(), model=right, config=config).arun("add 2 plus 3")
    assert run.answer == "2 plus 3 is 5."


async def test_a_sentence_naming_the_tool_passes_a_lower_relevance_bar() -> None:
    config = EngineConfig(relevance_threshold=0.99, named_relevance_threshold=0.0)
    engine = Engine(make_registry(), model=staged_model(), config=config)
    named = await engine.arun("what's the weather in Paris")
    assert [c.name for c in named.calls] == ["get_weather"] and not named.gated
    unnamed = await engine.arun("write me a poem about the sea")
    assert unnamed.calls == [] and unnamed.gated


async def test_the_plain_baseline_has_no_relevance_gate() -> None:
    def respond(request: Request) -> Completion:
        if isinstance(request.constraint, JsonSchemaConstraint):
            return Completion(text=json.dumps([{"name": "add", "arguments": {"a": 1, "b": 2}}]))
        return Completion(text="3")

    model = ScriptedModel(respond, supports_tools=False, supports_grammar=True)
    config = EngineConfig(strategy="plain", relevance_threshold=0.99,
                          named_relevance_threshold=0.99)
    run = await Engine(make_registry(), model=model, config=config).arun("add 1 and 2")
    assert [c.name for c in run.calls] == ["add"] and not run.gated
