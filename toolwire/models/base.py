"""The one-method Model protocol (the data that crosses it lives in ``toolwire.messages``).

Every backend (local llama.cpp, OpenAI-compatible, Anthropic, Gemini, the scripted fake)
implements ``complete``. What a backend can do is told by capability attributes, so the
pipeline picks its strategy without knowing the vendor:

- ``supports_tools``: the model takes tool specs and answers with tool calls (native calling).
- ``supports_grammar``: the model can be constrained (JSON Schema, a choice among strings)
  and can score candidate continuations; the pipeline then fills a call stage by stage.
- ``supports_parallel``: one answer may hold several tool calls.

A backend may also state ``context_tokens``, the tokens its context window holds (prompt and
answer together); ``context_tokens(model)`` reads it, with a large default for backends that do
not say (the remote APIs), so the history sent to a model is cut to what it can take.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Protocol, runtime_checkable

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

__all__ = [
    "ChoiceConstraint",
    "Completion",
    "Constraint",
    "GrammarConstraint",
    "JsonSchemaConstraint",
    "Message",
    "Model",
    "ModelError",
    "ModelSettings",
    "Role",
    "Settings",
    "TimedModel",
    "ToolCallRequest",
    "ToolSpec",
    "Usage",
    "context_tokens",
    "with_timeout",
]

DEFAULT_CONTEXT_TOKENS = 128_000
"""The context window assumed for a backend that states none (the remote APIs' models hold
this much or more; a smaller one answers with the provider's own error, as before)."""


@runtime_checkable
class Model(Protocol):
    """The whole provider contract: one async method.

    Optional attributes a backend may have besides (read with ``getattr``): ``context_tokens``
    (its context window; see ``context_tokens()``), ``enforces_timeout``, ``stream_tools``.
    """

    name: str
    supports_tools: bool
    supports_grammar: bool
    supports_parallel: bool

    async def complete(
        self,
        messages: list[Message],
        *,
        tools: list[ToolSpec] | None = None,
        constraint: Constraint | None = None,
        settings: ModelSettings | None = None,
    ) -> Completion:
        """Answer ``messages``; with ``tools``, may ask for calls; with ``constraint``, obeys it."""
        ...


def context_tokens(model: object) -> int:
    """The tokens ``model``'s context window holds: its ``context_tokens`` attribute, or
    ``DEFAULT_CONTEXT_TOKENS`` for a backend that states none."""
    window = getattr(model, "context_tokens", None)
    if isinstance(window, int) and not isinstance(window, bool) and window > 0:
        return window
    return DEFAULT_CONTEXT_TOKENS


class ModelError(RuntimeError):
    """A backend failed; the message names the provider and why."""

    def __init__(self, provider: str, message: str, *, status: int | None = None) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.status = status


class ModelWrapper:
    """A model around ``inner`` that keeps its name and capabilities (deadlines, an
    interaction's sampling settings)."""

    def __init__(self, model: Model) -> None:
        self.inner = model
        self.name = model.name
        self.supports_tools = model.supports_tools
        self.supports_grammar = model.supports_grammar
        self.supports_parallel = model.supports_parallel
        self.context_tokens = context_tokens(model)
        self.enforces_timeout: bool = getattr(model, "enforces_timeout", False)


class TimedModel(ModelWrapper):
    """``model`` with a deadline on every ``complete``: past it, a ``ModelError`` says so.

    A model that hangs (a stuck server, a scripted fake that never answers) then fails the
    request instead of holding it forever. Backends that enforce their own deadline (the model
    process kills its child) set ``enforces_timeout`` and are not wrapped.
    """

    def __init__(self, model: Model, timeout: float) -> None:
        super().__init__(model)
        self.timeout = timeout

    async def complete(
        self,
        messages: list[Message],
        *,
        tools: list[ToolSpec] | None = None,
        constraint: Constraint | None = None,
        settings: ModelSettings | None = None,
    ) -> Completion:
        try:
            async with asyncio.timeout(self.timeout):
                return await self.inner.complete(
                    messages, tools=tools, constraint=constraint, settings=settings
                )
        except TimeoutError:
            raise self._late() from None

    async def stream_complete(
        self, messages: list[Message], *, settings: ModelSettings, on_text: Callable[[str], None]
    ) -> Completion:
        from toolwire.models.streaming import stream_text

        try:
            async with asyncio.timeout(self.timeout):
                return await stream_text(self.inner, messages, settings=settings, on_text=on_text)
        except TimeoutError:
            raise self._late() from None

    def _late(self) -> ModelError:
        provider = self.name.partition(":")[0] or self.name
        return ModelError(provider, f"the model did not answer within {self.timeout:g} s")


def with_timeout(model: Model, timeout: float | None) -> Model:
    """``model`` guarded by ``TimedModel`` (unless it enforces a deadline itself)."""
    if timeout is None or getattr(model, "enforces_timeout", False) or isinstance(model, TimedModel):
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
        return await self.inner.complete(messages, tools=tools, constraint=constraint,
                                         settings=self._tuned(settings))

    async def stream_complete(
        self, messages: list[Message], *, settings: ModelSettings, on_text: Callable[[str], None]
    ) -> Completion:
        from toolwire.models.streaming import stream_text

        return await stream_text(self.inner, messages, settings=self._tuned(settings),
                                 on_text=on_text)

    def _tuned(self, settings: ModelSettings | None) -> ModelSettings:
        settings = settings or ModelSettings()
        if self.temperature is not None:
            settings = dataclasses.replace(settings, temperature=self.temperature)
        if self.max_tokens is not None:
            settings = dataclasses.replace(settings, max_tokens=min(settings.max_tokens,
                                                                    self.max_tokens))
        return settings
