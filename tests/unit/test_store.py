"""The store on both databases: schema, data functions, claiming, history, SQLite tuning."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel, select

from toolwire.run import Attempt, CallResult, Run
from toolwire.store import data
from toolwire.store.db import Database, normalize_url
from toolwire.store.history import load_history, message_tokens
from toolwire.store.migrate import current_revision, head_revision
from toolwire.store.tables import InteractionCreate, Message, ToolCall

LEASE = data.Lease(owner="test-process", seconds=30)


def _turn(db: Database, interaction_id: uuid.UUID, prompt: str, answer: str) -> Message:
    """Store a finished turn with one tool call; returns the user message."""
    with db.write_session() as s:
        message = data.add_user_message(session=s, interaction_id=interaction_id, content=prompt)
    with db.write_session() as s:
        claimed = data.claim_message(session=s, message_id=message.id, lease=LEASE)
        assert claimed is not None
        message, reply = claimed
        call = CallResult(
            id=f"call-{prompt}", name="add", arguments={"a": 1}, status="ok", result=2,
            snippet="add(a=1)", duration_ms=1.5,
        )
        data.add_tool_call(session=s, message_id=reply.id, call=call)
        data.finish_message(session=s, message=message, reply=reply, run=Run(prompt=prompt, answer=answer))
    return message


def _interaction(db: Database, **fields: object) -> uuid.UUID:
    with db.write_session() as s:
        return data.create_interaction(
            session=s, interaction_in=InteractionCreate.model_validate(fields)
        ).id


def test_migrations_reach_head_and_match_the_tables(database: Database) -> None:
    assert current_revision(database) == head_revision() == "0009"
    names = set(inspect(database.engine).get_table_names())
    assert {"interaction", "message", "tool_call", "alembic_version"} <= names
    with database.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == []


def test_foreign_keys_and_timestamps_are_indexed(database: Database) -> None:
    inspector = inspect(database.engine)
    indexed = {
        table: {tuple(ix["column_names"]) for ix in inspector.get_indexes(table)}
        for table in ("interaction", "message", "tool_call")
    }
    assert {("created",), ("updated",), ("owner",)} <= indexed["interaction"]
    assert {("interaction_id",), ("created",), ("status",)} <= indexed["message"]
    assert {("message_id",), ("created",)} <= indexed["tool_call"]


def test_interactions_page_newest_first(database: Database) -> None:
    ids = [_interaction(database, system_prompt=f"p{i}") for i in range(5)]
    with database.session() as s:
        page, total = data.list_interactions(session=s, limit=2, offset=1)
    assert total == 5
    assert [i.id for i in page] == [ids[3], ids[2]]


def test_owner_filters_interactions(database: Database) -> None:
    with database.write_session() as s:
        mine = data.create_interaction(session=s, interaction_in=InteractionCreate(), owner="ann")
        data.create_interaction(session=s, interaction_in=InteractionCreate(), owner="bob")
    with database.session() as s:
        page, total = data.list_interactions(session=s, limit=10, offset=0, owner="ann")
        assert (total, [i.id for i in page]) == (1, [mine.id])
        assert data.get_interaction(session=s, interaction_id=mine.id, owner="bob") is None


def test_delete_cascades_to_messages_and_tool_calls(database: Database) -> None:
    interaction_id = _interaction(database)
    _turn(database, interaction_id, "one", "two")
    with database.write_session() as s:
        assert data.delete_interaction(session=s, interaction_id=interaction_id)
    with database.write_session() as s:
        assert not data.delete_interaction(session=s, interaction_id=interaction_id)
    with database.session() as s:
        assert s.exec(select(Message)).all() == []
        assert s.exec(select(ToolCall)).all() == []


def test_message_needs_an_existing_interaction(database: Database) -> None:
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), database.write_session() as s:
        data.add_user_message(session=s, interaction_id=uuid.uuid4(), content="orphan")


def test_claim_is_exclusive_across_threads(database: Database) -> None:
    interaction_id = _interaction(database)
    with database.write_session() as s:
        message = data.add_user_message(session=s, interaction_id=interaction_id, content="x")
    wins: list[bool] = []
    barrier = threading.Barrier(4)

    def claim() -> None:
        barrier.wait()
        with database.write_session() as s:
            wins.append(data.claim_message(session=s, message_id=message.id, lease=LEASE) is not None)

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False, False, False, True]
    with database.session() as s:
        stored = data.list_messages(session=s, interaction_id=interaction_id)
    assert [(m.role, m.status) for m in stored] == [("user", "running"), ("assistant", "running")]


def test_tool_call_keeps_json_attempts_and_timing(database: Database) -> None:
    interaction_id = _interaction(database)
    with database.write_session() as s:
        message = data.add_user_message(
            session=s, interaction_id=interaction_id, content="x", lease=LEASE
        )
        reply = data.open_reply(session=s, message=message)
        call = CallResult(
            id="c1", name="when", arguments={"day": "mon"}, status="error",
            result={"at": datetime(2024, 1, 2, tzinfo=UTC)},
            error={"type": "boom", "message": "bad day"},
            attempts=[Attempt(arguments={"day": 1}, errors=["day: 1 is not a string"])],
            duration_ms=250.0,
        )
        data.add_tool_call(session=s, message_id=reply.id, call=call)
    with database.session() as s:
        row = data.list_tool_calls(session=s, message_ids=[reply.id])[reply.id][0]
    assert row.result == {"at": "2024-01-02 00:00:00+00:00"}
    assert row.error == {"type": "boom", "message": "bad day"}
    assert row.attempts == [{"arguments": {"day": 1}, "errors": ["day: 1 is not a string"]}]
    assert row.started and row.finished and row.finished.tzinfo is not None
    assert row.finished - row.started == timedelta(milliseconds=250)


def test_fail_message_marks_prompt_and_open_reply(database: Database) -> None:
    interaction_id = _interaction(database)
    with database.write_session() as s:
        message = data.add_user_message(session=s, interaction_id=interaction_id, content="x")
    with database.write_session() as s:
        assert data.claim_message(session=s, message_id=message.id, lease=LEASE)
    with database.write_session() as s:
        data.fail_message(session=s, message_id=message.id, error="ModelError: down")
    with database.session() as s:
        stored = data.list_messages(session=s, interaction_id=interaction_id)
    assert {(m.role, m.status, m.error) for m in stored} == {
        ("user", "failed", "ModelError: down"),
        ("assistant", "failed", "ModelError: down"),
    }


def _status(db: Database, message_id: uuid.UUID) -> tuple[str, int, str | None]:
    with db.session() as s:
        row = data.get_message(session=s, message_id=message_id)
        assert row is not None
        return row.status, row.attempts, row.lease_owner


def test_an_expired_lease_goes_back_to_pending_then_fails_after_its_attempts(
    database: Database,
) -> None:
    interaction_id = _interaction(database)
    gone = data.Lease(owner="dead-process", seconds=-1)  # expired the moment it was taken
    with database.write_session() as s:
        waiting = data.add_user_message(session=s, interaction_id=interaction_id, content="a")
        stuck = data.add_user_message(session=s, interaction_id=interaction_id, content="b")
    grace = timedelta(seconds=30)
    for attempt in (1, 2):
        with database.write_session() as s:
            claimed = data.claim_message(session=s, message_id=stuck.id, lease=gone)
            assert claimed is not None
        assert _status(database, stuck.id) == ("running", attempt, "dead-process")
        with database.write_session() as s:
            assert data.requeue_expired(session=s, max_attempts=2, grace=grace) == (
                (1, 0) if attempt == 1 else (0, 1)
            )
    status, attempts, owner = _status(database, stuck.id)
    assert (status, attempts, owner) == ("failed", 2, None)
    with database.session() as s:
        failed = data.get_message(session=s, message_id=stuck.id)
        replies = [m for m in data.list_messages(session=s, interaction_id=interaction_id)
                   if m.reply_to_id == stuck.id]
        assert data.pending_message_ids(session=s, limit=10) == [waiting.id]
    assert failed is not None and "stopped 2 times" in (failed.error or "")
    assert len(replies) == 1 and replies[0].status == "failed"  # one reply across attempts


def test_a_held_lease_is_renewed_and_never_requeued(database: Database) -> None:
    interaction_id = _interaction(database)
    short = data.Lease(owner="live-process", seconds=-1)
    with database.write_session() as s:
        message = data.add_user_message(session=s, interaction_id=interaction_id, content="x")
    with database.write_session() as s:
        assert data.claim_message(session=s, message_id=message.id, lease=short)
    with database.write_session() as s:  # renewed in time: the live process keeps it
        assert data.renew_leases(session=s, ids=[message.id], lease=LEASE) == 0  # not its owner
        renewed = data.Lease(owner="live-process", seconds=30)
        assert data.renew_leases(session=s, ids=[message.id], lease=renewed) == 1
    with database.write_session() as s:
        assert data.requeue_expired(session=s, max_attempts=3, grace=timedelta(0)) == (0, 0)
    assert _status(database, message.id) == ("running", 1, "live-process")


def test_release_hands_a_message_back_without_counting_the_attempt(database: Database) -> None:
    interaction_id = _interaction(database)
    with database.write_session() as s:
        message = data.add_user_message(session=s, interaction_id=interaction_id, content="x")
    with database.write_session() as s:
        assert data.claim_message(session=s, message_id=message.id, lease=LEASE)
        assert data.release_messages(session=s, ids=[message.id], lease=LEASE) == 1
    assert _status(database, message.id) == ("pending", 0, None)


def test_pending_ids_page_past_the_ones_in_hand(database: Database) -> None:
    interaction_id = _interaction(database)
    with database.write_session() as s:
        ids = [data.add_user_message(session=s, interaction_id=interaction_id, content=str(i)).id
               for i in range(5)]
    with database.session() as s:
        assert data.pending_message_ids(session=s, limit=2) == ids[:2]
        assert data.pending_message_ids(session=s, limit=10, exclude=ids[:2]) == ids[2:]


def test_history_replays_finished_turns_only(database: Database) -> None:
    interaction_id = _interaction(database, system_prompt="Be brief.")
    _turn(database, interaction_id, "add one", "It is 2.")
    with database.write_session() as s:
        broken = data.add_user_message(session=s, interaction_id=interaction_id, content="broken")
        data.fail_message(session=s, message_id=broken.id, error="x")
        current = data.add_user_message(session=s, interaction_id=interaction_id, content="again")
    with database.session() as s:
        history = load_history(session=s, interaction_id=interaction_id, before=current)
    assert [(m.role, m.content) for m in history] == [
        ("system", "Be brief."),
        ("user", "add one"),
        ("assistant", ""),
        ("tool", json.dumps({"result": 2})),
        ("assistant", "It is 2."),
    ]
    assert history[2].tool_calls[0].name == "add"
    assert history[3].tool_call_id == history[2].tool_calls[0].id == "call-add one"


def test_history_keeps_the_latest_turns_that_fit(database: Database) -> None:
    interaction_id = _interaction(database)
    for i in range(8):
        _turn(database, interaction_id, f"prompt {i}", "x" * 100)
    with database.write_session() as s:
        current = data.add_user_message(session=s, interaction_id=interaction_id, content="now")
    with database.session() as s:
        by_turns = load_history(session=s, interaction_id=interaction_id, before=current,
                                max_turns=3)
        by_tokens = load_history(session=s, interaction_id=interaction_id, before=current,
                                 max_tokens=400)
    prompts = [[m.content for m in h if m.role == "user"] for h in (by_turns, by_tokens)]
    assert prompts == [["prompt 5", "prompt 6", "prompt 7"], ["prompt 6", "prompt 7"]]
    assert sum(message_tokens(m) for m in by_tokens) <= 400


def test_timestamps_come_back_in_utc(database: Database) -> None:
    interaction_id = _interaction(database)
    with database.session() as s:
        stored = data.get_interaction(session=s, interaction_id=interaction_id)
    assert stored is not None and stored.created.tzinfo is not None
    assert abs(datetime.now(UTC) - stored.created) < timedelta(minutes=1)


def test_sqlite_runs_in_wal_with_foreign_keys_and_busy_timeout(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'sub' / 'x.db'}")
    with db.engine.connect() as c:
        pragmas = {p: c.execute(text(f"PRAGMA {p}")).scalar() for p in ("journal_mode", "foreign_keys", "busy_timeout")}
    db.dispose()
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 30000}


def test_postgres_urls_use_psycopg3() -> None:
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"
