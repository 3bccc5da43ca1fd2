"""What one run of the pipeline produced: the calls made and the answer."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

CallStatus = Literal["ok", "error", "timeout", "invalid", "not_executable", "pending_approval"]


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def call_key(scope: str, name: str, arguments: dict[str, Any], occurrence: int) -> str:
    """The idempotency key of the ``occurrence``-th call of ``name(arguments)`` in ``scope``
    (a stored message's id): equal for the same call when the message is processed again."""
    canonical = json.dumps(arguments, sort_keys=True, separators=(",", ":"), default=str)
    text = f"{scope}\x00{name}\x00{canonical}\x00{occurrence}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]
