"""Metrics stay right with several processes: counters written by worker processes and API
processes on one host are summed in one scrape (PROMETHEUS_MULTIPROC_DIR)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

COUNT = """
from toolwire.service.metrics import Metrics
m = Metrics()
m.tool_calls.labels("add", "ok").inc({n})
m.messages.labels("done").inc()
m.observe_stages({{"execute": 5.0}})
"""
SCRAPE = "import sys; from toolwire.service.metrics import Metrics; sys.stdout.write(Metrics().render().decode())"


def run(code: str, directory: Path) -> str:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True, timeout=60)
    return done.stdout


def test_counters_of_several_processes_are_summed(tmp_path: Path) -> None:
    for n in (2, 3, 4):  # three processes: a worker's pool, another worker, an API
        run(COUNT.format(n=n), tmp_path)
    scraped = run(SCRAPE, tmp_path)
    assert 'toolwire_tool_calls_total{status="ok",tool="add"} 9.0' in scraped, scraped
    assert 'toolwire_messages_total{status="done"} 3.0' in scraped
    assert 'toolwire_pipeline_stage_duration_seconds_count{stage="execute"} 3.0' in scraped
    assert "toolwire_tool_threads_limit" in scraped  # this process's live figures too


def test_a_missing_metrics_directory_is_created_at_start(tmp_path: Path) -> None:
    directory = tmp_path / "gone" / "metrics"
    run(COUNT.format(n=1), directory)  # used to leave every scrape a 500
    assert "toolwire_tool_calls_total" in run(SCRAPE, directory)


def test_a_metrics_directory_that_cannot_be_one_stops_serve_with_a_clear_error(
    tmp_path: Path,
) -> None:
    taken = tmp_path / "a-file"
    taken.write_text("")
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(taken / "metrics"),
           "TOOLWIRE_HOME": str(tmp_path / "home"), "TOOLWIRE_MODEL": "scripted"}
    done = subprocess.run([sys.executable, "-m", "toolwire", "serve", "--port", "1"], env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 2, done.stderr
    assert "PROMETHEUS_MULTIPROC_DIR" in done.stderr and "Traceback" not in done.stderr
