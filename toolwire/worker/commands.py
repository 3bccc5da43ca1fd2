"""``toolwire worker``: a Celery worker that processes posted messages."""

from __future__ import annotations

import os
import tempfile
from typing import Annotated

import typer

METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"


def worker(
    concurrency: Annotated[int, typer.Option(min=1, help="Worker processes (each loads the "
                                                         "model once).")] = 2,
    loglevel: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING...")] = "INFO",
    metrics_port: Annotated[int, typer.Option(
        min=0, max=65535, envvar="TOOLWIRE_WORKER_METRICS_PORT",
        help="Serve Prometheus /metrics on this port, summed over the worker's processes "
             "(in PROMETHEUS_MULTIPROC_DIR, else a private directory). 0: off.")] = 0,
    metrics_host: Annotated[str, typer.Option(help="Interface for --metrics-port "
                                                   "(0.0.0.0 in a container).")] = "127.0.0.1",
) -> None:
    """Process the messages the API sends to TOOLWIRE_BROKER_URL (Celery over Redis).

    Example: TOOLWIRE_BROKER_URL=redis://127.0.0.1:6379/0 toolwire worker --concurrency 2
    --metrics-port 9100, then curl localhost:9100/metrics
    """
    from toolwire.config import get_settings
    from toolwire.logs import configure_logging
    from toolwire.memory import tune_malloc

    settings = get_settings()
    if not settings.broker_url:
        typer.echo("error: set TOOLWIRE_BROKER_URL (e.g. redis://127.0.0.1:6379/0)", err=True)
        raise typer.Exit(2)
    tune_malloc(enabled=settings.malloc_tuning)  # before the pool forks: see toolwire.memory
    configure_logging(json_format=settings.log_format == "json", level=loglevel.upper())
    if metrics_port:
        _multiprocess_dir()  # before prometheus_client is imported: it picks its mode then
        from toolwire.worker import metrics

        metrics.serve(metrics_port, metrics_host)
    from toolwire.service.queue import QUEUE
    from toolwire.worker.tasks import app

    app.worker_main([
        "worker", f"--concurrency={concurrency}", "--pool=prefork", f"--queues={QUEUE}",
        f"--loglevel={loglevel.upper()}", "--without-gossip", "--without-mingle",
    ])


def _multiprocess_dir() -> str:
    """``PROMETHEUS_MULTIPROC_DIR`` (created if missing), or a fresh private directory for this
    worker alone; the pool processes inherit it."""
    directory = os.environ.get(METRICS_DIR) or tempfile.mkdtemp(prefix="toolwire-metrics-")
    os.makedirs(directory, exist_ok=True)
    os.environ[METRICS_DIR] = directory
    return directory
