"""Typed step events the pipeline emits, in order, for persistence and streaming (SSE).

Subscribe with ``Engine.run(..., on_event=callback)``; the callback gets each event as the
step finishes. Every event has a ``kind`` string so it serialises to ``{"kind": ..., ...}``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from toolwire.results import CallResult, Run


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
class Answered(Event):
    """The plain-language answer; the run is complete."""

    run: Run
    kind: str = field(init=False, default="answered")


EventHandler = Callable[[Event], None]
