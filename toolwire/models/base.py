"""The ``Model`` base class (the data that crosses it lives in ``toolwire.messages``).

Every backend (local llama.cpp, OpenAI-compatible, Anthropic, Gemini, the scripted fake)
subclasses ``Model`` and implements ``complete``. What a backend can do it declares in its
``capabilities`` record, so the pipeline picks its strategy without knowing the vendor and
callers ask instead of probing for members:

- ``tools``: the model takes tool specs and answers with tool calls (native calling).
- ``grammar``: the model can be constrained (JSON Schema, a choice among strings) and can
  score candidate continuations; the pipeline then fills a call stage by stage.
- ``parallel``: one answer may hold several tool calls.
- ``streams_text``, ``streams_tools``: ``stream_complete`` / ``stream_tools`` hand the answer
  over as it is generated (else in one piece, once it is whole).
- ``enforces_timeout``: every call has a deadline already (no ``TimedModel`` is needed).
- ``context_tokens``: the tokens its context window holds (prompt and answer together); a large
  default for the backends that do not say (the remote APIs), so the history sent to a model
  is cut to what it can take.

Every optional member has a default here (streaming in one piece, ``load`` and ``close`` that do
nothing, a health of ``ok``), and the wrappers (``TimedModel``, ``TunedModel``) pass every member
and the capabilities through to the model they wrap.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from toolwire.errors import ModelError
from toolwire.messages import (
    ChoiceConstraint,
    Completion,
    Constraint,
    GrammarConstraint,
    JsonSchemaConstraint,
    Message,
    ModelSettings,
    Role,
    ToolCallRequest,
    ToolSpec,
    Usage,
)

Settings = ModelSettings
"""The sampling settings under their former name (``toolwire.messages.ModelSettings``)."""

TextSink = Callable[[str], None]
"""Receives each new piece of an answer's text, in order."""

CallSink = Callable[[ToolCallRequest], None]
"""Receives each tool call of an answer, once, as soon as all of it has come."""

__all__ = [
    "CallSink",
    "Capabilities",
    "ChoiceConstraint",
    "Completion",
    "Constraint",
    "GrammarConstraint",
    "JsonSchemaConstraint",
    "Message",
    "Model",
    "ModelError",
    "ModelHealth",
    "ModelSettings",
    "ModelWrapper",
    "Role",
    "Settings",
    "TextSink",
    "TimedModel",
    "ToolCallRequest",
    "ToolSpec",
    "TunedModel",
    "Usage",
    "context_tokens",
    "with_timeout",
]

DEFAULT_CONTEXT_TOKENS = 128_000
"""The context window assumed for a backend that states none (the remote APIs' models hold
this much or more; a smaller one answers with the provider's own error, as before)."""


@dataclass(kw_only=True, frozen=True)
class Capabilities:
    """What a model can do, declared by its backend."""

    tools: bool = False
    """It takes tool specs and answers with tool calls (native tool calling)."""
    grammar: bool = False
    """It obeys a constraint (JSON Schema, GBNF, a choice among strings) and scores options."""
    parallel: bool = False
    """One answer may hold several tool calls."""
    streams_text: bool = False
    """``stream_complete`` hands the text over as it is generated (else whole, at the end)."""
    streams_tools: bool = False
    """``stream_tools`` hands text and each call over as they come (else all at the end)."""
    enforces_timeout: bool = False
    """Every call has a deadline already: the pipeline need not add one."""
    context_tokens: int = DEFAULT_CONTEXT_TOKENS
    """The tokens its context window holds, prompt and answer together."""


@dataclass(kw_only=True)
class ModelHealth:
    """What ``/healthz`` shows of a model."""

    state: str = "ok"
    """``ok`` for a model with no process of its own to watch."""
    kind: str = "in-process or remote"

    def detail(self) -> dict[str, Any]:
        """Everything but the state, as ``/healthz`` shows it."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "state"}


class Model(ABC):
    """The whole provider contract: ``complete``, and a ``capabilities`` record.

    The other members have defaults a backend overrides where it can do better: streaming
    (``stream_complete``, ``stream_tools``), its life cycle (``load``, ``close``) and what it
    reports (``health``, ``runtime_info``).
    """

    name: str
    capabilities: Capabilities = Capabilities()
    """What the model can do; a backend declares its own."""

    @abstractmethod
    async def complete(
        self,
        messages: list[Message],
        *,
        tools: list[ToolSpec] | None = None,
        constraint: Constraint | None = None,
        settings: ModelSettings | None = None,
    ) -> Completion:
        """Answer ``messages``; with ``tools``, may ask for calls; with ``constraint``, obeys it."""

    async def stream_complete(
        self, messages: list[Message], *, settings: ModelSettings, on_text: TextSink
    ) -> Completion:
        """A plain answer (no tools), its text handed to ``on_text`` as it comes: here in one
        piece, once the whole answer is in (``capabilities.streams_text`` is false)."""
        completion = await self.complete(messages, settings=settings)
        if completion.text:
            on_text(completion.text)
        return completion

    async def stream_tools(
        self,
        messages: list[Message],
        *,
        tools: list[ToolSpec],
        settings: ModelSettings,
        on_text: TextSink,
        on_call: CallSink,
    ) -> Completion:
        """``complete`` with ``tools``, each piece of text to ``on_text`` and each call to
        ``on_call``: here all at the end, the text first (``capabilities.streams_tools`` is
        false)."""
        completion = await self.complete(messages, tools=tools, settings=settings)
        if completion.text:
            on_text(completion.text)
        for call in completion.tool_calls:
            on_call(call)
        return completion

    def load(self) -> None:  # noqa: B027 - a default: most models have nothing to load
        """Make the model ready now (weights, a process) rather than on first use; blocks.
        Nothing to do for a model that needs nothing loaded."""

    def close(self) -> None:  # noqa: B027 - a default: most models hold nothing to let go of
        """Let go of what the model holds (a process); using it again starts over."""

    def health(self) -> ModelHealth:
        """The model's state for ``/healthz``: ``ok`` for a model with nothing to watch."""
        return ModelHealth()

    def runtime_info(self) -> dict[str, Any]:
        """What the model reports of where it runs (the file, the CPU features); may load it."""
        return {}

    @property
    def supports_tools(self) -> bool:
        """``capabilities.tools``."""
        return self.capabilities.tools

    @property
    def supports_grammar(self) -> bool:
        """``capabilities.grammar``."""
        return self.capabilities.grammar

    @property
    def supports_parallel(self) -> bool:
        """``capabilities.parallel``."""
        return self.capabilities.parallel


def context_tokens(model: Model) -> int:
    """The tokens ``model``'s context window holds (``capabilities.context_tokens``)."""
    return model.capabilities.context_tokens


class ModelWrapper(Model):
    """A model around ``inner`` that passes every member through: its name, its capabilities,
    streaming, its life cycle and its health. Subclasses change what they are for (deadlines,
    an interaction's sampling settings) and nothing else."""

    def __init__(self, model: Model) -> None:
        self.inner = model
        self.name = model.name
        self.capabilities = model.capabilities

    async def complete(
        self,
        messages: list[Message],
        *,
        tools: list[ToolSpec] | None = None,
        constraint: Constraint | None = None,
        settings: ModelSettings | None = None,
    ) -> Completion:
        return await self.inner.complete(messages, tools=tools, constraint=constraint,
                                         settings=settings)

    async def stream_complete(
        self, messages: list[Message], *, settings: ModelSettings, on_text: TextSink
    ) -> Completion:
        return await self.inner.stream_complete(messages, settings=settings, on_text=on_text)

    async def stream_tools(
        self,
        messages: list[Message],
        *,
        tools: list[ToolSpec],
        settings: ModelSettings,
        on_text: TextSink,
        on_call: CallSink,
    ) -> Completion:
        return await self.inner.stream_tools(messages, tools=tools, settings=settings,
                                             on_text=on_text, on_call=on_call)

    def load(self) -> None:
        self.inner.load()

    def close(self) -> None:
        self.inner.close()

    def health(self) -> ModelHealth:
        return self.inner.health()

    def runtime_info(self) -> dict[str, Any]:
        return self.inner.runtime_info()


class TimedModel(ModelWrapper):
    """``model`` with a deadline on every call (``complete`` and both kinds of streaming): past
    it, a ``ModelError`` says so.

    A model that hangs (a stuck server, a scripted fake that never answers) then fails the
    request instead of holding it forever. Backends that enforce their own deadline (the model
    process kills its child) declare ``enforces_timeout`` and are not wrapped; a ``TimedModel``
    declares it too.
    """

    def __init__(self, model: Model, timeout: float) -> None:
        super().__init__(model)
        self.capabilities = dataclasses.replace(model.capabilities, enforces_timeout=True)
        self.timeout = timeout

    async def complete(
        self,
        messages: list[Message],
        *,
        tools: list[ToolSpec] | None = None,
        constraint: Constraint | None = None,
        settings: ModelSettings | None = None,
    ) -> Completion:
        async with self._deadline():
            return await super().complete(messages, tools=tools, constraint=constraint,
                                          settings=settings)

    async def stream_complete(
        self, messages: list[Message], *, settings: ModelSettings, on_text: TextSink
    ) -> Completion:
        async with self._deadline():
            return await super().stream_complete(messages, settings=settings, on_text=on_text)

    async def stream_tools(
        self,
        messages: list[Message],
        *,
        tools: list[ToolSpec],
        settings: ModelSettings,
        on_text: TextSink,
        on_call: CallSink,
    ) -> Completion:
        async with self._deadline():
            return await super().stream_tools(messages, tools=tools, settings=settings,
                                              on_text=on_text, on_call=on_call)

    @contextlib.asynccontextmanager
    async def _deadline(self) -> AsyncIterator[None]:
        """The call within, cut off past ``timeout`` with a ``ModelError``."""
        try:
            async with asyncio.timeout(self.timeout):
                yield
        except TimeoutError:
            provider = self.name.partition(":")[0] or self.name
            raise ModelError(
                provider, f"the model did not answer within {self.timeout:g} s"
            ) from None


def with_timeout(model: Model, timeout: float | None) -> Model:
    """``model`` guarded by ``TimedModel`` (unless it enforces a deadline itself)."""
    if timeout is None or model.capabilities.enforces_timeout:
        return model
    return TimedModel(model, timeout)


class TunedModel(ModelWrapper):
    """``model`` with an interaction's own sampling settings applied to every call of its runs:
    ``temperature`` replaces the caller's, ``max_tokens`` caps it."""

    def __init__(
        self, model: Model, *, temperature: float | None = None, max_tokens: int | None = None
    ) -> None:
        super().__init__(model)
        self.temperature, self.max_tokens = temperature, max_tokens

    async def complete(
        self,
        messages: list[Message],
        *,
        tools: list[ToolSpec] | None = None,
        constraint: Constraint | None = None,
        settings: ModelSettings | None = None,
    ) -> Completion:
        return await super().complete(messages, tools=tools, constraint=constraint,
                                      settings=self._tuned(settings))

    async def stream_complete(
        self, messages: list[Message], *, settings: ModelSettings, on_text: TextSink
    ) -> Completion:
        return await super().stream_complete(messages, settings=self._tuned(settings),
                                             on_text=on_text)

    async def stream_tools(
        self,
        messages: list[Message],
        *,
        tools: list[ToolSpec],
        settings: ModelSettings,
        on_text: TextSink,
        on_call: CallSink,
    ) -> Completion:
        return await super().stream_tools(messages, tools=tools, settings=self._tuned(settings),
                                          on_text=on_text, on_call=on_call)

    def _tuned(self, settings: ModelSettings | None) -> ModelSettings:
        settings = settings or ModelSettings()
        if self.temperature is not None:
            settings = dataclasses.replace(settings, temperature=self.temperature)
        if self.max_tokens is not None:
            settings = dataclasses.replace(settings, max_tokens=min(settings.max_tokens,
                                                                    self.max_tokens))
        return settings
