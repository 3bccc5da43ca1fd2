"""What one run of the pipeline produced (the calls made, the answer) and the typed step events
it emits on the way.

Events come in order, for persistence and streaming (SSE): subscribe with
``Engine.run(..., on_event=callback)``; the callback gets each event as the step finishes.
Every event has a ``kind`` string so it serialises to ``{"kind": ..., ...}``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

CallStatus = Literal[
    "ok", "error", "timeout", "invalid", "not_executable", "pending_approval", "approved",
    "rejected",
]
"""``approved``: a person approved the call and it has not returned yet (a stored call's
status between the decision and its outcome)."""


class _Outcome(Protocol):
    status: Any
    result: Any
    error: dict[str, Any] | None
    duration_ms: float


@dataclass(kw_only=True)
class ExecutionResult:
    """What running (or refusing to run) one tool call produced: the part of a call that
    execution fills in (``CallResult.settle``) and the store keeps."""

    status: CallStatus
    result: Any = None
    """The handler's return value as JSON-serialisable data (``ok`` only)."""
    error: dict[str, Any] | None = None
    """``{"type": ..., "message": ...}`` when the call was refused or failed."""
    duration_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @classmethod
    def of(cls, record: _Outcome) -> ExecutionResult:
        """The outcome held by ``record`` (a stored tool call row, a ``CallResult``)."""
        return cls(
            status=record.status, result=record.result, error=record.error,
            duration_ms=record.duration_ms,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Journal(Protocol):
    """Where the calls of a stored message are recorded, so that a message taken up again
    (its worker died, its task was delivered twice) runs no tool twice."""

    def recorded(self, key: str) -> ExecutionResult | None:
        """The outcome an earlier attempt recorded for the call ``key``, if any."""
        ...

    async def begin(self, call: CallResult) -> None:
        """Record that ``call`` is about to run (durably, before it runs); raise when it may
        not run (another process took it first): the run stops there and the tool never
        runs twice."""
        ...


@dataclass(frozen=True, kw_only=True)
class Decision:
    """A person's decision on a call that waited for approval (``Pipeline.resume``), as
    pydantic-ai's deferred tool results carry one per call."""

    approved: bool
    message: str = "rejected"
    """What the answer says of a refused call: ``rejected by ann: keep the taxes``."""


@dataclass(kw_only=True)
class Attempt:
    """One try at filling a call's arguments, with the validation errors it got."""

    arguments: dict[str, Any]
    errors: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class CallResult:
    """One tool call: what was asked, whether it validated, what it returned."""

    id: str
    name: str
    arguments: dict[str, Any]
    status: CallStatus
    result: Any = None
    error: dict[str, Any] | None = None
    """``{"type": ..., "message": ...}`` when the call failed."""
    snippet: str | None = None
    """Python source that reproduces the call outside toolwire."""
    attempts: list[Attempt] = field(default_factory=list)
    duration_ms: float = 0.0
    idempotency_key: str = ""
    """Which call of its run this is (see ``call_key``): the same call of a message taken up
    again has the same key, so it is answered from the record rather than run twice."""

    def settle(self, outcome: ExecutionResult) -> None:
        """Take the outcome of executing (or refusing) this call."""
        self.status = outcome.status
        self.result = outcome.result
        self.error = outcome.error
        self.duration_ms = outcome.duration_ms

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


RunOutcome = Literal["calls", "missing", "clarify", "gated", "answer"]
"""What a run did: made ``calls``; asked for ``missing`` values; asked which tool is meant
(``clarify``: the evidence was too weak to call one); was turned away by the relevance gate
(``gated``); or only answered (``answer``: no tool fits, or none was offered)."""


@dataclass(kw_only=True)
class Run:
    """The outcome of one sentence: zero or more calls and a plain-language answer."""

    prompt: str
    calls: list[CallResult] = field(default_factory=list)
    answer: str = ""
    candidates: list[str] = field(default_factory=list)
    """Names of the tools retrieval offered, best first."""
    missing: list[str] = field(default_factory=list)
    """Required arguments the sentence did not give (the answer asks for them)."""
    model: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)
    gated: bool = False
    """True when the relevance gate judged no retrieved tool relevant: no call was tried."""
    clarify: list[str] = field(default_factory=list)
    """The tools the sentence may mean, best first, when the evidence was too weak to call
    one: no call was tried and the answer asks which."""

    @property
    def outcome(self) -> RunOutcome:
        """What the run did (see ``RunOutcome``)."""
        if self.calls:
            return "calls"
        if self.missing:
            return "missing"
        if self.clarify:
            return "clarify"
        return "gated" if self.gated else "answer"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "outcome": self.outcome}


def call_key(scope: str, name: str, arguments: dict[str, Any], occurrence: int) -> str:
    """The idempotency key of the ``occurrence``-th call of ``name(arguments)`` in ``scope``
    (a stored message's id): equal for the same call when the message is processed again."""
    canonical = json.dumps(arguments, sort_keys=True, separators=(",", ":"), default=str)
    text = f"{scope}\x00{name}\x00{canonical}\x00{occurrence}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# -- step events -----------------------------------------------------------------------------
@dataclass(kw_only=True)
class Event:
    kind: str = field(init=False, default="event")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(kw_only=True)
class Retrieved(Event):
    """Retrieval offered these tools (best first) with their scores."""

    candidates: list[tuple[str, float]]
    kind: str = field(init=False, default="retrieved")


@dataclass(kw_only=True)
class Selected(Event):
    """The tools chosen for this sentence; empty means a plain answer."""

    names: list[str]
    reason: str = ""
    kind: str = field(init=False, default="selected")


@dataclass(kw_only=True)
class CallProposed(Event):
    """Arguments filled for a call (one attempt)."""

    call_id: str
    name: str
    arguments: dict[str, Any]
    attempt: int
    kind: str = field(init=False, default="call_proposed")


@dataclass(kw_only=True)
class ValidationFailed(Event):
    """An attempt's arguments failed the schema; the errors go back to the model."""

    call_id: str
    name: str
    errors: list[str]
    attempt: int
    kind: str = field(init=False, default="validation_failed")


@dataclass(kw_only=True)
class Executed(Event):
    """A call finished (or was refused); carries the full call record."""

    call: CallResult
    kind: str = field(init=False, default="executed")


@dataclass(kw_only=True)
class AnswerDelta(Event):
    """A piece of the answer, as the model generates it (``Answered`` then carries the final
    answer, which is the factual sentence instead when the model's lost a number)."""

    text: str
    kind: str = field(init=False, default="answer_delta")


@dataclass(kw_only=True)
class Answered(Event):
    """The plain-language answer; the run is complete."""

    run: Run
    kind: str = field(init=False, default="answered")


EventHandler = Callable[[Event], None]
