"""What one worker process keeps between tasks: an event loop on its own thread, the database,
the engines (the model loaded once per process; the tools of ``service_registry``, the saved
sources brought up to date before each message) and a Processor that renews the leases of the
messages it runs, and hands back those whose model failed transiently (``retry.ModelRetries``).

Celery's prefork pool runs tasks synchronously in child processes; the pipeline is async, so
each child starts one loop thread after the fork (never before: threads do not survive a fork)
and runs every task's coroutine there.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from toolwire.config import Settings
from toolwire.service.engines import Engines
from toolwire.service.metrics import Metrics
from toolwire.service.processing import Outcome, Processor
from toolwire.store import data
from toolwire.store.db import Database
from toolwire.store.types import utcnow
from toolwire.worker.retry import ModelRetries

T = TypeVar("T")

log = logging.getLogger(__name__)

Claim = Literal["done", "busy", "gone"]
"""What a task found: it ran the message (``done``), another process holds it (``busy``:
try again later), or there is nothing to do (``gone``: finished, failed or deleted)."""


@dataclass(frozen=True)
class Processed:
    claim: Claim
    outcome: Outcome | None = None


class WorkerRuntime:
    """One per worker process; built on the first task (after the fork)."""

    def __init__(self, settings: Settings, *, preload: bool = True) -> None:
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="toolwire-worker-loop",
                                        daemon=True)
        self._thread.start()
        self.database = Database(settings.resolved_database_url)
        self.engines = Engines(settings=settings, database=self.database)
        self.processor = Processor(
            database=self.database, engines=self.engines, metrics=Metrics(),
            lease_seconds=settings.lease_seconds, max_attempts=settings.message_attempts,
            concurrency=1, retry_later=ModelRetries(retries=settings.model_retries).later,
        )
        self.run(self._start())
        if preload:
            self.engines.preload()

    async def _start(self) -> None:
        self.processor.start(sweep=False)  # renew the leases of what runs here
        try:  # before the first message: each message then loads what changed since
            await self.engines.sync_sources()
        except Exception as e:
            log.warning("tool sources not loaded yet (each message tries again): %s", e)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on this process's loop and wait for it."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    async def process(self, message_id: uuid.UUID) -> Processed:
        """Claim and run the message; a message held under a lease that expired (its process
        died) is handed back first, so the redelivered task takes it up at once."""
        outcome = await self.processor.process_message(message_id)
        if outcome is not None:
            return Processed("done", outcome)
        message = await self.database.read(
            lambda s: data.get_message(session=s, message_id=message_id))
        if message is None or message.status not in ("pending", "running"):
            return Processed("gone")
        if message.status == "running" and message.lease_expires and message.lease_expires < utcnow():
            await self.processor.sweep()
            outcome = await self.processor.process_message(message_id)
            if outcome is not None:
                return Processed("done", outcome)
        return Processed("busy")

    def close(self) -> None:
        self.run(self.processor.shutdown(grace=self.settings.shutdown_grace))
        self.engines.close()
        self.database.dispose()
        self.loop.call_soon_threadsafe(self.loop.stop)
