"""A person's decision on a tool call that needed approval: run it, or refuse it, then finish
its message with an answer.

One function, ``decide``, serves ``POST /tool-calls/{id}/approve|reject`` and
``toolwire approvals approve|reject``. The decision is claimed in the database first
(``pending_approval`` → ``approved``/``rejected`` in one conditional update), so of two people
deciding at once exactly one wins and the tool runs at most once; the other gets a 409.
A process that dies while an approved call runs leaves it ``approved``; the processor's sweep
ends it as ``interrupted`` (never run again) and finishes its message
(``data.interrupt_stale_approvals``, ``finish_if_decided``).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from toolwire.answer import describe, factual_answer
from toolwire.api.errors import ApiError
from toolwire.models.base import Model
from toolwire.run import CallResult
from toolwire.store import data
from toolwire.store.db import Database
from toolwire.store.tables import Message, ToolCall
from toolwire.tools.dispatch import dispatch
from toolwire.tools.registry import Registry
from toolwire.tools.snippets import snippet_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decided:
    """The call after the decision, and where its message stands."""

    record: data.CallRecord
    message_status: str
    answer: str


async def decide(
    *,
    database: Database,
    registry: Registry,
    call_id: uuid.UUID,
    approve: bool,
    by: str,
    reason: str | None = None,
    owner: str | None = None,
    model: Model | None = None,
) -> Decided:
    """Approve (run) or reject the waiting call ``call_id``; 404 for an unknown id (or
    another owner's), 409 for a call that is not waiting. ``model`` describes the outcome;
    without one the answer is the factual sentence."""
    record = await database.read(lambda s: data.get_call(session=s, call_id=call_id, owner=owner))
    if record is None:
        raise ApiError(404, "not_found", f"no tool call {call_id}")
    decision = "approved" if approve else "rejected"
    won = await database.write(lambda s: data.decide_call(
        session=s, call_id=call_id, decision=decision, by=by, reason=reason))
    if not won:
        raise ApiError(409, "conflict", f"tool call {call_id} is {record.call.status}, "
                                        "not waiting for approval")
    if approve:
        ran = await _run(registry, record.call)
        if not await database.write(lambda s: data.settle_call(session=s, call_id=call_id,
                                                                call=ran)):
            log.warning("approved call %s finished after the sweep ended it as interrupted; "
                        "the interrupted record stands", call_id)
    return await _finish(database, registry, record.reply, model, call_id, owner)


async def _run(registry: Registry, row: ToolCall) -> CallResult:
    """Execute the approved call through the registry's validated dispatch."""
    call = CallResult(id=row.call_id, name=row.name, arguments=dict(row.arguments), status="ok")
    call.settle(await dispatch(registry, row.name, row.arguments, approved=True))
    if row.name in registry and registry.get(row.name).executable:
        call.snippet = snippet_for(registry.get(row.name), call.arguments)
    return call


async def _finish(
    database: Database, registry: Registry, reply: Message, model: Model | None, call_id: uuid.UUID,
    owner: str | None,
) -> Decided:
    status, answer = await finish_if_decided(database=database, registry=registry, reply=reply,
                                             model=model)
    record = await database.read(lambda s: data.get_call(session=s, call_id=call_id, owner=owner))
    assert record is not None
    return Decided(record=record, message_status=status, answer=answer)


async def finish_if_decided(
    *, database: Database, registry: Registry, reply: Message, model: Model | None = None
) -> tuple[str, str]:
    """Answer the message of ``reply`` once none of its calls waits any more (for a decision,
    or for an approved call to return); (its status, its answer)."""
    rows = await database.read(
        lambda s: data.list_tool_calls(session=s, message_ids=[reply.id])[reply.id])
    if any(r.status in _WAITING for r in rows):
        return "awaiting_approval", reply.content
    prompt = await database.read(
        lambda s: data.get_message(session=s, message_id=reply.reply_to_id))  # type: ignore[arg-type]
    calls = [_as_result(r) for r in rows]
    answer = (await describe(model, prompt.content if prompt else "", calls, [],
                             tools=registry.find)
              if model is not None else factual_answer(calls, registry.find))
    await database.write(lambda s: data.finish_decided(session=s, reply=reply, answer=answer))
    return "done", answer


_WAITING = ("pending_approval", "approved")
"""Call statuses a message waits on: a decision, or an approved call still running."""


def _as_result(row: ToolCall) -> CallResult:
    return CallResult(id=row.call_id, name=row.name, arguments=dict(row.arguments),
                      status=row.status,  # type: ignore[arg-type]
                      result=row.result, error=row.error, snippet=row.snippet,
                      duration_ms=row.duration_ms)
