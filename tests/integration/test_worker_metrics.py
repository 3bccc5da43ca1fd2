"""``toolwire worker --metrics-port``: the worker's main process serves ``/metrics`` summed
over its pool processes (prometheus-client's multiprocess mode, ``PROMETHEUS_MULTIPROC_DIR``).

A real API server and a real worker (``--concurrency 2``) on a Redis of the test's own and a
fresh PostgreSQL database, the model scripted. Each tool call pauses a moment, so the pool's
two processes both take messages; the scrape must count every call of both. A pool process
killed with SIGKILL keeps its counts, and its replacement drops the dead one's live gauge
(``mark_process_dead``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.test_celery import (
    _free_port,
    post,
    redis_server,
    stack,  # noqa: F401  # the fixture: a PostgreSQL database, a free Redis port, the env
    wait_done,
    worker,
)
from tests.integration.test_server import server

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

MESSAGES = 4
STAGES = ("retrieve", "select", "validate", "execute", "describe")


def scrape(port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """The worker's ``/metrics``: each sample by name and labels."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def processes(port: int) -> float | None:
    """``toolwire_worker_processes``, or None while the worker's /metrics does not answer."""
    try:
        return value(scrape(port), "toolwire_worker_processes")
    except httpx.TransportError:
        return None


def value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str,
          **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def wait_for(check: Any, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_the_worker_exports_what_all_its_pool_processes_count(
    stack: dict[str, Any],  # noqa: F811
) -> None:
    home, metrics_dir, port = stack["home"], stack["home"] / "metrics", _free_port()
    metrics_dir.mkdir()
    module = "tests.integration.metrics_tools"
    env = {**stack["env"], "TOOLWIRE_MODEL": f"scripted:{module}:pause_model",
           "TOOLWIRE_TOOL_MODULES": f'["{module}"]'}
    worker_env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
                  "TOOLWIRE_WORKER_METRICS_PORT": str(port)}
    with redis_server(stack["port"]), server(stack["database_url"], home, env) as client, \
            worker(worker_env, home / "worker.log") as process:
        wait_for(lambda: processes(port) == 2, 60)  # both pool processes have their model
        wait_done(client, [post(client, f"please note n{i}") for i in range(MESSAGES)], 60)
        pids = {int(line.split()[0]) for line in notes(home)}
        assert len(notes(home)) == MESSAGES and len(pids) == 2, notes(home)  # both processes

        wait_for(lambda: value(scrape(port), "toolwire_messages_total", status="done") == MESSAGES)
        samples = scrape(port)
        assert value(samples, "toolwire_tool_calls_total", tool="pause_note",
                     status="ok") == MESSAGES
        for stage in STAGES:
            assert value(samples, "toolwire_pipeline_stage_duration_seconds_count",
                         stage=stage) == MESSAGES, stage
        assert value(samples, "toolwire_worker_processes") == 2
        assert health_check(process.pid).returncode == 0  # compose.yaml's, on this worker
        with idle_worker(_free_port()) as idle:  # and one whose metrics port nobody answers
            assert health_check(idle.pid).returncode != 0

        # A pool process killed: Celery starts another; the dead one's counts stay, its live
        # gauge goes (without mark_process_dead the gauge would read 3).
        dead = min(pids)
        os.kill(dead, signal.SIGKILL)
        wait_for(lambda: live_pids(metrics_dir) - pids)
        assert dead not in live_pids(metrics_dir) and len(live_pids(metrics_dir)) == 2
        samples = scrape(port)
        assert value(samples, "toolwire_worker_processes") == 2
        assert value(samples, "toolwire_tool_calls_total", tool="pause_note",
                     status="ok") == MESSAGES

        wait_done(client, [post(client, "please note after")], 60)
        wait_for(lambda: value(scrape(port), "toolwire_tool_calls_total", tool="pause_note",
                               status="ok") == MESSAGES + 1)
        assert len(notes(home)) == MESSAGES + 1


def health_check(pid: int) -> subprocess.CompletedProcess[str]:
    """The worker's health check from ``compose.yaml``, pointed at process ``pid`` (a
    container holds one worker; this machine may run several)."""
    compose = yaml.safe_load((Path(__file__).resolve().parents[2] / "compose.yaml").read_text())
    kind, program, *args = compose["services"]["worker"]["healthcheck"]["test"]
    assert kind == "CMD" and program == "python"
    return subprocess.run([sys.executable, *args, "--pid", str(pid)], capture_output=True,
                          text=True, timeout=30)


@contextmanager
def idle_worker(port: int) -> Iterator[subprocess.Popen[bytes]]:
    """A process whose command line reads as a worker with metrics on ``port``, where
    nothing answers."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)",
                                "toolwire", "worker", "--metrics-port", str(port)])
    try:
        yield process
    finally:
        process.kill()
        process.wait()


def notes(home: Path) -> list[str]:
    return (home / "notes.txt").read_text().splitlines()


def live_pids(directory: Path) -> set[int]:
    """The processes with a live gauge file (``gauge_livesum_<pid>.db``)."""
    return {int(f.stem.rsplit("_", 1)[1]) for f in directory.glob("gauge_live*_*.db")}


def test_a_worker_without_a_metrics_directory_gets_a_private_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from toolwire.worker.commands import _multiprocess_dir

    # set, then emptied: monkeypatch then restores the variable's absence after the test (a
    # bare delenv of an absent variable records nothing, and the directory set below would
    # leak into every later test's /metrics)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")
    directory = Path(_multiprocess_dir())
    try:
        assert directory.is_dir() and not any(directory.iterdir())
        assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(directory)  # the pool inherits it
    finally:
        directory.rmdir()
