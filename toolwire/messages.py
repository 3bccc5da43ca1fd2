"""The shared types: what crosses between the pipeline, the strategies and every model backend.

Depends on nothing else in toolwire, so tools, the store, the dialects and the models all
speak it without importing one another (pydantic-ai's ``messages.py`` / ``settings.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

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
class ModelSettings:
    """Sampling settings; toolwire is deterministic by default."""

    max_tokens: int = 256
    temperature: float = 0.0
    seed: int = 0
    tool_choice: str = "auto"
    """``auto``, ``none``, ``required`` or a function name (native-calling backends)."""
    stop: tuple[str, ...] = ()
    """Stop generating at any of these strings (not included in the text)."""
