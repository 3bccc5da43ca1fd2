"""Lease fencing, on SQLite and PostgreSQL: a process whose lease expired while another one
took the message over records nothing more of it. Its next call is refused before it starts
(so the tool never runs), its outcomes and its answer are refused, it fails nothing; the new
owner finishes the message. And one idempotency key per message: a second row with the same
key is refused by the database itself."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from toolwire.config import Settings
from toolwire.engine import Engine
from toolwire.models.base import (
    Capabilities,
    Completion,
    Constraint,
    Message,
    Model,
    ToolCallRequest,
    ToolSpec,
)
from toolwire.models.base import Settings as ModelSettings
from toolwire.retrieval import ToolIndex
from toolwire.run import CallResult, Run
from toolwire.service.engines import Engines
from toolwire.service.metrics import Metrics
from toolwire.service.processing import Processor
from toolwire.store import data
from toolwire.store.db import Database
from toolwire.store.migrate import upgrade
from toolwire.store.tables import Interaction, InteractionCreate, ToolCall
from toolwire.store.tables import Message as StoredMessage
from toolwire.store.types import utcnow
from toolwire.tools import Registry

FIRST = data.Lease(owner="first-process", seconds=30)
SECOND = data.Lease(owner="second-process", seconds=30)
RAN: list[str] = []


def stored_message(database: Database, content: str = "note hello") -> StoredMessage:
    with database.write_session() as s:
        interaction = data.create_interaction(session=s, interaction_in=InteractionCreate())
        return data.add_user_message(session=s, interaction_id=interaction.id, content=content)


def expire(database: Database, message_id: uuid.UUID) -> None:
    """The first owner stalled (or lost the database) past its lease."""
    with database.write_session() as s:
        s.connection().execute(update(StoredMessage).where(col(StoredMessage.id) == message_id)
                               .values(lease_expires=utcnow() - timedelta(seconds=1)))


def take_over(database: Database, message_id: uuid.UUID) -> tuple[StoredMessage, StoredMessage]:
    """The sweep hands the expired message back and the second process claims it."""
    expire(database, message_id)
    with database.write_session() as s:
        assert data.requeue_expired(session=s, max_attempts=3, grace=timedelta(0)) == (1, 0)
    with database.write_session() as s:
        claimed = data.claim_message(session=s, message_id=message_id, lease=SECOND)
    assert claimed is not None
    return claimed


def call(key: str = "key-1") -> CallResult:
    return CallResult(id="c1", name="take_note", arguments={"text": "hello"}, status="ok",
                      idempotency_key=key)


def message_row(database: Database, message_id: uuid.UUID) -> StoredMessage:
    with database.session() as s:
        row = s.get(StoredMessage, message_id)
    assert row is not None
    return row


def calls_of(database: Database, reply_id: uuid.UUID) -> list[ToolCall]:
    with database.session() as s:
        return data.list_tool_calls(session=s, message_ids=[reply_id])[reply_id]


def test_a_process_that_lost_its_lease_records_nothing_more(database: Database) -> None:
    message = stored_message(database)
    with database.write_session() as s:
        claimed = data.claim_message(session=s, message_id=message.id, lease=FIRST)
    assert claimed is not None
    first, first_reply = claimed
    second, second_reply = take_over(database, message.id)
    assert second_reply.id == first_reply.id  # the reply (and its calls) carry over

    with pytest.raises(data.LeaseLost), database.write_session() as s:
        data.begin_tool_call(session=s, message_id=first_reply.id, call=call(), lease=FIRST)
    with pytest.raises(data.LeaseLost), database.write_session() as s:
        data.hold_lease(session=s, reply_id=first_reply.id, lease=FIRST)
    with pytest.raises(data.LeaseLost), database.write_session() as s:
        data.finish_message(session=s, message=first, reply=first_reply,
                            run=Run(prompt=first.content, answer="from the first"))
    with database.write_session() as s:
        assert data.fail_message(session=s, message_id=message.id, error="late",
                                 lease=FIRST) is False
        assert data.release_messages(session=s, ids=[message.id], lease=FIRST) == 0
    assert calls_of(database, first_reply.id) == []
    row = message_row(database, message.id)
    assert (row.status, row.lease_owner, row.error) == ("running", SECOND.owner, None)
    assert message_row(database, first_reply.id).status == "running"

    with database.write_session() as s:
        data.begin_tool_call(session=s, message_id=second_reply.id, call=call(), lease=SECOND)
        data.finish_message(session=s, message=second, reply=second_reply,
                            run=Run(prompt=second.content, answer="from the second"))
    assert message_row(database, message.id).status == "done"
    reply = message_row(database, second_reply.id)
    assert (reply.status, reply.content) == ("done", "from the second")
    assert [c.idempotency_key for c in calls_of(database, second_reply.id)] == ["key-1"]


def test_a_held_lease_is_renewed_by_the_fence(database: Database) -> None:
    message = stored_message(database)
    short = data.Lease(owner=FIRST.owner, seconds=1)
    with database.write_session() as s:
        claimed = data.claim_message(session=s, message_id=message.id, lease=short)
    assert claimed is not None
    with database.write_session() as s:
        data.begin_tool_call(session=s, message_id=claimed[1].id, call=call(), lease=FIRST)
    expires = message_row(database, message.id).lease_expires
    assert expires is not None and expires > utcnow() + timedelta(seconds=20)


def test_one_idempotency_key_per_message(database: Database) -> None:
    message = stored_message(database)
    other = stored_message(database)
    with database.write_session() as s:
        claimed = data.claim_message(session=s, message_id=message.id, lease=FIRST)
        elsewhere = data.claim_message(session=s, message_id=other.id, lease=FIRST)
    assert claimed is not None and elsewhere is not None
    reply, other_reply = claimed[1], elsewhere[1]
    with database.write_session() as s:
        data.begin_tool_call(session=s, message_id=reply.id, call=call(), lease=FIRST)
        data.add_tool_call(session=s, message_id=other_reply.id, call=call())  # another message
        for _ in range(2):  # calls without a key (a /v1 conversation's) are not constrained
            data.add_tool_call(session=s, message_id=reply.id, call=call(key=""))
    with pytest.raises(IntegrityError), database.write_session() as s:
        data.add_tool_call(session=s, message_id=reply.id, call=call())
    assert [c.idempotency_key for c in calls_of(database, reply.id)].count("key-1") == 1


def test_the_migration_keeps_the_first_of_duplicate_keys(database_url: str) -> None:
    """Rows recorded twice before the constraint existed: the first keeps the key, the
    others lose it (they stay, as history), and the constraint is in place."""
    database = Database(database_url)
    try:
        upgrade(database, "0005")
        reply_id = _reply_at_0005(database)
        with database.write_session() as s:
            rows = [data.add_tool_call(session=s, message_id=reply_id, call=call(),
                                       finished=utcnow() + timedelta(seconds=i))
                    for i in range(3)]
        upgrade(database)
        keys = {c.id: c.idempotency_key for c in calls_of(database, reply_id)}
        assert keys == {rows[0].id: "key-1", rows[1].id: None, rows[2].id: None}
        with pytest.raises(IntegrityError), database.write_session() as s:
            data.add_tool_call(session=s, message_id=reply_id, call=call())
    finally:
        database.dispose()


def _reply_at_0005(database: Database) -> uuid.UUID:
    """A prompt and its open reply, written with only the columns revision 0005 has (the
    tables of today have more)."""
    now, interaction_id, prompt_id, reply_id = utcnow(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with database.write_session() as s:
        s.connection().execute(insert(Interaction).values(
            id=interaction_id, settings={}, created=now, updated=now))
        for id_, role, reply_to in ((prompt_id, "user", None), (reply_id, "assistant", prompt_id)):
            s.connection().execute(insert(StoredMessage).values(
                id=id_, interaction_id=interaction_id, role=role, content="note hello",
                status="running", reply_to_id=reply_to, attempts=1, created=now, updated=now))
    return reply_id


# -- the processor, fenced out mid-message ------------------------------------------------------
def take_note(text: str) -> str:
    """Write a note down.

    Args:
        text: what to note
    """
    RAN.append(text)
    return f"noted {text}"


class NoteModel(Model):
    """Asks for ``take_note`` with the prompt's last word, then says it is done. The first
    request waits for ``gate`` (the first process stalls there)."""

    name, capabilities = "notes", Capabilities(tools=True, parallel=True)

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.requests = 0

    async def complete(
        self, messages: list[Message], *, tools: list[ToolSpec] | None = None,
        constraint: Constraint | None = None, settings: ModelSettings | None = None,
    ) -> Completion:
        self.requests += 1
        if self.requests == 1:
            await self.gate.wait()
        if tools:
            text = messages[-1].content.split()[-1]
            return Completion(tool_calls=[ToolCallRequest(id="", name="take_note",
                                                          arguments={"text": text})])
        return Completion(text="Noted.")


def processor(database: Database, model: NoteModel) -> Processor:
    registry = Registry()
    registry.use_index(ToolIndex(embedder=None))
    registry.register(take_note)
    settings = Settings(model="scripted")
    engine = Engine(registry, model=model, settings=settings)
    return Processor(database=database, metrics=Metrics(), lease_seconds=30,
                     engines=Engines(settings=settings, engine=engine))


async def test_a_fenced_out_processor_stops_without_running_the_tool(database: Database) -> None:
    RAN.clear()
    model = NoteModel()
    first, second = processor(database, model), processor(database, model)
    message = stored_message(database, "please note fenced")
    stalled = asyncio.create_task(first.process_message(message.id))
    while model.requests == 0:  # the first process holds the message, its model stalls
        await asyncio.sleep(0.01)
    expire(database, message.id)
    assert await second.sweep() == (1, 0)
    done = await second.process_message(message.id)
    assert done is not None and done.message.status == "done" and RAN == ["fenced"]

    model.gate.set()
    lost = await stalled
    assert lost is not None and lost.lease_lost and lost.run is None
    assert RAN == ["fenced"]  # the first process never ran it
    row = message_row(database, message.id)
    assert (row.status, row.error) == ("done", None)  # not failed by the process fenced out
    [stored] = calls_of(database, done.reply.id)
    assert (stored.status, stored.result) == ("ok", "noted fenced")
