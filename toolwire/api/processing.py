"""Running a stored prompt through the engine and recording every step.

The stored message is the source of truth: ``process_message(message_id)`` claims a pending
message (one conditional UPDATE, so any number of workers may race for it), loads the
interaction's earlier turns as history, runs the engine, stores each tool call as it
finishes, then the answer. Whatever goes wrong — the model, a tool, the database, a
cancelled task — the message ends ``failed`` with the reason, never missing or stuck.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

import anyio
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlmodel import Session

from toolwire.api.engines import Engines
from toolwire.api.metrics import Metrics
from toolwire.events import Event, Executed
from toolwire.models.base import Message as ChatMessage
from toolwire.results import CallResult, Run
from toolwire.store import data
from toolwire.store.db import Database
from toolwire.store.history import load_history
from toolwire.store.tables import Message, ToolCall
from toolwire.store.types import utcnow

log = logging.getLogger(__name__)


@dataclass(kw_only=True)
class Outcome:
    """What processing one prompt produced: the run (``None`` if it failed) and stored rows."""

    message: Message
    reply: Message
    run: Run | None = None
    calls: list[ToolCall] = field(default_factory=list)
    error: str | None = None
    exception: BaseException | None = None
    """What made the run fail (``error`` is its description)."""

    @property
    def database_failed(self) -> bool:
        return isinstance(self.exception, (OperationalError, InterfaceError))


class CallRecorder:
    """Stores each tool call the moment the engine reports it (``Executed`` events).

    Calls are queued and written by one background drain, in batches. The drain first yields
    once to the event loop: when the run is already complete by then (a model that answered
    without waiting), ``finish`` takes the queued calls into the same transaction as the
    answer. Either way no call is stored later than it would be on its own.
    """

    def __init__(self, *, database: Database, reply_id: uuid.UUID, metrics: Metrics) -> None:
        self.database = database
        self.reply_id = reply_id
        self.metrics = metrics
        self.rows: list[ToolCall] = []
        self._queued: list[tuple[CallResult, datetime]] = []
        self._drain_task: asyncio.Task[None] | None = None
        self._seen: set[str] = set()

    def on_event(self, event: Event) -> None:
        """The engine's event handler: queue a write for every finished call."""
        if isinstance(event, Executed):
            self.record(event.call)

    def record(self, call: CallResult) -> None:
        if call.id in self._seen:
            return
        self._seen.add(call.id)
        self.metrics.tool_calls.labels(call.name, call.status).inc()
        self._queued.append((call, utcnow()))
        if self._drain_task is None or self._drain_task.done():
            self._drain_task = asyncio.ensure_future(self._drain())

    def _take(self) -> list[tuple[CallResult, datetime]]:
        batch, self._queued = self._queued, []
        return batch

    def _store(self, session: Session, batch: list[tuple[CallResult, datetime]]) -> None:
        self.rows.extend(
            data.add_tool_call(session=session, message_id=self.reply_id, call=c, finished=at)
            for c, at in batch
        )

    async def _drain(self) -> None:
        await asyncio.sleep(0)
        while self._queued:
            await self.database.write(partial(self._store, batch=self._take()))

    async def finish(self, run: Run, message: Message, reply: Message) -> list[ToolCall]:
        """Record calls no event reported, then the answer (with any calls still queued)."""
        for call in run.calls:
            self.record(call)
        late = self._take()
        if self._drain_task is not None:
            await self._drain_task  # a batch in flight completes; an idle drain finds nothing

        def write(session: Session) -> None:
            self._store(session, late)
            data.finish_message(session=session, message=message, reply=reply, run=run)

        await self.database.write(write)
        return sorted(self.rows, key=lambda row: (row.finished or row.created, str(row.id)))

    async def settle(self) -> None:
        """Store what is still queued, ignoring failures (the run failed anyway)."""
        if self._drain_task is not None:
            await asyncio.gather(self._drain_task, return_exceptions=True)
        if self._queued:
            with suppress(Exception):
                await self.database.write(partial(self._store, batch=self._take()))


class Processor:
    """Runs stored prompts; shared by the API's background tasks and any worker."""

    def __init__(self, *, database: Database, engines: Engines, metrics: Metrics) -> None:
        self.database = database
        self.engines = engines
        self.metrics = metrics
        self._tasks: set[asyncio.Task[Outcome | None]] = set()

    # -- entry points ---------------------------------------------------------------------
    async def process_message(self, message_id: uuid.UUID) -> Outcome | None:
        """Claim and run a pending message; ``None`` if it is gone or already taken."""
        claimed = await self.database.write(
            lambda s: data.claim_message(session=s, message_id=message_id)
        )
        if claimed is None:
            return None
        message, reply = claimed
        return await self.run_claimed(message, reply)

    def submit(self, message_id: uuid.UUID) -> None:
        """Process a message in the background of this process."""
        task = asyncio.create_task(self.process_message(message_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def recover(self, *, stale_after: timedelta) -> int:
        """Fail messages a dead worker left running; resubmit pending ones. How many resumed."""
        cutoff = utcnow() - stale_after
        failed = await self.database.write(
            lambda s: data.fail_stale_messages(session=s, older_than=cutoff)
        )
        if failed:
            log.warning("marked %d interrupted message(s) as failed", failed)
        pending = await self.database.read(lambda s: data.pending_message_ids(session=s))
        for message_id in pending:
            self.submit(message_id)
        return len(pending)

    async def shutdown(self) -> None:
        """Cancel background work; each cancelled message is marked failed."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- one prompt -----------------------------------------------------------------------
    async def run_claimed(
        self,
        message: Message,
        reply: Message,
        *,
        model: str | None = None,
        history: list[ChatMessage] | None = None,
    ) -> Outcome:
        """Run a message already marked ``running`` whose reply is open; record the outcome.

        ``history`` given (a new interaction has none) saves reading it back.
        """
        outcome = Outcome(message=message, reply=reply)
        recorder = CallRecorder(database=self.database, reply_id=reply.id, metrics=self.metrics)
        try:
            outcome.run = await self._run(message, recorder, model=model, history=history)
            outcome.calls = await recorder.finish(outcome.run, message, reply)
            self.metrics.messages.labels("done").inc()
        except BaseException as exc:
            outcome.run = None
            outcome.error = _describe(exc)
            outcome.exception = exc
            with anyio.CancelScope(shield=True):
                await recorder.settle()
            await self._fail(message, outcome.error)
            if not isinstance(exc, Exception):
                raise
            log.warning("message %s failed: %s", message.id, outcome.error, exc_info=exc)
        return outcome

    async def _run(
        self,
        message: Message,
        recorder: CallRecorder,
        *,
        model: str | None,
        history: list[ChatMessage] | None,
    ) -> Run:
        if history is not None:
            engine = await self.engines.aget(model)
            return await engine.arun(message.content, history=history, on_event=recorder.on_event)

        def context(session: Session) -> tuple[str | None, list[ChatMessage]]:
            interaction = data.get_interaction(session=session, interaction_id=message.interaction_id)
            history = load_history(
                session=session, interaction_id=message.interaction_id, before=message
            )
            return (interaction.model if interaction else None), history

        stored_model, stored = await self.database.read(context)
        engine = await self.engines.aget(model or stored_model)
        return await engine.arun(message.content, history=stored, on_event=recorder.on_event)

    async def _fail(self, message: Message, error: str) -> None:
        with anyio.CancelScope(shield=True):
            try:
                await self.database.write(
                    lambda s: data.fail_message(session=s, message_id=message.id, error=error)
                )
                message.status, message.error = "failed", error
                self.metrics.messages.labels("failed").inc()
            except Exception:
                log.exception("could not mark message %s failed", message.id)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, asyncio.CancelledError):
        return "interrupted: the server stopped before finishing"
    if isinstance(exc, DBAPIError):  # the driver's first line, without SQL or parameters
        first = (str(exc.orig).strip().splitlines() or [""])[0]
        return f"database error: {type(exc.orig).__name__}: {first}"[:2000]
    return f"{type(exc).__name__}: {exc}"[:2000]
