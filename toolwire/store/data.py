"""Keyword-only data functions over the tables; the callers own the session and commit.

A pending message is claimed with one conditional ``UPDATE`` so two workers never process
it twice. Its lease *fences* its work: a call is begun, its outcome stored and the message
finished or failed only in a transaction that also finds the lease still held by the caller
(``hold_lease``); a process whose lease expired and was taken over gets ``LeaseLost`` and
records nothing more. Writes on the request path go through SQLAlchemy Core (``_insert``/``_execute``):
the rows are built as table objects, but the ORM's unit of work, which costs more CPU than
the database itself on a small insert, is skipped. Reads return table objects as usual.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, Executable, delete, func, insert, update
from sqlmodel import Session, SQLModel, col, select

from toolwire.run import CallResult, Run
from toolwire.store.tables import (
    Interaction,
    InteractionCreate,
    InteractionDetail,
    InteractionPublic,
    Message,
    MessagePublic,
    ToolCall,
    ToolCallPublic,
    ToolSource,
    ToolSourceVersion,
)
from toolwire.store.types import to_json, utcnow


def _insert(session: Session, row: SQLModel) -> None:
    session.connection().execute(insert(type(row)), [row.model_dump()])


def _execute(session: Session, statement: Executable) -> CursorResult[Any]:
    result: CursorResult[Any] = session.connection().execute(statement)
    return result


# -- interactions -----------------------------------------------------------------------------
def create_interaction(
    *, session: Session, interaction_in: InteractionCreate, owner: str | None = None
) -> Interaction:
    interaction = Interaction.model_validate(interaction_in, update={"owner": owner})
    _insert(session, interaction)
    return interaction


def get_interaction(
    *, session: Session, interaction_id: uuid.UUID, owner: str | None = None
) -> Interaction | None:
    query = select(Interaction).where(Interaction.id == interaction_id)
    if owner is not None:
        query = query.where(Interaction.owner == owner)
    return session.exec(query).first()


def list_interactions(
    *, session: Session, limit: int, offset: int, owner: str | None = None
) -> tuple[list[Interaction], int]:
    """A page of interactions, newest first, and how many there are in all."""
    query = select(Interaction)
    count = select(func.count()).select_from(Interaction)
    if owner is not None:
        query = query.where(Interaction.owner == owner)
        count = count.where(Interaction.owner == owner)
    query = query.order_by(col(Interaction.created).desc(), col(Interaction.id).desc())
    items = list(session.exec(query.offset(offset).limit(limit)).all())
    return items, int(session.exec(count).one())


def delete_interaction(
    *, session: Session, interaction_id: uuid.UUID, owner: str | None = None
) -> bool:
    """Delete an interaction with its messages and tool calls; ``False`` if it did not exist."""
    statement = delete(Interaction).where(col(Interaction.id) == interaction_id)
    if owner is not None:
        statement = statement.where(col(Interaction.owner) == owner)
    return bool(_execute(session, statement).rowcount)


def touch_interaction(*, session: Session, interaction_id: uuid.UUID) -> None:
    _execute(
        session,
        update(Interaction).where(col(Interaction.id) == interaction_id).values(updated=utcnow()),
    )


# -- messages ---------------------------------------------------------------------------------
def add_user_message(
    *,
    session: Session,
    interaction_id: uuid.UUID,
    content: str,
    lease: Lease | None = None,
    touch: bool = True,
) -> Message:
    """Store a user's prompt; the caller commits it before any work starts.

    Without ``lease`` it is ``pending`` (a worker claims it); with one it is ``running``,
    held by the caller, which processes it now. ``touch`` moves the interaction's ``updated``
    (needless for one created just now). The message keeps the tool sources' version of now,
    so whichever process runs it offers at least those tools.
    """
    message = Message(interaction_id=interaction_id, role="user", content=content,
                      sources_version=tool_sources_version(session=session))
    if lease is not None:
        message.status, message.lease_owner = "running", lease.owner
        message.lease_expires, message.attempts = lease.expires(), 1
    _insert(session, message)
    if touch:
        touch_interaction(session=session, interaction_id=interaction_id)
    return message


def get_message(*, session: Session, message_id: uuid.UUID) -> Message | None:
    return session.get(Message, message_id)


def list_messages(*, session: Session, interaction_id: uuid.UUID) -> list[Message]:
    """The messages of an interaction, oldest first."""
    query = (
        select(Message)
        .where(Message.interaction_id == interaction_id)
        .order_by(col(Message.created), col(Message.role).desc())
    )
    return list(session.exec(query).all())


def recent_prompts(
    *, session: Session, interaction_id: uuid.UUID, before: Message, limit: int
) -> list[Message]:
    """The last ``limit`` user messages created before ``before``, oldest first."""
    query = (
        select(Message)
        .where(Message.interaction_id == interaction_id, Message.role == "user",
               col(Message.created) <= before.created, Message.id != before.id)
        .order_by(col(Message.created).desc())
        .limit(limit)
    )
    return list(reversed(session.exec(query).all()))


def finished_replies(*, session: Session, prompt_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Message]:
    """The finished assistant replies to the given prompts, by prompt id."""
    ids = list(prompt_ids)
    if not ids:
        return {}
    query = select(Message).where(col(Message.reply_to_id).in_(ids), Message.status == "done")
    return {m.reply_to_id: m for m in session.exec(query).all() if m.reply_to_id}


def list_tool_calls(
    *, session: Session, message_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[ToolCall]]:
    """Tool calls of the given messages, in the order they finished."""
    ids = list(message_ids)
    calls: dict[uuid.UUID, list[ToolCall]] = {i: [] for i in ids}
    if not ids:
        return calls
    query = (
        select(ToolCall)
        .where(col(ToolCall.message_id).in_(ids))
        .order_by(col(ToolCall.created), col(ToolCall.id))
    )
    for call in session.exec(query).all():
        calls[call.message_id].append(call)
    return calls


@dataclass(kw_only=True, frozen=True)
class Lease:
    """Who holds a ``running`` message and for how long (renewed while it runs)."""

    owner: str
    seconds: float

    def expires(self) -> datetime:
        return utcnow() + timedelta(seconds=self.seconds)


class LeaseLost(RuntimeError):
    """The caller no longer holds the message's lease: it expired (the process stalled, or
    lost the database) and another process took the message up. The caller stops working on
    it and records nothing more (no call begins, so no tool runs); the new owner finishes it."""

    def __init__(self, message_id: uuid.UUID) -> None:
        super().__init__(f"message {message_id}: its lease was taken over by another process")
        self.message_id = message_id


def hold_lease(*, session: Session, reply_id: uuid.UUID, lease: Lease) -> None:
    """The fence: raise ``LeaseLost`` unless ``lease`` still holds the running prompt that
    ``reply_id`` answers; renew it if so. One conditional ``UPDATE`` of the prompt's row, in
    the caller's transaction: a process taking the message over updates the same row, so it
    waits for this transaction and then finds the lease renewed, or this one finds it lost."""
    prompt = select(Message.reply_to_id).where(col(Message.id) == reply_id).scalar_subquery()
    held = _execute(
        session,
        update(Message)
        .where(col(Message.id) == prompt, col(Message.lease_owner) == lease.owner,
               col(Message.status) == "running")
        .values(lease_expires=lease.expires()),
    ).rowcount
    if not held:
        raise LeaseLost(reply_id)


def claim_message(
    *, session: Session, message_id: uuid.UUID, lease: Lease
) -> tuple[Message, Message] | None:
    """Move a pending user message to ``running`` under ``lease`` and open its reply.

    ``None`` when the message is missing or no longer pending (another worker has it). A
    message taken up again keeps the reply (and the tool calls) of its earlier attempt.
    """
    claimed = _execute(
        session,
        update(Message)
        .where(col(Message.id) == message_id, col(Message.status) == "pending")
        .values(
            status="running",
            lease_owner=lease.owner,
            lease_expires=lease.expires(),
            attempts=col(Message.attempts) + 1,
            updated=utcnow(),
        ),
    ).rowcount
    if not claimed:
        return None
    message = session.get(Message, message_id, populate_existing=True)
    assert message is not None
    earlier = session.exec(select(Message).where(Message.reply_to_id == message_id)).first()
    if earlier is None:
        return message, open_reply(session=session, message=message)
    _execute(
        session,
        update(Message).where(col(Message.id) == earlier.id).values(status="running", error=None),
    )
    earlier.status, earlier.error = "running", None
    return message, earlier


def open_reply(*, session: Session, message: Message) -> Message:
    """The assistant reply to ``message``, ``running`` until the pipeline finishes."""
    reply = Message(
        interaction_id=message.interaction_id,
        role="assistant",
        content="",
        status="running",
        reply_to_id=message.id,
        created=max(utcnow(), message.created + timedelta(microseconds=1)),
    )
    _insert(session, reply)
    return reply


def pending_message_ids(
    *, session: Session, limit: int, exclude: Iterable[uuid.UUID] = ()
) -> list[uuid.UUID]:
    """Up to ``limit`` user messages waiting for a worker, oldest first."""
    query = select(Message.id).where(Message.status == "pending", Message.role == "user")
    skip = list(exclude)
    if skip:
        query = query.where(col(Message.id).not_in(skip))
    return list(session.exec(query.order_by(col(Message.created)).limit(limit)).all())


def stale_pending(*, session: Session, older_than: timedelta, limit: int = 500) -> list[uuid.UUID]:
    """Pending messages untouched for ``older_than`` (their task was lost, or never sent),
    touched now so that the next sweep leaves them alone for as long again."""
    now = utcnow()
    ids = list(session.exec(
        select(Message.id)
        .where(Message.status == "pending", Message.role == "user",
               col(Message.updated) < now - older_than)
        .order_by(col(Message.created)).limit(limit)
    ).all())
    if ids:
        _execute(session, update(Message).where(col(Message.id).in_(ids),
                                                col(Message.status) == "pending")
                 .values(updated=now))
    return ids


def _held(ids: list[uuid.UUID], lease: Lease) -> Any:
    """Which of ``ids`` are running under ``lease`` (not lost to another process)."""
    return (
        col(Message.id).in_(ids)
        & (col(Message.lease_owner) == lease.owner)
        & (col(Message.status) == "running")
    )


def renew_leases(*, session: Session, ids: Iterable[uuid.UUID], lease: Lease) -> int:
    """Extend ``lease`` on the running messages it still holds; how many it holds."""
    wanted = list(ids)
    if not wanted:
        return 0
    statement = update(Message).where(_held(wanted, lease)).values(lease_expires=lease.expires())
    return int(_execute(session, statement).rowcount)


def _expired(now: datetime, grace: timedelta) -> Any:
    """Running user messages whose lease ran out (or, from before leases, long untouched)."""
    return (
        (col(Message.role) == "user")
        & (col(Message.status) == "running")
        & (
            (col(Message.lease_expires) < now)
            | (col(Message.lease_expires).is_(None) & (col(Message.updated) < now - grace))
        )
    )


def requeue_expired(*, session: Session, max_attempts: int, grace: timedelta) -> tuple[int, int]:
    """Messages whose lease expired (their process died or lost the database): back to
    ``pending`` while they have attempts left, else ``failed`` with the reason. Returns
    (requeued, failed)."""
    now = utcnow()
    expired = _expired(now, grace)
    spent = list(
        session.exec(select(Message.id).where(expired, col(Message.attempts) >= max_attempts))
    )
    if spent:
        error = (
            f"interrupted: processing stopped {max_attempts} times before finishing "
            "(the process died or lost the database)"
        )
        _execute(
            session,
            update(Message)
            .where(
                (col(Message.id).in_(spent)) | (col(Message.reply_to_id).in_(spent)),
                col(Message.status) != "done",
            )
            .values(status="failed", error=error, lease_owner=None, lease_expires=None,
                    updated=now),
        )
    requeued = _execute(
        session,
        update(Message)
        .where(expired, col(Message.attempts) < max_attempts)
        .values(status="pending", lease_owner=None, lease_expires=None, updated=now),
    ).rowcount
    return int(requeued), len(spent)


def release_messages(
    *, session: Session, ids: Iterable[uuid.UUID], lease: Lease, counted: bool = False
) -> int:
    """Hand running messages back (``pending``) on a clean stop; the attempt is not counted,
    unless ``counted`` (it failed and is retried later: its tries stay bounded)."""
    wanted = list(ids)
    if not wanted:
        return 0
    result = _execute(
        session,
        update(Message)
        .where(_held(wanted, lease))
        .values(
            status="pending",
            lease_owner=None,
            lease_expires=None,
            attempts=col(Message.attempts) - (0 if counted else 1),
            updated=utcnow(),
        ),
    )
    return int(result.rowcount)


def recorded_calls(*, session: Session, reply_id: uuid.UUID) -> list[ToolCall]:
    """The calls an earlier attempt of a message already executed (with idempotency keys)."""
    query = select(ToolCall).where(
        ToolCall.message_id == reply_id, col(ToolCall.idempotency_key).is_not(None)
    )
    return list(session.exec(query).all())


# -- tool calls and outcomes ------------------------------------------------------------------
def add_tool_call(
    *, session: Session, message_id: uuid.UUID, call: CallResult, finished: datetime | None = None
) -> ToolCall:
    """Store one finished call under the assistant message that made it."""
    finished = finished or utcnow()
    row = ToolCall(
        message_id=message_id,
        call_id=call.id,
        name=call.name,
        arguments=to_json(call.arguments),
        attempts=to_json([asdict(a) for a in call.attempts]),
        status=call.status,
        result=to_json(call.result),
        error=to_json(call.error),
        snippet=call.snippet,
        started=finished - timedelta(milliseconds=call.duration_ms),
        finished=finished,
        duration_ms=call.duration_ms,
        idempotency_key=call.idempotency_key or None,
        created=finished,
    )
    _insert(session, row)
    return row


def begin_tool_call(
    *, session: Session, message_id: uuid.UUID, call: CallResult, lease: Lease
) -> ToolCall:
    """Store a call of the reply ``message_id`` as ``running`` before it runs: if the process
    dies during the call, the message taken up again finds it and does not run it a second
    time. Only while ``lease`` holds the message (else ``LeaseLost``: the tool must not run);
    a second call with the same idempotency key is refused (``IntegrityError``)."""
    hold_lease(session=session, reply_id=message_id, lease=lease)
    now = utcnow()
    row = ToolCall(
        message_id=message_id, call_id=call.id, name=call.name,
        arguments=to_json(call.arguments), attempts=to_json([asdict(a) for a in call.attempts]),
        status="running", started=now, idempotency_key=call.idempotency_key or None, created=now,
    )
    _insert(session, row)
    return row


def finish_tool_call(
    *, session: Session, row_id: uuid.UUID, call: CallResult, finished: datetime
) -> ToolCall:
    """Store the outcome of a call begun with ``begin_tool_call``."""
    row = session.get(ToolCall, row_id)
    assert row is not None, f"tool call {row_id} vanished"
    row.status, row.result, row.error = call.status, to_json(call.result), to_json(call.error)
    row.snippet, row.duration_ms, row.finished = call.snippet, call.duration_ms, finished
    session.add(row)
    return row


INTERRUPTED = (
    "interrupted: the process running this call stopped before it finished; it is not run "
    "again, so its effect happens at most once"
)


def interrupt_running_calls(
    *,
    session: Session,
    reply_id: uuid.UUID,
    runs_again: Callable[[ToolCall], bool] = lambda row: False,
) -> tuple[list[ToolCall], list[ToolCall]]:
    """Calls an earlier attempt of the reply ``reply_id`` began and never finished (its
    process died during them): (again, ended). Those ``runs_again`` accepts (an idempotent
    tool's, with an idempotency key) stay ``running``, to be run again under the same key
    (``restart_tool_call``); the others become errors (``interrupted``), never run again."""
    running = session.exec(select(ToolCall).where(
        col(ToolCall.message_id) == reply_id, col(ToolCall.status) == "running")).all()
    again = [row for row in running if row.idempotency_key and runs_again(row)]
    kept = {row.id for row in again}
    return again, interrupt_calls(session=session, ids=[r.id for r in running if r.id not in kept])


def interrupt_calls(*, session: Session, ids: Sequence[uuid.UUID]) -> list[ToolCall]:
    """The calls ``ids`` that are still ``running`` become errors (``interrupted``), never run
    again; returns the rows of ``ids`` as stored now."""
    if not ids:
        return []
    _execute(session, update(ToolCall)
             .where(col(ToolCall.id).in_(ids), col(ToolCall.status) == "running")
             .values(status="error", error={"type": "interrupted", "message": INTERRUPTED},
                     finished=utcnow()))
    rows = session.exec(select(ToolCall).where(col(ToolCall.id).in_(ids))
                        .execution_options(populate_existing=True))
    return list(rows.all())


def restart_tool_call(
    *, session: Session, reply_id: uuid.UUID, row_id: uuid.UUID, lease: Lease
) -> ToolCall:
    """Run again a call of the reply ``reply_id`` left ``running`` by a process that died
    (``interrupt_running_calls`` kept it): its row, started now, takes the new outcome. Only
    while ``lease`` holds the message (else ``LeaseLost``: the tool must not run)."""
    hold_lease(session=session, reply_id=reply_id, lease=lease)
    row = session.get(ToolCall, row_id)
    assert row is not None, f"tool call {row_id} vanished"
    row.started, row.finished = utcnow(), None
    session.add(row)
    return row


def finish_message(*, session: Session, message: Message, reply: Message, run: Run) -> None:
    """Record the answer and the run's outcome, and mark the prompt and its reply ``done``, or
    ``awaiting_approval`` while a call waits for a person's decision; only while the lease
    ``message`` was claimed (or stored) under still holds it, else ``LeaseLost`` (its new owner
    finishes it)."""
    now = utcnow()
    waiting = any(c.status == "pending_approval" for c in run.calls)
    status = "awaiting_approval" if waiting else "done"
    prompt = update(Message).where(col(Message.id) == message.id)
    if message.lease_owner is not None:
        prompt = prompt.where(col(Message.lease_owner) == message.lease_owner,
                              col(Message.status) == "running")
    held = _execute(
        session, prompt.values(status=status, lease_owner=None, lease_expires=None, updated=now)
    ).rowcount
    if not held:
        raise LeaseLost(message.id)
    _execute(
        session,
        update(Message)
        .where(col(Message.id) == reply.id)
        .values(content=run.answer, status=status, outcome=run.outcome, updated=now),
    )
    reply.content, reply.status, reply.outcome, reply.updated = (
        run.answer, status, run.outcome, now)
    message.status, message.updated = status, now


# -- approvals --------------------------------------------------------------------------------
@dataclass(frozen=True)
class CallRecord:
    """A stored tool call with where it belongs."""

    call: ToolCall
    reply: Message
    interaction_id: uuid.UUID


def _owned_calls(owner: str | None) -> Any:
    query = (
        select(ToolCall, Message)
        .join(Message, col(Message.id) == col(ToolCall.message_id))
        .join(Interaction, col(Interaction.id) == col(Message.interaction_id))
    )
    return query if owner is None else query.where(Interaction.owner == owner)


def list_calls(
    *, session: Session, status: str | None, limit: int, offset: int, owner: str | None = None
) -> tuple[list[CallRecord], int]:
    """A page of tool calls (newest first), optionally of one status, and how many in all."""
    query = _owned_calls(owner)
    if status is not None:
        query = query.where(ToolCall.status == status)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(ToolCall.created).desc(), col(ToolCall.id)).offset(offset).limit(limit)
    ).all()
    return [CallRecord(call=c, reply=m, interaction_id=m.interaction_id) for c, m in rows], int(total)


def get_call(
    *, session: Session, call_id: uuid.UUID, owner: str | None = None
) -> CallRecord | None:
    row = session.exec(_owned_calls(owner).where(ToolCall.id == call_id)).first()
    return None if row is None else CallRecord(call=row[0], reply=row[1],
                                               interaction_id=row[1].interaction_id)


def rejection(by: str, reason: str | None) -> str:
    """What a refused call's error says: ``rejected by ann: keep the taxes``."""
    return f"rejected by {by}" + (f": {reason}" if reason else "")


def decide_call(
    *, session: Session, call_id: uuid.UUID, decision: str, by: str, reason: str | None
) -> bool:
    """Record a decision on a call that waits for one; ``False`` when it no longer waits (it
    was decided already): of two people deciding at once, one wins."""
    status = "approved" if decision == "approved" else "rejected"
    values: dict[str, Any] = {"status": status, "decision": decision, "decided_by": by,
                              "decided_at": utcnow(), "decision_reason": reason}
    if decision == "rejected":
        values["error"] = {"type": "rejected", "message": rejection(by, reason)}
    result = _execute(
        session,
        update(ToolCall)
        .where(col(ToolCall.id) == call_id, col(ToolCall.status) == "pending_approval")
        .values(**values),
    )
    return bool(result.rowcount)


def settle_call(*, session: Session, call_id: uuid.UUID, call: CallResult) -> bool:
    """Store what an approved call returned; ``False`` when it is no longer ``approved``
    (the sweep ended it as interrupted: that record stands)."""
    now = utcnow()
    result = _execute(
        session,
        update(ToolCall)
        .where(col(ToolCall.id) == call_id, col(ToolCall.status) == "approved")
        .values(status=call.status, result=to_json(call.result), error=to_json(call.error),
                snippet=call.snippet, duration_ms=call.duration_ms,
                started=now - timedelta(milliseconds=call.duration_ms), finished=now),
    )
    return bool(result.rowcount)


APPROVAL_INTERRUPTED = (
    "interrupted: the process running this approved call stopped before it finished; it is "
    "not run again, so its effect happens at most once"
)


def interrupt_stale_approvals(
    *, session: Session, decided_before: datetime, limit: int = 500
) -> list[uuid.UUID]:
    """Approved calls decided before ``decided_before`` that never settled (the process
    running them died between the decision and the result) become ``error`` with the reason
    ``interrupted``; they are never run again. Returns the replies they belong to."""
    stale = session.exec(
        select(ToolCall.id, ToolCall.message_id)
        .where(col(ToolCall.status) == "approved", col(ToolCall.decided_at) < decided_before)
        .order_by(col(ToolCall.decided_at)).limit(limit)
    ).all()
    if not stale:
        return []
    _execute(
        session,
        update(ToolCall)
        .where(col(ToolCall.id).in_([row[0] for row in stale]),
               col(ToolCall.status) == "approved")
        .values(status="error", error={"type": "interrupted", "message": APPROVAL_INTERRUPTED},
                finished=utcnow()),
    )
    return list(dict.fromkeys(row[1] for row in stale))


def finish_decided(*, session: Session, reply: Message, answer: str) -> None:
    """Store the answer once no call of ``reply`` waits for a decision any more: the reply
    and its prompt are ``done``."""
    now = utcnow()
    _execute(session, update(Message).where(col(Message.id) == reply.id)
             .values(content=answer, status="done", updated=now))
    _execute(session, update(Message).where(col(Message.id) == reply.reply_to_id)
             .values(status="done", updated=now))


def fail_message(
    *, session: Session, message_id: uuid.UUID, error: str, lease: Lease | None = None
) -> bool:
    """Mark a prompt and its open reply ``failed`` with the reason; with ``lease``, only while
    it still holds the prompt (a process fenced out fails nothing). Whether it did."""
    now = utcnow()
    if lease is not None:
        held = select(Message.id).where(col(Message.id) == message_id,
                                        col(Message.lease_owner) == lease.owner,
                                        col(Message.status) == "running")
        if session.exec(held.with_for_update()).first() is None:
            return False
    result = _execute(
        session,
        update(Message)
        .where(
            (col(Message.id) == message_id) | (col(Message.reply_to_id) == message_id),
            col(Message.status) != "done",
        )
        .values(status="failed", error=error, lease_owner=None, lease_expires=None,
                updated=now),
    )
    return bool(result.rowcount)


# -- reading back -----------------------------------------------------------------------------
def message_public(message: Message, calls: Sequence[ToolCall] = ()) -> MessagePublic:
    return MessagePublic.model_validate(
        message, update={"tool_calls": [ToolCallPublic.model_validate(c) for c in calls]}
    )


def messages_public(
    *, session: Session, interaction_id: uuid.UUID, limit: int | None = None, offset: int = 0
) -> list[MessagePublic]:
    """An interaction's messages with their tool calls, oldest first (a page of them)."""
    query = (
        select(Message)
        .where(Message.interaction_id == interaction_id)
        .order_by(col(Message.created), col(Message.role).desc())
        .offset(offset)
        .limit(limit)
    )
    messages = list(session.exec(query).all())
    calls = list_tool_calls(session=session, message_ids=[m.id for m in messages])
    return [message_public(m, calls[m.id]) for m in messages]


def count_messages(*, session: Session, interaction_id: uuid.UUID) -> int:
    query = select(func.count()).select_from(Message).where(Message.interaction_id == interaction_id)
    return int(session.exec(query).one())


def interaction_detail(
    *, session: Session, interaction_id: uuid.UUID, owner: str | None = None,
    limit: int | None = None, offset: int = 0,
) -> InteractionDetail | None:
    """The interaction with a page of its messages (oldest first) and how many there are."""
    interaction = get_interaction(session=session, interaction_id=interaction_id, owner=owner)
    if interaction is None:
        return None
    public = InteractionPublic.model_validate(interaction)
    messages = messages_public(session=session, interaction_id=interaction_id, limit=limit,
                               offset=offset)
    total = count_messages(session=session, interaction_id=interaction_id)
    return InteractionDetail(**public.model_dump(), messages=messages, message_count=total)


# -- tool sources ---------------------------------------------------------------------------
def save_tool_source(*, session: Session, source: ToolSource) -> ToolSource:
    """Keep ``source`` (replacing an earlier import with the same label) and bump the sources'
    version in the same transaction."""
    old = session.exec(select(ToolSource).where(ToolSource.label == source.label)).first()
    if old is not None:
        session.delete(old)
        session.flush()
    session.add(source)
    _bump_sources_version(session)
    session.commit()
    session.refresh(source)
    return source


def list_tool_sources(*, session: Session) -> list[ToolSource]:
    return list(session.exec(select(ToolSource).order_by(col(ToolSource.created))).all())


def delete_tool_source(*, session: Session, label: str) -> bool:
    """Forget the source ``label`` (and bump the sources' version); whether there was one."""
    row = session.exec(select(ToolSource).where(ToolSource.label == label)).first()
    if row is None:
        return False
    session.delete(row)
    _bump_sources_version(session)
    session.commit()
    return True


def tool_sources_version(*, session: Session) -> int:
    """How many times the tool sources changed (0 before the first import): one row's read."""
    version = session.exec(
        select(ToolSourceVersion.version).where(ToolSourceVersion.id == 1)).first()
    return version or 0


def _bump_sources_version(session: Session) -> None:
    """Count one change of the tool sources. The ``UPDATE`` locks the row until commit, so
    changes from several processes are counted one after the other."""
    bumped = _execute(session, update(ToolSourceVersion).where(col(ToolSourceVersion.id) == 1)
                      .values(version=col(ToolSourceVersion.version) + 1, updated=utcnow()))
    if not bumped.rowcount:  # a schema made without the migrations' first row
        _insert(session, ToolSourceVersion(id=1, version=1))
