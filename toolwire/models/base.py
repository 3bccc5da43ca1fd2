"""The one-method Model protocol and the data that crosses it.

Every backend (local llama.cpp, OpenAI-compatible, Anthropic, Gemini, the scripted fake)
implements ``complete``. What a backend can do is told by capability attributes, so the
pipeline picks its strategy without knowing the vendor:

- ``supports_tools``: the model takes tool specs and answers with tool calls (native calling).
- ``supports_grammar``: the model can be constrained (JSON Schema, a choice among strings)
  and can score candidate continuations; the pipeline then fills a call stage by stage.
- ``supports_parallel``: one answer may hold several tool calls.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(kw_only=True)
class ToolCallRequest:
    """A call the model asked for; arguments are already parsed from JSON."""

    id: str
    """Provider call id (or a generated one), echoed back with the tool result."""
    name: str
    arguments: dict[str, Any]


@dataclass(kw_only=True)
class Message:
    """One chat message in the provider-neutral form the pipeline speaks."""

    role: Role
    content: str = ""
    tool_calls: list[ToolCallRequest] = field(default_factory=list)
    """Calls an assistant message asked for."""
    tool_call_id: str | None = None
    """For ``role="tool"``: the call this result answers."""
    name: str | None = None
    """For ``role="tool"``: the tool's name."""


@dataclass(kw_only=True)
class ToolSpec:
    """A tool as a model sees it: name, description, JSON Schema of the arguments."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(kw_only=True, frozen=True)
class JsonSchemaConstraint:
    """The answer must be JSON valid against ``schema``."""

    schema: dict[str, Any]


@dataclass(kw_only=True, frozen=True)
class ChoiceConstraint:
    """The answer must be exactly one of ``options``; the backend returns the scores too."""

    options: tuple[str, ...]


@dataclass(kw_only=True, frozen=True)
class GrammarConstraint:
    """The answer must match a GBNF grammar (llama.cpp syntax)."""

    gbnf: str


Constraint = JsonSchemaConstraint | ChoiceConstraint | GrammarConstraint


@dataclass(kw_only=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(kw_only=True)
class Completion:
    """What a model answered."""

    text: str = ""
    tool_calls: list[ToolCallRequest] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    """For a ``ChoiceConstraint``: the log-likelihood of each option (higher is likelier)."""
    usage: Usage = field(default_factory=Usage)
    finish_reason: str = "stop"


@dataclass(kw_only=True, frozen=True)
class Settings:
    """Sampling settings; toolwire is deterministic by default."""

    max_tokens: int = 256
    temperature: float = 0.0
    seed: int = 0
    tool_choice: str = "auto"
    """``auto``, ``none``, ``required`` or a function name (native-calling backends)."""
    stop: tuple[str, ...] = ()
    """Stop generating at any of these strings (not included in the text)."""


@runtime_checkable
class Model(Protocol):
    """The whole provider contract: one async method."""

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
        settings: Settings | None = None,
    ) -> Completion:
        """Answer ``messages``; with ``tools``, may ask for calls; with ``constraint``, obeys it."""
        ...


class ModelError(RuntimeError):
    """A backend failed; the message names the provider and why."""

    def __init__(self, provider: str, message: str, *, status: int | None = None) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.status = status


class TimedModel:
    """``model`` with a deadline on every ``complete``: past it, a ``ModelError`` says so.

    A model that hangs (a stuck server, a scripted fake that never answers) then fails the
    request instead of holding it forever. Backends that enforce their own deadline (the model
    process kills its child) set ``enforces_timeout`` and are not wrapped.
    """

    def __init__(self, model: Model, timeout: float) -> None:
        self.inner = model
        self.timeout = timeout
        self.name = model.name
        self.supports_tools = model.supports_tools
        self.supports_grammar = model.supports_grammar
        self.supports_parallel = model.supports_parallel

    async def complete(
        self,
        messages: list[Message],
        *,
        tools: list[ToolSpec] | None = None,
        constraint: Constraint | None = None,
        settings: Settings | None = None,
    ) -> Completion:
        try:
            async with asyncio.timeout(self.timeout):
                return await self.inner.complete(
                    messages, tools=tools, constraint=constraint, settings=settings
                )
        except TimeoutError:
            provider = self.name.partition(":")[0] or self.name
            raise ModelError(
                provider, f"the model did not answer within {self.timeout:g} s"
            ) from None


def with_timeout(model: Model, timeout: float | None) -> Model:
    """``model`` guarded by ``TimedModel`` (unless it enforces a deadline itself)."""
    if timeout is None or getattr(model, "enforces_timeout", False) or isinstance(model, TimedModel):
        return model
    return TimedModel(model, timeout)
