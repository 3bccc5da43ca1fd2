"""The stored record: interaction → messages → tool calls, in SQLModel's layering.

Each resource has a ``Base`` (fields a client may set), a ``Create`` (request body),
a ``Public`` (what the API returns) and the table class (``table=True``)::

    InteractionBase ─┬─ InteractionCreate
                     ├─ InteractionPublic ── InteractionDetail (with messages)
                     └─ Interaction (table)
    MessageBase ─────┬─ MessageCreate
                     ├─ MessagePublic (with tool calls)
                     └─ Message (table)
    ToolCallPublic, ToolCall (table)
    IdempotencyRecord (table): the first response to a request sent with an Idempotency-Key

A user message carries the processing status (pending → running → done | failed); the
assistant reply answers it (``reply_to_id``) and owns the tool calls made on the way.
"""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, StrictBool, WithJsonSchema
from sqlalchemy import String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from toolwire.store.types import JSONType, UTCDateTime, utcnow

MessageStatus = Literal["pending", "running", "awaiting_approval", "done", "failed"]
MessageRole = Literal["user", "assistant"]
MESSAGE_STATUSES: tuple[MessageStatus, ...] = (
    "pending", "running", "awaiting_approval", "done", "failed",
)
Decision = Literal["approved", "rejected"]


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be empty or only whitespace")
    return text


Prompt = Annotated[
    str,
    AfterValidator(_not_blank),
    WithJsonSchema({"type": "string", "minLength": 1, "pattern": r"\S"}),
]
"""A user's prompt: some non-space text."""


# -- interaction ----------------------------------------------------------------------------
class RunSettings(SQLModel):
    """The settings of an interaction that every run of it applies (others are kept as given)."""

    model_config = ConfigDict(extra="allow")  # type: ignore[assignment]

    temperature: float | None = Field(default=None, ge=0, le=2)
    """Sampling temperature of every model call (default: greedy)."""
    max_tokens: int | None = Field(default=None, ge=1, le=4096)
    """A cap on every model call's output, in tokens."""
    k: int | None = Field(default=None, ge=1, le=50)
    """Tools retrieval offers the model."""
    strategy: Literal["auto", "native", "plain", "staged"] | None = None
    free_answers: StrictBool | None = None
    """Whether a sentence no tool serves may be answered from the model's own knowledge
    (default: the server's ``TOOLWIRE_FREE_ANSWERS``); ``true`` or ``false``, nothing else."""
    clarify_below: float | None = Field(default=None, ge=0, le=1)
    """Below this confidence in a call no tool is called and the answer asks which tool is
    meant (default: the server's ``TOOLWIRE_CLARIFY_BELOW``); 0 turns it off."""


def _run_settings(value: dict[str, Any]) -> dict[str, Any]:
    RunSettings.model_validate(value)  # raises (422) for a known key with a bad value
    return value


class InteractionBase(SQLModel):
    system_prompt: str | None = Field(default=None, sa_type=Text, max_length=8000)
    """Instructions placed before every prompt of the interaction."""
    model: str | None = Field(default=None, max_length=200)
    """Model string for this interaction; ``None`` means the server's default."""
    settings: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    """Free-form settings kept with the interaction."""


class InteractionCreate(InteractionBase):
    """Body of ``POST /interactions``."""

    settings: Annotated[dict[str, Any], AfterValidator(_run_settings)] = Field(
        default_factory=dict,
        description="temperature (0-2), max_tokens, k (tools offered), strategy, "
                    "free_answers (true or false) and clarify_below (0-1, 0 off) apply to "
                    "every run of the interaction; other keys are kept as given",
    )


class Interaction(InteractionBase, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner: str | None = Field(default=None, max_length=200, index=True)
    """Who may see it (an API key's owner); ``None`` until keys exist."""
    created: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    updated: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


# -- tool call ------------------------------------------------------------------------------
class ToolCallPublic(SQLModel):
    id: uuid.UUID
    call_id: str
    """The pipeline's (or provider's) id for the call."""
    name: str
    arguments: dict[str, Any]
    status: str
    """``running`` (stored before the tool runs), then ``ok``, ``error``, ``timeout``,
    ``invalid``, ``not_executable``, ``pending_approval`` (waiting for a person), ``approved``
    (running after approval) or ``rejected``."""
    result: Any = None
    error: dict[str, Any] | None = None
    snippet: str | None = None
    attempts: list[dict[str, Any]] = Field(default_factory=list)
    """Each try at the arguments with the validation errors it got."""
    started: datetime | None = None
    finished: datetime | None = None
    duration_ms: float = 0.0
    decision: Decision | None = None
    """A person's answer to a call that needed approval."""
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None


class ToolCall(SQLModel, table=True):
    __tablename__ = "tool_call"
    __table_args__ = (  # one row per call of a message, whoever records it (migration 0006)
        UniqueConstraint("message_id", "idempotency_key",
                         name="uq_tool_call_message_id_idempotency_key"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    message_id: uuid.UUID = Field(foreign_key="message.id", index=True, ondelete="CASCADE")
    call_id: str = Field(max_length=200)
    name: str = Field(max_length=200, index=True)
    arguments: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    attempts: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    status: str = Field(sa_type=String(32), index=True)
    result: Any = Field(default=None, sa_type=JSONType, nullable=True)
    error: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    snippet: str | None = Field(default=None, sa_type=Text)
    started: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished: datetime | None = Field(default=None, sa_type=UTCDateTime)
    duration_ms: float = 0.0
    decision: str | None = Field(default=None, sa_type=String(16))
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_reason: str | None = Field(default=None, sa_type=Text)
    idempotency_key: str | None = Field(default=None, sa_type=String(64), index=True)
    """Which call of its message this is (name, arguments, occurrence): a resumed message
    finds the calls already executed by it and does not run them again."""
    created: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


# -- message --------------------------------------------------------------------------------
class MessageBase(SQLModel):
    content: str = Field(sa_type=Text)


class MessageCreate(MessageBase):
    """Body of ``POST /interactions/{id}/messages``: the user's prompt."""

    content: Prompt


class MessagePublic(MessageBase):
    id: uuid.UUID
    interaction_id: uuid.UUID
    role: MessageRole
    status: MessageStatus
    error: str | None = None
    reply_to_id: uuid.UUID | None = None
    outcome: str | None = None
    """A finished reply's outcome: ``calls``, ``missing`` (it asks for values), ``clarify`` (it
    asks which tool is meant), ``gated`` or ``answer`` (no call); ``None`` on prompts."""
    created: datetime
    updated: datetime
    tool_calls: list[ToolCallPublic] = Field(default_factory=list)


class Message(MessageBase, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    interaction_id: uuid.UUID = Field(
        foreign_key="interaction.id", index=True, ondelete="CASCADE"
    )
    role: str = Field(sa_type=String(16))
    status: str = Field(default="pending", sa_type=String(32), index=True)
    error: str | None = Field(default=None, sa_type=Text)
    reply_to_id: uuid.UUID | None = Field(
        default=None, foreign_key="message.id", index=True, ondelete="CASCADE"
    )
    lease_owner: str | None = Field(default=None, sa_type=String(64))
    """The process working on a ``running`` message."""
    lease_expires: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    """Renewed while the owner runs; once past, any process may take the message up again."""
    attempts: int = 0
    """How many times processing started (a message is failed after too many)."""
    outcome: str | None = Field(default=None, sa_type=String(16))
    """What the run answering the prompt did (``Run.outcome``), on its reply."""
    sources_version: int | None = None
    """The tool sources' version (``ToolSourceVersion``) when the prompt was accepted: whichever
    process runs it loads at least those sources first, so it is offered the same tools."""
    created: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    updated: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


# -- interaction with its history ----------------------------------------------------------
class InteractionPublic(InteractionBase):
    id: uuid.UUID
    created: datetime
    updated: datetime


class InteractionDetail(InteractionPublic):
    """One interaction with a page of its messages and their tool calls, oldest first."""

    messages: list[MessagePublic] = Field(default_factory=list)
    message_count: int = 0
    """How many messages the interaction has in all (page with ``limit``/``offset``)."""


class InteractionPage(SQLModel):
    """A page of interactions, newest first."""

    items: list[InteractionPublic]
    total: int
    limit: int
    offset: int


# -- tool source ----------------------------------------------------------------------------
SOURCE_LABEL_CHARS = 300
"""The longest label a tool source may have (``openapi:<title>``, ``mcp:<url>``)."""


class ToolSource(SQLModel, table=True):
    """An imported tool source (an OpenAPI document, an MCP server), loaded again on start.

    Only the name of a credential is kept (``auth``), never its secret.
    """

    __tablename__ = "tool_source"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    kind: str = Field(sa_type=String(16))
    """``openapi`` or ``mcp``."""
    label: str = Field(sa_type=String(SOURCE_LABEL_CHARS), unique=True)
    """The ``Tool.source`` of its tools (``openapi:<title>``, ``mcp:<server>``)."""
    location: str | None = Field(default=None, sa_type=Text)
    """The URL, path or MCP command it was imported from."""
    document: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    """The OpenAPI document, when it was given inline (or to reload without the network)."""
    options: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    """``base_url``, ``auth`` (a credential's name), ``include``, ``exclude``, ``timeout``."""
    created: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ToolSourceVersion(SQLModel, table=True):
    """One row (``id`` 1) counting the changes to the tool sources: an import or a forget bumps
    it in its own transaction, so a process sees that its sources are stale with one read."""

    __tablename__ = "tool_source_version"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    version: int = 0
    updated: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# -- API key --------------------------------------------------------------------------------
class ApiKey(SQLModel, table=True):
    """A key a client sends as ``Authorization: Bearer <key>``; only its SHA-256 is kept."""

    __tablename__ = "api_key"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner: str = Field(max_length=200, index=True)
    """Whose data the key reaches: every interaction it creates belongs to this owner."""
    prefix: str = Field(sa_type=String(16))
    """The key's first characters, to tell keys apart in listings."""
    digest: str = Field(sa_type=String(64), unique=True)
    rate_per_minute: int | None = None
    """Requests per minute (default: the server's setting)."""
    max_body_bytes: int | None = None
    """Largest request body (default: the server's setting)."""
    admin: bool = False
    """May change the service's tool registry (import and forget tool sources, see them)."""
    created: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApiKeyPublic(SQLModel):
    id: uuid.UUID
    owner: str
    prefix: str
    rate_per_minute: int | None
    max_body_bytes: int | None
    admin: bool
    created: datetime
    revoked: datetime | None


# -- idempotency key ------------------------------------------------------------------------
class IdempotencyRecord(SQLModel, table=True):
    """The first answer to a request sent with an ``Idempotency-Key`` header, kept 24 hours
    for its retries (``toolwire.service.idempotency``)."""

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("owner", "key", name="uq_idempotency_key_owner_key"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner: str = Field(default="", max_length=200)
    """The calling key's owner (empty with auth off): owners never share keys."""
    key: str = Field(sa_type=String(255))
    """The client's key, as sent."""
    route: str = Field(sa_type=String(300))
    """The request it was first sent with: method and path (``POST /execute``)."""
    digest: str = Field(sa_type=String(64))
    """SHA-256 of the request (method, path, query and body): a retry must match it."""
    status: int | None = None
    """The first answer's HTTP status; ``None`` while the first request still runs."""
    body: Any = Field(default=None, sa_type=JSONType, nullable=True)
    """The first answer's JSON body."""
    headers: dict[str, str] = Field(default_factory=dict, sa_type=JSONType)
    """The first answer's headers worth replaying (``Location``)."""
    created: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
