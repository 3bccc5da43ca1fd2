"""The Celery app of ``toolwire worker`` and its one task, ``toolwire.process_message``.

Guarantees (the message's row in the database is what counts):

- **acks late**: a task is acknowledged when it finishes, so a worker killed mid-task (even by
  SIGKILL) leaves it to be delivered again;
- **idempotent**: a message is claimed under a lease by one process at a time, and each of its
  tool calls is journalled (``running`` before it runs, its outcome after), so a task delivered
  twice never runs a tool twice; only a call a killed worker was running, of a tool marked
  ``idempotent``, runs once more, with the same ``call_key``;
- **retried**: the database away, or the message held by a process whose lease has not
  expired yet, means "try again later", with linear backoff; a model that failed transiently
  (``retry.transient``: its process crashed or timed out, a remote 5xx, 429 or connection
  error) hands the message back and the task is retried with exponential backoff and jitter,
  up to ``TOOLWIRE_MODEL_RETRIES`` times; then, or at once for a permanent error (a bad
  request), the message fails with the model's reason;
- **fenced**: a process whose lease was taken over (it stalled past it) stops that message
  without running another tool or recording anything; the new owner finishes it.
"""

from __future__ import annotations

import logging
import os
import uuid
from typing import TYPE_CHECKING, Any

from celery import Task
from celery.signals import worker_process_init, worker_process_shutdown
from sqlalchemy.exc import InterfaceError, OperationalError

from toolwire import tracing
from toolwire.config import get_settings
from toolwire.logs import request_context
from toolwire.service.queue import PROCESS_MESSAGE, celery_app
from toolwire.worker import metrics
from toolwire.worker.retry import backoff
from toolwire.worker.runtime import WorkerRuntime

if TYPE_CHECKING:
    from opentelemetry.context import Context

log = logging.getLogger(__name__)

_settings = get_settings()
app = celery_app(_settings.broker_url or "redis://127.0.0.1:6379/0",
                 lease_seconds=_settings.lease_seconds)
_runtime: WorkerRuntime | None = None

MAX_RETRIES = 40
"""Enough to outlast a dead worker's lease (a retry every half lease, backing off to a minute)."""


def runtime() -> WorkerRuntime:
    global _runtime
    if _runtime is None:
        _runtime = WorkerRuntime(get_settings())
    return _runtime


@worker_process_init.connect  # type: ignore[untyped-decorator]  # celery has no types
def _load(**_: Any) -> None:
    """Each worker process sets up its trace export (after the fork: the exporter's thread
    would not survive it) and loads the model once, before its first task."""
    tracing.configure_tracing("toolwire-worker", arguments=get_settings().trace_arguments)
    runtime()
    metrics.process_started()


@worker_process_shutdown.connect  # type: ignore[untyped-decorator]
def _close(**_: Any) -> None:
    try:
        if _runtime is not None:
            _runtime.close()
    finally:
        tracing.flush()  # a pool process exits without running atexit
        metrics.process_exited(os.getpid())


@app.task(name=PROCESS_MESSAGE, bind=True, max_retries=MAX_RETRIES)  # type: ignore[untyped-decorator]
def process_message(self: Task, message_id: str) -> str:
    """Run one stored message (see the module docstring); returns what it found."""
    request_id = task_header(self.request, "toolwire_request_id")
    parent = trace_parent(self.request)
    countdown = min(60.0, max(1.0, get_settings().lease_seconds / 2) * (1 + self.request.retries))
    with request_context(request_id or f"task-{self.request.id}"):
        try:
            processed = runtime().run(
                tracing.within(parent, runtime().process(uuid.UUID(message_id))))
        except (OperationalError, InterfaceError) as e:
            log.warning("message %s: database unavailable, retrying in %.0f s", message_id, countdown)
            raise self.retry(exc=e, countdown=countdown) from e
        outcome = processed.outcome
        if outcome is not None and outcome.retry_later:
            delay = backoff(outcome.message.attempts)
            log.warning("message %s: the model failed transiently (try %d), retrying in %.1f s",
                        message_id, outcome.message.attempts, delay)
            raise self.retry(countdown=delay)
        if outcome is not None and outcome.lease_lost:
            log.warning("message %s: lease taken over by another process; left to it", message_id)
            return "lease_lost"
        if processed.claim == "busy" or (outcome is not None and outcome.database_failed):
            raise self.retry(countdown=countdown)
        status = outcome.message.status if outcome is not None else processed.claim
        log.info("message %s: %s", message_id, status)
        return status


def trace_parent(request: Any) -> Context:
    """The trace context the sender put in a task's headers: the task's spans continue it."""
    return tracing.extract({name: task_header(request, name) for name in tracing.fields()})


def task_header(request: Any, name: str) -> Any:
    """A custom header the sender gave a task: an attribute of its request (Celery's
    protocol 2), or in its ``headers``."""
    return getattr(request, name, None) or (getattr(request, "headers", None) or {}).get(name)
