"""``toolwire worker``: a Celery worker that processes posted messages."""

from __future__ import annotations

from typing import Annotated

import typer


def worker(
    concurrency: Annotated[int, typer.Option(min=1, help="Worker processes (each loads the "
                                                         "model once).")] = 2,
    loglevel: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING...")] = "INFO",
) -> None:
    """Process the messages the API sends to TOOLWIRE_BROKER_URL (Celery over Redis).

    Example: TOOLWIRE_BROKER_URL=redis://127.0.0.1:6379/0 toolwire worker --concurrency 2
    """
    from toolwire.config import get_settings
    from toolwire.logs import configure_logging

    settings = get_settings()
    if not settings.broker_url:
        typer.echo("error: set TOOLWIRE_BROKER_URL (e.g. redis://127.0.0.1:6379/0)", err=True)
        raise typer.Exit(2)
    configure_logging(json_format=settings.log_format == "json", level=loglevel.upper())
    from toolwire.api.queue import QUEUE
    from toolwire.worker.tasks import app

    app.worker_main([
        "worker", f"--concurrency={concurrency}", "--pool=prefork", f"--queues={QUEUE}",
        f"--loglevel={loglevel.upper()}", "--without-gossip", "--without-mingle",
    ])
