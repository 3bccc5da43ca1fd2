"""Running a stored prompt through the engine and recording every step.

The stored message is the source of truth: ``process_message(message_id)`` claims a pending
message under a lease (one conditional UPDATE, so any number of workers may race for it),
loads the interaction's earlier turns as history (cut to the model's context window), loads
at least the tool sources the message was accepted under (``Message.sources_version``: any
process offers the tools the accepting one would), runs the engine, stores each tool call
as it finishes (with its idempotency key), then the answer.
A message is never stuck: the model or a tool failing fails it with the reason; a dead process
or a lost database lets its lease expire, and any process takes it up again (``pending``)
without re-running the calls already recorded, until it has used ``max_attempts``; a clean
stop hands it back at once. A call the dead process was running ends ``interrupted`` and is
never run again (at most once), unless its tool is ``idempotent``: then it runs once more,
under the same idempotency key, so its effect happens once. The sweep also ends approved calls
whose run was interrupted (``data.interrupt_stale_approvals``): they are failed, never run a
second time.

The lease fences the work: a process whose lease was taken over (it stalled, or lost the
database, past the lease) gets ``LeaseLost`` from its next write; it stops that message there,
runs no further tool and fails nothing, and the new owner finishes it. A Celery worker gives
the Processor a ``retry_later`` policy: a run that failed transiently (the model process
crashed, a remote model answered 503) hands the message back to be tried again later.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

import anyio
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlmodel import Session

from toolwire import tracing
from toolwire.logs import REQUEST_ID
from toolwire.models.base import Message as ChatMessage
from toolwire.run import CallResult, Event, EventHandler, Executed, Run
from toolwire.service.approvals import finish_if_decided
from toolwire.service.context import fit_to_context, run_overrides
from toolwire.service.engines import Engines
from toolwire.service.metrics import Metrics
from toolwire.service.queue import TaskQueue
from toolwire.store import data
from toolwire.store.data import Lease, LeaseLost
from toolwire.store.db import Database
from toolwire.store.history import load_history
from toolwire.store.tables import Interaction, InteractionCreate, Message, ToolCall
from toolwire.store.types import utcnow
from toolwire.tools.dispatch import ExecutionResult
from toolwire.tools.registry import Registry

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
    retry_later: bool = False
    """The run failed transiently and the message was handed back (``pending``) to be tried
    again later (the Processor's ``retry_later`` policy said so)."""

    @property
    def database_failed(self) -> bool:
        return isinstance(self.exception, (OperationalError, InterfaceError))

    @property
    def lease_lost(self) -> bool:
        """Another process took the message over: this one stopped, its owner finishes it."""
        return isinstance(self.exception, LeaseLost)


class CallRecorder:
    """The message's journal (``toolwire.run.Journal``): stores each call as ``running`` before
    it runs, and its outcome the moment the engine reports it (``Executed`` events).

    Outcomes are queued and written by one background drain, in batches. The drain first
    yields once to the event loop: when the run is already complete by then (a model that
    answered without waiting), ``finish`` takes the queued calls into the same transaction as
    the answer. Either way no call is stored later than it would be on its own.
    """

    def __init__(
        self, *, database: Database, reply_id: uuid.UUID, metrics: Metrics, lease: Lease
    ) -> None:
        self.database = database
        self.reply_id = reply_id
        self.metrics = metrics
        self.lease = lease
        """The lease the message is held under: every write checks it still is (fencing)."""
        self.rows: list[ToolCall] = []
        self._queued: list[tuple[CallResult, datetime]] = []
        self._drain_task: asyncio.Task[None] | None = None
        self._seen: set[str] = set()
        self._earlier: dict[str, ExecutionResult] = {}
        self._begun: dict[str, uuid.UUID] = {}
        self._again: dict[str, uuid.UUID] = {}
        """Idempotent calls an earlier attempt's process died in: key -> row, run again."""

    def preload(self, rows: list[ToolCall], again: list[ToolCall] | None = None) -> None:
        """Calls an earlier attempt stored: they count as recorded, are answered from the
        record and are not stored again; except ``again``, still ``running`` (idempotent
        calls its process died in), which are not recorded: they run again in their rows."""
        self._again = {row.idempotency_key: row.id for row in again or [] if row.idempotency_key}
        for row in rows:
            if row.idempotency_key in self._again:
                continue
            self.rows.append(row)
            if row.idempotency_key:
                self._seen.add(row.idempotency_key)
                self._earlier[row.idempotency_key] = ExecutionResult.of(row)

    def recorded(self, key: str) -> ExecutionResult | None:
        return self._earlier.get(key)

    async def begin(self, call: CallResult) -> None:
        key = call.idempotency_key or call.id
        again = self._again.pop(key, None)
        if again is None:
            row = await self.database.write(
                lambda s: data.begin_tool_call(session=s, message_id=self.reply_id, call=call,
                                               lease=self.lease))
        else:
            row = await self.database.write(
                lambda s: data.restart_tool_call(session=s, reply_id=self.reply_id, row_id=again,
                                                 lease=self.lease))
            log.warning("%s (call %s) was interrupted by a dead process: idempotent, so it "
                        "runs again under the same key", call.name, key)
        self._begun[key] = row.id

    def on_event(self, event: Event) -> None:
        """The engine's event handler: queue a write for every finished call."""
        if isinstance(event, Executed):
            self.record(event.call)

    def record(self, call: CallResult) -> None:
        key = call.idempotency_key or call.id
        if key in self._seen:
            return
        self._seen.add(key)
        self.metrics.tool_calls.labels(call.name, call.status).inc()
        self._queued.append((call, utcnow()))
        if self._drain_task is None or self._drain_task.done():
            self._drain_task = asyncio.ensure_future(self._drain())

    def _take(self) -> list[tuple[CallResult, datetime]]:
        batch, self._queued = self._queued, []
        return batch

    def _store(self, session: Session, batch: list[tuple[CallResult, datetime]]) -> None:
        if batch:  # fenced: a process that lost the message stores no outcome over its owner's
            data.hold_lease(session=session, reply_id=self.reply_id, lease=self.lease)
        for call, at in batch:
            begun = self._begun.get(call.idempotency_key or call.id)
            self.rows.append(
                data.finish_tool_call(session=session, row_id=begun, call=call, finished=at)
                if begun else
                data.add_tool_call(session=session, message_id=self.reply_id, call=call,
                                   finished=at)
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

        not_rerun = list(self._again.values())  # the run made other calls this time
        self._again = {}

        def write(session: Session) -> None:
            self._store(session, late)
            self.rows.extend(data.interrupt_calls(session=session, ids=not_rerun))
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
    """Runs stored prompts under leases; shared by the API's background work and any worker.

    Each message this process works on is *held*: its lease is renewed every third of its
    length while it runs. A sweep, at start and then periodically, hands expired leases back
    (``pending``, or ``failed`` after ``max_attempts``), since any process may be the one that
    died, and claims pending messages while fewer than ``concurrency`` run here.
    """

    def __init__(
        self,
        *,
        database: Database,
        engines: Engines,
        metrics: Metrics,
        lease_seconds: float = 30.0,
        max_attempts: int = 3,
        concurrency: int = 4,
        queue: TaskQueue | None = None,
        retry_later: Callable[[BaseException, int], bool] | None = None,
    ) -> None:
        self.database = database
        self.retry_later = retry_later
        """``retry_later(error, attempts)``: whether a run that failed with ``error`` on the
        message's ``attempts``-th try hands the message back (``pending``, the attempt
        counted) instead of failing it; the caller retries it with backoff (a Celery worker:
        ``toolwire.worker.retry.ModelRetries``). ``None``: every failure fails the message."""
        self.queue = queue
        """Celery, when configured: messages are sent to workers instead of run here."""
        self.engines = engines
        self.metrics = metrics
        self.lease = Lease(owner=_process_owner(), seconds=lease_seconds)
        self.max_attempts = max_attempts
        self.concurrency = concurrency
        self._held: set[uuid.UUID] = set()
        self._spawned: set[uuid.UUID] = set()
        """Messages a background task of this process is claiming or running."""
        self._queue: deque[uuid.UUID] = deque()
        self._tasks: set[asyncio.Task[Outcome | None]] = set()
        self._loops: list[asyncio.Task[None]] = []
        self._wake: asyncio.Event | None = None
        self._tasks_sending: set[asyncio.Task[None]] = set()

    # -- entry points ---------------------------------------------------------------------
    async def process_message(self, message_id: uuid.UUID) -> Outcome | None:
        """Claim and run a pending message; ``None`` if it is gone or already taken."""
        claimed = await self.database.write(
            lambda s: data.claim_message(session=s, message_id=message_id, lease=self.lease)
        )
        if claimed is None:
            return None
        message, reply = claimed
        return await self.run_claimed(message, reply)

    def submit(self, message_id: uuid.UUID) -> None:
        """Process a stored message: send it to a worker (with a queue), else in the
        background of this process as soon as a slot is free (without ``start()``, now)."""
        if self.queue is not None:
            task = asyncio.create_task(self._send([message_id]))
            self._tasks_sending.add(task)
            task.add_done_callback(self._tasks_sending.discard)
            return
        if self._wake is None:
            self._spawn(message_id)
            return
        self._queue.append(message_id)
        self._wake.set()

    def start(self, *, sweep: bool = True) -> None:
        """Start renewing leases and (``sweep``) sweeping: call inside the serving event loop.
        A Celery worker only renews; the API's sweep hands lost work back to the queue."""
        if self._loops:
            return
        self._wake = asyncio.Event()
        self._loops = [asyncio.create_task(self._renew_forever(), name="toolwire-lease-renewal")]
        if sweep:
            self._loops.append(asyncio.create_task(self._sweep_forever(), name="toolwire-sweep"))

    async def sweep(self) -> tuple[int, int]:
        """Hand expired leases back (or fail them after too many attempts); (requeued, failed)."""
        requeued, failed = await self.database.write(
            lambda s: data.requeue_expired(
                session=s,
                max_attempts=self.max_attempts,
                grace=timedelta(seconds=self.lease.seconds),
            )
        )
        if requeued or failed:
            log.warning("expired leases: %d message(s) requeued, %d failed", requeued, failed)
            self.metrics.messages.labels("failed").inc(failed)
        await self.end_interrupted_approvals()
        return requeued, failed

    async def end_interrupted_approvals(self) -> int:
        """Approved calls that never returned, longer ago than any tool may run plus a lease
        (their process died between the decision and the result), become errors
        (``interrupted``, never run again) and their messages are finished; how many
        messages were finished."""
        registry = self.engines.registry
        longest = max((tool.timeout for tool in registry), default=0.0)
        cutoff = utcnow() - timedelta(seconds=longest + self.lease.seconds)
        replies = await self.database.write(
            lambda s: data.interrupt_stale_approvals(session=s, decided_before=cutoff))
        finished = 0
        for reply_id in replies:
            reply = await self.database.read(partial(_message, message_id=reply_id))
            if reply is None:
                continue
            status, _ = await finish_if_decided(database=self.database, engines=self.engines,
                                                reply=reply)
            finished += status == "done"
        if replies:
            log.warning("approved calls of %d message(s) were interrupted before they "
                        "returned: ended as errors, not run again", len(replies))
        return finished

    async def shutdown(self, grace: float = 0.0) -> None:
        """Stop claiming; give running messages ``grace`` seconds, then hand them back."""
        if self._tasks_sending:
            await asyncio.wait(self._tasks_sending, timeout=5)
        for loop in self._loops:
            loop.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops, self._wake = [], None
        if self._tasks and grace > 0:
            await asyncio.wait(self._tasks, timeout=grace)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- the background loops -------------------------------------------------------------
    def _spawn(self, message_id: uuid.UUID) -> None:
        if message_id in self._spawned:
            return
        self._spawned.add(message_id)
        task = asyncio.create_task(self.process_message(message_id))
        self._tasks.add(task)
        task.add_done_callback(partial(self._finished, message_id))

    def _finished(self, message_id: uuid.UUID, task: asyncio.Task[Outcome | None]) -> None:
        self._tasks.discard(task)
        self._spawned.discard(message_id)
        if self._wake is not None:
            self._wake.set()

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self.lease.seconds / 3)
            held = list(self._held)
            try:
                kept = await self.database.write(
                    partial(_renew, ids=held, lease=self.lease)
                )
            except Exception as e:  # the database is away: the lease may lapse, by design
                log.warning("could not renew %d lease(s): %s", len(held), _describe(e))
                continue
            if kept < len(held):
                log.warning("%d lease(s) were lost to another process", len(held) - kept)

    async def _sweep_forever(self) -> None:
        assert self._wake is not None
        interval = max(0.5, self.lease.seconds / 3)
        next_sweep = 0.0
        loop = asyncio.get_running_loop()
        while True:
            try:
                if loop.time() >= next_sweep:
                    await self.sweep()
                    next_sweep = loop.time() + interval
                await self._fill()
            except Exception as e:
                log.warning("sweep failed (retrying): %s", _describe(e))
                next_sweep = loop.time() + interval
            self._wake.clear()
            with suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, next_sweep - loop.time())):
                    await self._wake.wait()

    async def _send(self, ids: list[uuid.UUID]) -> None:
        """Send messages to the workers; one that cannot be sent stays pending for the sweep."""
        assert self.queue is not None
        for message_id in ids:
            try:
                await anyio.to_thread.run_sync(
                    partial(self.queue.enqueue, message_id, request_id=REQUEST_ID.get()))
            except Exception as e:
                log.warning("message %s not sent to the workers (the sweep sends it again): %s",
                            message_id, _describe(e))
                return

    async def _fill(self) -> None:
        """Claim work while fewer than ``concurrency`` messages run here: the ones submitted
        to this process first, then any pending in the database (oldest first). With a
        queue: send again the pending messages whose task was lost."""
        if self.queue is not None:
            older = timedelta(seconds=max(2.0, self.lease.seconds))
            stale = await self.database.write(
                lambda s: data.stale_pending(session=s, older_than=older))
            await self._send(stale)
            return
        while self._queue and len(self._tasks) < self.concurrency:
            self._spawn(self._queue.popleft())
        free = self.concurrency - len(self._tasks)
        if free <= 0:
            return
        busy = list(self._held | self._spawned)
        ids = await self.database.read(
            lambda s: data.pending_message_ids(session=s, limit=free, exclude=busy)
        )
        for message_id in ids:
            self._spawn(message_id)

    # -- one prompt -----------------------------------------------------------------------
    async def run_prompt(
        self,
        prompt: str,
        *,
        owner: str | None,
        history: list[ChatMessage],
        model: str | None = None,
        on_event: EventHandler | None = None,
    ) -> Outcome:
        """Store ``prompt`` as a new interaction of ``owner`` (the prompt held by this process,
        its reply open) and run it here with ``history``, a conversation the caller keeps
        (``/v1/chat/completions``): every step is journalled as for a stored message."""

        def store(session: Session) -> tuple[Message, Message]:
            interaction = data.create_interaction(
                session=session, interaction_in=InteractionCreate(model=model), owner=owner)
            message = data.add_user_message(session=session, interaction_id=interaction.id,
                                            content=prompt, lease=self.lease, touch=False)
            return message, data.open_reply(session=session, message=message)

        message, reply = await self.database.write(store)
        return await self.run_claimed(message, reply, model=model, history=history,
                                      on_event=on_event)

    async def run_claimed(
        self,
        message: Message,
        reply: Message,
        *,
        model: str | None = None,
        history: list[ChatMessage] | None = None,
        on_event: EventHandler | None = None,
    ) -> Outcome:
        """Run a message this process holds (``running``, its reply open); record the outcome.
        ``on_event`` also gets every step event (a live stream of the run).

        ``history`` given (a new interaction has none) saves reading it back. A failure of
        the run fails the message with its reason; a failure of the database leaves it to its
        lease (it is taken up again once the database is back); a cancellation (shutdown)
        hands it back at once.
        """
        outcome = Outcome(message=message, reply=reply)
        recorder = CallRecorder(database=self.database, reply_id=reply.id, metrics=self.metrics,
                                lease=self.lease)
        self._held.add(message.id)
        with tracing.span("message", _traced(message)) as span:
            try:
                await self._journal(recorder, reply, fresh=history is not None)
                outcome.run = await self._run(message, recorder, model=model, history=history,
                                              on_event=_both(recorder.on_event, on_event))
                outcome.calls = await recorder.finish(outcome.run, message, reply)
                self.metrics.messages.labels("done").inc()
                self.metrics.observe_stages(outcome.run.timings_ms)
            except BaseException as exc:
                outcome.run = None
                outcome.error = _describe(exc)
                outcome.exception = exc
                tracing.failed(span, outcome.error)
                with anyio.CancelScope(shield=True):
                    await recorder.settle()
                    await self._after_failure(message, outcome)
                if not isinstance(exc, Exception):
                    raise
            finally:
                self._held.discard(message.id)
        return outcome

    async def _journal(self, recorder: CallRecorder, reply: Message, *, fresh: bool) -> None:
        """Load what an earlier attempt of this message recorded (nothing for a fresh one).
        A call it began and never finished is an error from now on, never run again, unless
        its tool is idempotent (``runs_again``): that one runs again under its key."""
        if fresh:
            return
        registry = self.engines.registry

        def read(session: Session) -> tuple[list[ToolCall], list[ToolCall]]:
            again, _ = data.interrupt_running_calls(
                session=session, reply_id=reply.id, runs_again=partial(runs_again, registry))
            return data.recorded_calls(session=session, reply_id=reply.id), again

        recorder.preload(*await self.database.write(read))

    async def _after_failure(self, message: Message, outcome: Outcome) -> None:
        exc, error = outcome.exception, outcome.error or "failed"
        if isinstance(exc, asyncio.CancelledError):
            await self._release(message)
        elif outcome.lease_lost:
            log.warning("message %s: its lease was taken over by another process; stopped "
                        "here without recording more (its new owner finishes it)", message.id)
        elif outcome.database_failed:
            log.warning("message %s left to its lease: %s", message.id, error)
        elif exc is not None and self.retry_later and self.retry_later(exc, message.attempts):
            log.warning("message %s failed transiently on try %d, handed back to be tried "
                        "again: %s", message.id, message.attempts, error)
            outcome.retry_later = True
            await self._release(message, counted=True)
        else:
            log.warning("message %s failed: %s", message.id, error, exc_info=exc)
            await self._fail(message, error)

    async def _run(
        self,
        message: Message,
        recorder: CallRecorder,
        *,
        model: str | None,
        history: list[ChatMessage] | None,
        on_event: EventHandler,
    ) -> Run:
        await self.engines.sync_sources(message.sources_version)  # the tools it was offered
        if history is not None:
            engine = await self.engines.aget(model)
            return await engine.arun(
                message.content, history=fit_to_context(engine, history, question=message.content),
                on_event=on_event, scope=str(message.id), journal=recorder,
            )

        def context(session: Session) -> tuple[Interaction | None, list[ChatMessage]]:
            interaction = data.get_interaction(session=session, interaction_id=message.interaction_id)
            history = load_history(  # all of the latest turns, cut below to the model's window
                session=session, interaction_id=message.interaction_id, before=message,
                max_tokens=None,
            )
            return interaction, history

        interaction, stored = await self.database.read(context)
        engine = await self.engines.aget(model or (interaction.model if interaction else None))
        overrides = run_overrides(interaction.settings if interaction else {})
        return await engine.arun(
            message.content, on_event=on_event, scope=str(message.id), journal=recorder,
            history=fit_to_context(engine, stored, question=message.content, overrides=overrides),
            overrides=overrides,
        )

    async def _release(self, message: Message, *, counted: bool = False) -> None:
        try:
            await self.database.write(
                lambda s: data.release_messages(session=s, ids=[message.id], lease=self.lease,
                                                counted=counted)
            )
        except Exception as e:
            log.warning("could not hand message %s back (its lease will): %s", message.id, e)

    async def _fail(self, message: Message, error: str) -> None:
        try:
            failed = await self.database.write(
                lambda s: data.fail_message(session=s, message_id=message.id, error=error,
                                            lease=self.lease)
            )
            if not failed:
                log.warning("message %s not marked failed: its lease was taken over by "
                            "another process, which finishes it", message.id)
                return
            message.status, message.error = "failed", error
            self.metrics.messages.labels("failed").inc()
        except Exception as e:
            log.warning("could not mark message %s failed (its lease will retry): %s",
                        message.id, e)


def runs_again(registry: Registry, row: ToolCall) -> bool:
    """Whether a call begun by a process that died before it returned is run again when its
    message is taken up: only a call of an ``idempotent`` tool (running it twice has the
    effect of running it once); any other ends ``interrupted`` (at most once)."""
    tool = registry.find(row.name)
    return tool is not None and tool.idempotent


def _both(first: EventHandler, second: EventHandler | None) -> EventHandler:
    if second is None:
        return first

    def both(event: Event) -> None:
        first(event)
        second(event)

    return both


def _traced(message: Message) -> dict[str, str | int]:
    """The attributes of a message's span: its ids and which lease attempt this is."""
    return {"toolwire.message.id": str(message.id),
            "toolwire.interaction.id": str(message.interaction_id),
            "toolwire.message.attempt": message.attempts}


def _message(session: Session, *, message_id: uuid.UUID) -> Message | None:
    return data.get_message(session=session, message_id=message_id)


def _renew(session: Session, *, ids: list[uuid.UUID], lease: Lease) -> int:
    return data.renew_leases(session=session, ids=ids, lease=lease)


def _process_owner() -> str:
    """This process's name on the leases it holds: host, pid and a random part."""
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, asyncio.CancelledError):
        return "interrupted: the server stopped before finishing"
    if isinstance(exc, DBAPIError):  # the driver's first line, without SQL or parameters
        first = (str(exc.orig).strip().splitlines() or [""])[0]
        return f"database error: {type(exc.orig).__name__}: {first}"[:2000]
    return f"{type(exc).__name__}: {exc}"[:2000]
