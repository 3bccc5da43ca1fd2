"""Handing stored messages to Celery workers (``TOOLWIRE_BROKER_URL``).

The API only *sends* tasks, by name, so it imports nothing of the worker. The database stays
the source of truth: a message is committed ``pending`` before its task is sent, a send that
fails (broker down) leaves it pending, and the API's sweep sends pending messages that have
waited too long again (a task lost with a restarted broker included). A task delivered twice is
harmless: only one process can claim a message (its lease), and a claimed message's tool calls
are journalled, so none runs twice.
"""

from __future__ import annotations

import uuid
from typing import Any

from celery import Celery
from kombu.exceptions import ChannelError

from toolwire import tracing

PROCESS_MESSAGE = "toolwire.process_message"
QUEUE = "toolwire"


def celery_app(broker_url: str, *, lease_seconds: float = 30.0) -> Celery:
    """The Celery app shared by the API (sender) and ``toolwire worker`` (consumer)."""
    app = Celery("toolwire", broker=broker_url)
    app.conf.update(
        task_default_queue=QUEUE,
        task_acks_late=True,  # a task is acknowledged once done: a dead worker's goes back
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # a worker holds no more than the task it runs
        task_ignore_result=True,  # the outcome lives in the database, not a result backend
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=3,
        broker_transport_options={
            # an unacknowledged task (its worker was killed) is delivered again after this
            "visibility_timeout": max(60, int(lease_seconds * 4)),
            "socket_connect_timeout": 3,
            "socket_timeout": 5,
        },
        worker_hijack_root_logger=False,
    )
    return app


class TaskQueue:
    """Sends ``process_message`` tasks; ``ping`` tells ``/healthz`` whether the broker answers."""

    def __init__(self, broker_url: str, *, lease_seconds: float = 30.0) -> None:
        self.broker_url = broker_url
        self.app = celery_app(broker_url, lease_seconds=lease_seconds)

    def enqueue(self, message_id: uuid.UUID, *, request_id: str | None = None) -> None:
        """Send the task (blocking: call it from a thread). Raises when the broker is down."""
        headers = tracing.carrier()  # the worker's spans join the sender's trace
        if request_id:
            headers["toolwire_request_id"] = request_id
        self.app.send_task(
            PROCESS_MESSAGE, args=[str(message_id)], queue=QUEUE, headers=headers or None,
            retry=True, retry_policy={"max_retries": 2, "interval_start": 0.2,
                                      "interval_step": 0.5},
        )

    def ping(self) -> dict[str, Any]:
        """``{"state": "ok", "depth": N}`` or ``{"state": "unavailable", "error": ...}``."""
        try:
            with self.app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=2)
                with connection.channel() as channel:
                    try:
                        _, depth, _ = channel.queue_declare(QUEUE, passive=True)
                    except ChannelError as e:
                        if "NOT_FOUND" not in str(e):
                            raise
                        depth = 0  # nothing was ever sent: the queue is not there yet
            return {"state": "ok", "depth": int(depth)}
        except Exception as e:  # any failure to reach the broker is its state, not an error
            return {"state": "unavailable", "error": f"{type(e).__name__}: {e}"[:300]}
