"""An approved call whose process died before it returned (between ``decide_call`` and
``settle_call``) is ended by the sweep as ``interrupted``, never run a second time, and its
message is finished; on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col

from toolwire.config import Settings
from toolwire.engine import Engine
from toolwire.models.scripted import ScriptedModel
from toolwire.retrieval import ToolIndex
from toolwire.run import CallResult, Run
from toolwire.service.engines import Engines
from toolwire.service.metrics import Metrics
from toolwire.service.processing import Processor
from toolwire.store import data
from toolwire.store.db import Database
from toolwire.store.tables import InteractionCreate, Message, ToolCall
from toolwire.store.types import utcnow
from toolwire.tools import Registry

LEASE = data.Lease(owner="test-process", seconds=30)
RAN: list[str] = []


def wipe(path: str) -> str:
    """Wipe a disk.

    Args:
        path: the disk
    """
    RAN.append(path)
    return "wiped"


def waiting_call(database: Database) -> tuple[uuid.UUID, uuid.UUID]:
    """A stored turn whose one call waits for approval: (the call's id, the reply's id)."""
    with database.write_session() as s:
        interaction = data.create_interaction(session=s, interaction_in=InteractionCreate())
        message = data.add_user_message(session=s, interaction_id=interaction.id,
                                        content="wipe /dev/sdb", lease=LEASE)
        reply = data.open_reply(session=s, message=message)
        call = CallResult(id="call-1", name="wipe", arguments={"path": "/dev/sdb"},
                          status="pending_approval")
        row = data.add_tool_call(session=s, message_id=reply.id, call=call)
        data.finish_message(session=s, message=message, reply=reply,
                            run=Run(prompt=message.content, calls=[call], answer="waiting"))
    return row.id, reply.id


def approve_then_die(database: Database, call_id: uuid.UUID, *, ago: timedelta) -> None:
    """The decision is stored, then the process dies before the call returns."""
    with database.write_session() as s:
        assert data.decide_call(session=s, call_id=call_id, decision="approved", by="ann",
                                reason=None)
        s.connection().execute(update(ToolCall).where(col(ToolCall.id) == call_id)
                               .values(decided_at=utcnow() - ago))


def call_of(database: Database, call_id: uuid.UUID) -> ToolCall:
    with database.session() as s:
        row = s.get(ToolCall, call_id)
        assert row is not None
        return row


def test_the_store_ends_a_stale_approved_call_once(database: Database) -> None:
    call_id, reply_id = waiting_call(database)
    approve_then_die(database, call_id, ago=timedelta(minutes=5))
    with database.write_session() as s:
        early = data.interrupt_stale_approvals(session=s,
                                               decided_before=utcnow() - timedelta(minutes=10))
    assert early == [] and call_of(database, call_id).status == "approved"

    cutoff = utcnow() - timedelta(minutes=1)
    with database.write_session() as s:
        assert data.interrupt_stale_approvals(session=s, decided_before=cutoff) == [reply_id]
    row = call_of(database, call_id)
    assert row.status == "error" and row.error is not None
    assert row.error["type"] == "interrupted" and "not run again" in row.error["message"]
    assert row.decision == "approved" and row.decided_by == "ann"
    with database.write_session() as s:
        assert data.interrupt_stale_approvals(session=s, decided_before=utcnow()) == []
        late = CallResult(id="call-1", name="wipe", arguments={}, status="ok", result="wiped")
        assert data.settle_call(session=s, call_id=call_id, call=late) is False
    assert call_of(database, call_id).status == "error"  # the interrupted record stands


def test_settling_an_approved_call_still_works(database: Database) -> None:
    call_id, _ = waiting_call(database)
    approve_then_die(database, call_id, ago=timedelta(0))
    with database.write_session() as s:
        done = CallResult(id="call-1", name="wipe", arguments={}, status="ok", result="wiped")
        assert data.settle_call(session=s, call_id=call_id, call=done) is True
        assert data.interrupt_stale_approvals(session=s, decided_before=utcnow()) == []
    assert call_of(database, call_id).status == "ok"


async def test_the_sweep_finishes_the_message_without_running_the_call(
    database: Database,
) -> None:
    RAN.clear()
    registry = Registry()
    registry.use_index(ToolIndex(embedder=None))
    registry.register(wipe, requires_approval=True, timeout=20)
    engine = Engine(registry, model=ScriptedModel([]), settings=Settings())  # never asked
    processor = Processor(database=database, metrics=Metrics(), lease_seconds=30,
                          engines=Engines(settings=Settings(), engine=engine))
    recent, _ = waiting_call(database)
    approve_then_die(database, recent, ago=timedelta(seconds=40))  # may still be running
    stale, reply_id = waiting_call(database)
    approve_then_die(database, stale, ago=timedelta(seconds=60))  # past 20 s + a 30 s lease

    assert await processor.sweep() == (0, 0)
    assert call_of(database, recent).status == "approved"
    assert call_of(database, stale).status == "error" and RAN == []
    with database.session() as s:
        reply = s.get(Message, reply_id)
        assert reply is not None and reply.reply_to_id is not None
        prompt = s.get(Message, reply.reply_to_id)
    assert reply.status == "done" and prompt is not None and prompt.status == "done"
    assert "interrupted" in reply.content
    assert await processor.end_interrupted_approvals() == 0 and RAN == []
