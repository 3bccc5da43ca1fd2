"""Request and response bodies of the API that are not stored rows (see ``store.tables``)."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field

from toolwire.run import RunOutcome
from toolwire.store.tables import MessageStatus, Prompt, ToolCallPublic


class ExecuteRequest(BaseModel):
    """Body of ``POST /execute``."""

    prompt: Prompt = Field(description="The sentence to act on.")
    interaction_id: uuid.UUID | None = Field(
        default=None, description="Continue this interaction; a new one is created when null."
    )
    model: str | None = Field(default=None, max_length=200,
                              description="Model string; the server's by default.")


class ExecuteResponse(BaseModel):
    """What ``POST /execute`` did: the calls made and the answer, all stored."""

    interaction_id: uuid.UUID
    message_id: uuid.UUID
    """The stored prompt."""
    reply_id: uuid.UUID
    """The stored answer (which owns the tool calls)."""
    calls: list[ToolCallPublic]
    answer: str
    model: str
    missing: list[str] = Field(default_factory=list)
    """Required arguments the prompt did not give (the answer asks for them)."""
    outcome: RunOutcome
    """What the run did: ``calls``, ``missing`` (the answer asks for values), ``clarify`` (the
    evidence for a call was weak: the answer asks which of ``clarify`` is meant), ``gated``
    or ``answer`` (no call)."""
    clarify: list[str] = Field(default_factory=list)
    """The tools the prompt may mean, best first, when the outcome is ``clarify``."""


class MessageAccepted(BaseModel):
    """``202`` answer to ``POST /interactions/{id}/messages``: poll the message for its status."""

    id: uuid.UUID
    interaction_id: uuid.UUID
    status: MessageStatus


class ToolPublic(BaseModel):
    name: str
    description: str
    parameters: dict[str, Any]
    executable: bool
    requires_approval: bool
    idempotent: bool = False
    """Safe to run again with the same arguments (run again after a crash, with its key)."""
    source: str = "python"
    """``python``, ``schema``, ``openapi:<title>`` or ``mcp:<server>``."""


class ToolHit(BaseModel):
    name: str
    description: str
    parameters: dict[str, Any]
    score: float


class ComponentHealth(BaseModel):
    """One part of the service and its state."""

    state: str
    detail: dict[str, Any] = {}


class Health(BaseModel):
    status: str
    """``ok``; ``degraded`` (the tool pool is saturated or holds stuck threads, the model
    process crashed or failed to load); ``unavailable`` (no database: HTTP 503)."""
    database: str
    model: str
    version: str
    components: dict[str, ComponentHealth] = {}
    """``database``, ``model`` and ``tools``, each with its state."""
