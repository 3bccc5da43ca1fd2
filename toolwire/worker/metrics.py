"""``/metrics`` of ``toolwire worker --metrics-port``: what the pool processes count, summed.

The tool calls, pipeline stages and messages are counted in the pool processes (each has its
``Metrics``, see ``runtime.py``), which serve nothing. In prometheus-client's multiprocess mode
each of them writes its figures to a file of its own under ``PROMETHEUS_MULTIPROC_DIR``; the
worker's main process serves the sum on ``--metrics-port`` (:func:`serve`). The mode is chosen
when prometheus_client is imported, so the directory must be set before that: ``toolwire
worker`` sets it (a private one when none is given) before importing this module.

``toolwire_worker_processes`` (a ``livesum`` gauge) counts the live pool processes that have
loaded their model (the worker's health check in ``compose.yaml`` reads it). A process
that exits drops its part (``mark_process_dead``); one killed outright cannot, so each new pool
process (Celery replaces a dead one) drops the parts of processes that no longer exist. Counters
of dead processes stay in the sum, as Prometheus expects of a counter.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from wsgiref.simple_server import WSGIServer

from prometheus_client import Gauge, start_http_server
from prometheus_client.multiprocess import mark_process_dead

from toolwire.service.metrics import multiprocess_dir, multiprocess_registry

_server: WSGIServer | None = None
"""The main process's metrics server; its listening socket is inherited by forked processes."""

_LIVE_GAUGE_FILE = re.compile(r"gauge_live\w*?_(\d+)\.db")


def serve(port: int, host: str = "127.0.0.1") -> None:
    """Serve ``/metrics`` on ``host:port`` from this (the main) process, on a daemon thread;
    call it before the pool forks, in multiprocess mode."""
    global _server
    if multiprocess_dir() is None:
        raise RuntimeError("the worker's /metrics needs PROMETHEUS_MULTIPROC_DIR")
    _server, _ = start_http_server(port, addr=host, registry=multiprocess_registry())


def process_started() -> None:
    """In a new pool process, its model loaded: close the inherited metrics socket (only the
    main process answers), forget the processes that died without saying so, count this one."""
    if _server is not None:
        _server.socket.close()
    directory = multiprocess_dir()
    if directory is not None:
        forget_dead_processes(directory)
    # made here, not on import: the main process must write no part of its own
    Gauge("toolwire_worker_processes", "Live pool processes of this worker.",
          multiprocess_mode="livesum", registry=None).set(1)


def process_exited(pid: int) -> None:
    """A pool process ends: its live gauges go, its counters stay in the sum."""
    directory = multiprocess_dir()
    if directory is not None:
        mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]


def forget_dead_processes(directory: str) -> list[int]:
    """``mark_process_dead`` for every process with live gauges under ``directory`` that no
    longer exists (killed outright: SIGKILL, the OOM killer); returns their pids."""
    pids = {int(m.group(1)) for f in Path(directory).iterdir()
            if (m := _LIVE_GAUGE_FILE.fullmatch(f.name))}
    dead = sorted(pid for pid in pids if not _alive(pid))
    for pid in dead:
        mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]
    return dead


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
