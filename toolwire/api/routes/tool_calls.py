"""``/tool-calls``: list stored calls (those waiting for approval first of all), read one,
approve or reject one that waits."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from toolwire.api.deps import OwnerDep, SessionDep, StateDep
from toolwire.api.errors import ApiError
from toolwire.api.routes.interactions import Offset
from toolwire.service.approvals import Decided, decide
from toolwire.store import data
from toolwire.store.tables import ToolCallPublic

router = APIRouter(prefix="/tool-calls", tags=["tool calls"])

CallStatusFilter = Literal[
    "ok", "error", "timeout", "invalid", "not_executable", "pending_approval", "approved",
    "rejected",
]


class ToolCallRecord(ToolCallPublic):
    """A stored call with the reply that made it and its interaction."""

    message_id: uuid.UUID
    interaction_id: uuid.UUID


class ToolCallPage(BaseModel):
    items: list[ToolCallRecord]
    total: int
    limit: int
    offset: int


class DecisionRequest(BaseModel):
    reason: str | None = Field(default=None, max_length=2000, description="Why (kept with it)")


class DecisionResponse(BaseModel):
    call: ToolCallRecord
    message_status: str
    """``done`` once no call of the message waits any more, else ``awaiting_approval``."""
    answer: str
    """The message's answer, describing the outcome."""


def record_public(record: data.CallRecord) -> ToolCallRecord:
    return ToolCallRecord.model_validate(
        record.call, update={"message_id": record.reply.id, "interaction_id": record.interaction_id}
    )


@router.get("", response_model=ToolCallPage)
def list_tool_calls(
    session: SessionDep,
    owner: OwnerDep,
    status: CallStatusFilter | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Offset = 0,
) -> ToolCallPage:
    """Tool calls, newest first; ``?status=pending_approval`` for those waiting for a person."""
    records, total = data.list_calls(session=session, status=status, limit=limit, offset=offset,
                                     owner=owner)
    return ToolCallPage(items=[record_public(r) for r in records], total=total, limit=limit,
                        offset=offset)


@router.get("/{call_id}", response_model=ToolCallRecord)
def read_tool_call(call_id: uuid.UUID, session: SessionDep, owner: OwnerDep) -> ToolCallRecord:
    record = data.get_call(session=session, call_id=call_id, owner=owner)
    if record is None:
        raise ApiError(404, "not_found", f"no tool call {call_id}")
    return record_public(record)


@router.post("/{call_id}/approve", response_model=DecisionResponse)
async def approve(
    call_id: uuid.UUID, state: StateDep, owner: OwnerDep, body: DecisionRequest | None = None
) -> DecisionResponse:
    """Run the waiting call, then finish its message with an answer."""
    return _response(await _decide(state, owner, call_id, True, body))


@router.post("/{call_id}/reject", response_model=DecisionResponse)
async def reject(
    call_id: uuid.UUID, state: StateDep, owner: OwnerDep, body: DecisionRequest | None = None
) -> DecisionResponse:
    """Refuse the waiting call (it never runs); the message's answer says so."""
    return _response(await _decide(state, owner, call_id, False, body))


async def _decide(
    state: StateDep, owner: str | None, call_id: uuid.UUID, approve: bool,
    body: DecisionRequest | None,
) -> Decided:
    return await decide(
        database=state.database, engines=state.engines, call_id=call_id, approve=approve,
        by=owner or "local", reason=body.reason if body else None, owner=owner,
    )


def _response(decided: Decided) -> DecisionResponse:
    return DecisionResponse(call=record_public(decided.record),
                            message_status=decided.message_status, answer=decided.answer)
