"""Connecting to the database: one ``Database`` per process, sessions per unit of work.

SQLite (the default, a file under ``Settings().home``) runs in WAL mode with a busy timeout
and foreign keys on; write transactions start with ``BEGIN IMMEDIATE`` so concurrent writers
queue on the lock instead of failing. PostgreSQL goes through psycopg 3
(``postgresql+psycopg://user@host/db``). Blocking database work is run in worker threads by
``Database.read`` / ``Database.write`` so async handlers never stall the event loop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 30_000
_IMMEDIATE = "toolwire_begin_immediate"


def normalize_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` URLs use psycopg 3 (the driver toolwire ships)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """A SQLAlchemy engine for ``url``, tuned for the backend (see the module docstring)."""
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, echo=echo)
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        connect_args["connect_timeout"] = 5
    # No pre-ping: a connection broken by a database restart fails one request (503) and
    # SQLAlchemy then discards the whole pool; pinging would cost a round trip per checkout.
    return create_engine(
        parsed, echo=echo, connect_args=connect_args, pool_size=10, max_overflow=20
    )


def _sqlite_engine(url: URL, *, echo: bool) -> Engine:
    memory = url.database in (None, "", ":memory:")
    if not memory and url.database:
        # A directory that cannot be made shows up as "unable to open database file" on use.
        with suppress(OSError):
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        echo=echo,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        poolclass=StaticPool if memory else None,
    )
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
        "foreign_keys=ON",
        "synchronous=NORMAL",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    immediate = connection.get_execution_options().get(_IMMEDIATE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """The process's connection pool with session helpers for reads and writes."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalize_url(url)
        self.engine = make_engine(self.url, echo=echo)
        self._write_engine = self.engine.execution_options(**{_IMMEDIATE: True})
        # SQLite has one writer at a time. Threads of this process queue on a lock (woken at
        # once) rather than on SQLite's busy handler, which sleeps in steps of up to 100 ms;
        # other processes still wait through the busy timeout.
        self._write_lock: AbstractContextManager[object] = (
            threading.Lock() if self.backend == "sqlite" else nullcontext()
        )

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql`` (or another SQLAlchemy backend name)."""
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for reading (and ad-hoc writes); objects stay usable after commit."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write_session(self) -> Iterator[Session]:
        """A session whose transaction takes the write lock up front; commits on success."""
        with self._write_lock, Session(self._write_engine, expire_on_commit=False) as session:
            yield session
            session.commit()

    def read_sync(self, fn: Callable[[Session], T]) -> T:
        with self.session() as session:
            return fn(session)

    def write_sync(self, fn: Callable[[Session], T]) -> T:
        with self.write_session() as session:
            return fn(session)

    async def read(self, fn: Callable[[Session], T]) -> T:
        """Run ``fn(session)`` in a worker thread."""
        return await anyio.to_thread.run_sync(self.read_sync, fn)

    async def write(self, fn: Callable[[Session], T]) -> T:
        """Run ``fn(session)`` in a worker thread inside one committed write transaction."""
        return await anyio.to_thread.run_sync(self.write_sync, fn)

    def ping(self) -> None:
        """Raise ``sqlalchemy.exc.OperationalError`` when the database cannot be reached."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
