"""Declared capabilities: every model says what it can do in ``capabilities``, the base class
gives every optional member a default, and a wrapper (``TimedModel``, ``TunedModel``) keeps
every member and capability of the model it wraps. Nothing probes a model with ``getattr``."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import toolwire
from toolwire.messages import Completion, Message, ModelSettings, ToolCallRequest, ToolSpec
from toolwire.models.base import (
    Capabilities,
    Model,
    ModelError,
    ModelHealth,
    ModelWrapper,
    TimedModel,
    TunedModel,
    context_tokens,
    with_timeout,
)
from toolwire.models.scripted import Request, ScriptedModel

ASK = [Message(role="user", content="convert 42 USD to CAD")]
TOOL = ToolSpec(name="convert", description="Convert money.", parameters={"type": "object"})
CALL = ToolCallRequest(id="call_1", name="convert", arguments={"amount": 42})
PIECES = ("42 USD ", "is 52.5 ", "CAD.")
EVERYTHING = Capabilities(tools=True, grammar=True, parallel=True, streams_text=True,
                          streams_tools=True, enforces_timeout=True, context_tokens=2048)
OPTIONAL = ("stream_complete", "stream_tools", "load", "close", "health", "runtime_info")


class EverythingModel(ScriptedModel):
    """Can do everything there is to declare, and notes what reached it."""

    def __init__(self) -> None:
        super().__init__(self._answer, name="everything:x")
        self.capabilities = EVERYTHING
        self.loads = self.closes = 0
        self.streamed_settings: list[ModelSettings] = []

    def _answer(self, request: Request) -> Completion:
        if request.tools:
            return Completion(tool_calls=[CALL], finish_reason="tool_calls")
        return Completion(text="".join(PIECES))

    async def stream_complete(
        self, messages: list[Message], *, settings: ModelSettings, on_text: Callable[[str], None]
    ) -> Completion:
        self.streamed_settings.append(settings)
        for piece in PIECES:
            on_text(piece)
        return Completion(text="".join(PIECES))

    async def stream_tools(
        self, messages: list[Message], *, tools: list[ToolSpec], settings: ModelSettings,
        on_text: Callable[[str], None], on_call: Callable[[ToolCallRequest], None],
    ) -> Completion:
        self.streamed_settings.append(settings)
        on_text(PIECES[0])
        on_call(CALL)
        on_text(PIECES[1])
        return Completion(text="".join(PIECES[:2]), tool_calls=[CALL])

    def load(self) -> None:
        self.loads += 1

    def close(self) -> None:
        self.closes += 1

    def health(self) -> ModelHealth:
        return ModelHealth(state="ready", kind="everything")

    def runtime_info(self) -> dict[str, Any]:
        return {"path": "/models/everything.gguf"}


WRAPPERS: dict[str, Callable[[Model], Model]] = {
    "ModelWrapper": ModelWrapper,
    "TimedModel": lambda model: TimedModel(model, timeout=30),
    "TunedModel": lambda model: TunedModel(model, temperature=0.5, max_tokens=64),
    "TunedModel in TimedModel": lambda model: TimedModel(TunedModel(model, temperature=0.5),
                                                         timeout=30),
}


@pytest.fixture(params=list(WRAPPERS))
def wrap(request: pytest.FixtureRequest) -> Callable[[Model], Model]:
    return WRAPPERS[request.param]


def test_a_wrapper_keeps_the_name_and_every_capability(wrap: Callable[[Model], Model]) -> None:
    wrapped = wrap(EverythingModel())
    assert wrapped.name == "everything:x" and wrapped.capabilities == EVERYTHING
    assert (wrapped.supports_tools, wrapped.supports_grammar, wrapped.supports_parallel) == (
        True, True, True)
    assert context_tokens(wrapped) == 2048
    assert with_timeout(wrapped, 5) is wrapped  # it enforces a deadline: not wrapped again


async def test_text_still_streams_through_a_wrapper(wrap: Callable[[Model], Model]) -> None:
    inner = EverythingModel()
    pieces: list[str] = []
    completion = await wrap(inner).stream_complete(ASK, settings=ModelSettings(),
                                                   on_text=pieces.append)
    assert pieces == list(PIECES) and completion.text == "".join(PIECES)
    assert len(inner.streamed_settings) == 1 and not inner.requests  # streamed, not completed


async def test_tool_calls_still_stream_through_a_wrapper(wrap: Callable[[Model], Model]) -> None:
    inner = EverythingModel()
    seen: list[object] = []
    completion = await wrap(inner).stream_tools(ASK, tools=[TOOL], settings=ModelSettings(),
                                                on_text=seen.append, on_call=seen.append)
    assert seen == [PIECES[0], CALL, PIECES[1]]  # the call between the pieces, as it came
    assert completion.tool_calls == [CALL] and not inner.requests


def test_load_close_health_and_runtime_info_reach_the_model(
    wrap: Callable[[Model], Model],
) -> None:
    inner = EverythingModel()
    wrapped = wrap(inner)
    wrapped.load()
    wrapped.close()
    assert (inner.loads, inner.closes) == (1, 1)
    assert wrapped.health() == ModelHealth(state="ready", kind="everything")
    assert wrapped.runtime_info() == {"path": "/models/everything.gguf"}


def test_every_optional_member_is_passed_through() -> None:
    """A member added to ``Model`` must be added to ``ModelWrapper`` too."""
    members = {name for name, value in vars(Model).items()
               if callable(value) and not name.startswith("_")}
    assert set(OPTIONAL) | {"complete"} == members
    assert members <= set(vars(ModelWrapper))


async def test_a_tuned_model_tunes_streamed_calls_too() -> None:
    inner = EverythingModel()
    tuned = TunedModel(inner, temperature=0.5, max_tokens=64)
    await tuned.stream_complete(ASK, settings=ModelSettings(max_tokens=512), on_text=print)
    await tuned.stream_tools(ASK, tools=[TOOL], settings=ModelSettings(), on_text=print,
                             on_call=print)
    assert [(s.temperature, s.max_tokens) for s in inner.streamed_settings] == [(0.5, 64)] * 2


class Hanging(EverythingModel):
    """Streams its calls, and never finishes."""

    async def stream_tools(self, *args: Any, **kwargs: Any) -> Completion:
        await asyncio.Event().wait()
        raise AssertionError("never answered")


async def test_a_timed_model_declares_its_deadline_and_holds_streamed_calls_to_it() -> None:
    inner = Hanging()
    inner.capabilities = dataclasses.replace(EVERYTHING, enforces_timeout=False)
    timed = with_timeout(inner, 0.05)
    assert isinstance(timed, TimedModel) and timed.capabilities.enforces_timeout
    assert dataclasses.replace(timed.capabilities, enforces_timeout=False) == inner.capabilities
    with pytest.raises(ModelError, match=r"did not answer within 0\.05 s"):
        await timed.stream_tools(ASK, tools=[TOOL], settings=ModelSettings(), on_text=print,
                                 on_call=print)


class Plain(Model):
    """Only ``complete``: every other member is the base class's default."""

    name = "plain"

    async def complete(self, messages: list[Message], *, tools: list[ToolSpec] | None = None,
                       constraint: object = None,
                       settings: ModelSettings | None = None) -> Completion:
        if tools:
            return Completion(text="Converting.", tool_calls=[CALL])
        return Completion(text="Hello there.")


async def test_the_defaults_answer_in_one_piece_and_do_nothing_else() -> None:
    model = Plain()
    assert model.capabilities == Capabilities()
    assert context_tokens(model) == Capabilities().context_tokens
    texts: list[str] = []
    await model.stream_complete(ASK, settings=ModelSettings(), on_text=texts.append)
    seen: list[object] = []
    await model.stream_tools(ASK, tools=[TOOL], settings=ModelSettings(), on_text=seen.append,
                             on_call=seen.append)
    assert texts == ["Hello there."] and seen == ["Converting.", CALL]
    model.load()
    model.close()
    assert model.health().state == "ok" and model.runtime_info() == {}


def test_a_model_without_complete_cannot_be_made() -> None:
    class Empty(Model):
        name = "empty"

    with pytest.raises(TypeError):
        Empty()  # type: ignore[abstract]


def test_no_model_member_is_probed_with_getattr() -> None:
    members = "|".join((*OPTIONAL, "context_tokens", "enforces_timeout", "supports_\\w+"))
    probe = re.compile(rf"getattr\([^)]*[\"']({members})[\"']")
    source = Path(toolwire.__file__).parent
    found = [f"{path.relative_to(source)}: {line.strip()}"
             for path in sorted(source.rglob("*.py"))
             for line in path.read_text().splitlines() if probe.search(line)]
    assert found == []
