"""No accepted message is ever stuck: real server processes killed with SIGKILL, restarted on
the same database (SQLite and PostgreSQL), and a PostgreSQL link cut in the middle of a run.

The model is scripted and slow (``slow_model``: a second per answer), so messages are caught
``running`` and ``pending``; the tools are the built-in ones.
"""

from __future__ import annotations

import asyncio
import contextlib
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
from sqlalchemy import make_url

from tests.faults import CuttableProxy
from tests.integration.test_server import ROOT, _currency_answer, _free_port, _wait_ready
from toolwire.models.base import (
    Capabilities,
    Completion,
    Constraint,
    Message,
    Model,
    Settings,
    ToolSpec,
)
from toolwire.models.scripted import ScriptedModel

pytestmark = pytest.mark.integration

PROMPTS = [f"I want to exchange {n} US dollars to Canadian dollars" for n in range(10, 16)]
DEADLINE_S = 90


class SlowModel(Model):
    """The currency model, one second per answer (so a kill finds work in flight)."""

    name = "scripted-slow"
    capabilities = Capabilities(tools=True, parallel=True)

    def __init__(self) -> None:
        self.inner = ScriptedModel(_currency_answer)

    async def complete(
        self,
        messages: list[Message],
        *,
        tools: list[ToolSpec] | None = None,
        constraint: Constraint | None = None,
        settings: Settings | None = None,
    ) -> Completion:
        await asyncio.sleep(float(os.environ.get("SLOW_MODEL_SECONDS", "1")))
        return await self.inner.complete(messages, tools=tools, constraint=constraint,
                                         settings=settings)


def slow_model() -> SlowModel:
    return SlowModel()


@contextmanager
def server(
    database_url: str, home: Path, *, name: str, **extra_env: str
) -> Iterator[tuple[httpx.Client, subprocess.Popen[bytes]]]:
    port = _free_port()
    env = {
        **os.environ,
        "TOOLWIRE_HOME": str(home),
        "TOOLWIRE_DATABASE_URL": database_url,
        "TOOLWIRE_MODEL": "scripted:tests.integration.test_recovery:slow_model",
        "TOOLWIRE_LEASE_SECONDS": "4",
        "TOOLWIRE_CONCURRENCY": "2",
        "PYTHONPATH": str(ROOT),
        **extra_env,
    }
    log_path = home / f"{name}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "toolwire.api", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            _wait_ready(client, process, log_path)
            yield client, process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def _post_all(client: httpx.Client) -> list[tuple[str, str]]:
    posted = []
    for prompt in PROMPTS:
        interaction = client.post("/interactions", json={}).json()["id"]
        accepted = client.post(f"/interactions/{interaction}/messages", json={"content": prompt})
        assert accepted.status_code == 202, accepted.text
        posted.append((interaction, accepted.json()["id"]))
    return posted


def _statuses(client: httpx.Client, posted: list[tuple[str, str]]) -> list[str]:
    return [client.get(f"/interactions/{i}/messages/{m}").json()["status"] for i, m in posted]


def _wait_for(client: httpx.Client, posted: list[tuple[str, str]], wanted: set[str],
              deadline_s: float) -> list[str]:
    deadline = time.monotonic() + deadline_s
    statuses = _statuses(client, posted)
    while time.monotonic() < deadline and not set(statuses) <= wanted:
        time.sleep(0.25)
        statuses = _statuses(client, posted)
    return statuses


def _check_finished(client: httpx.Client, posted: list[tuple[str, str]]) -> None:
    """Every message done, with exactly one convert_currency call (none ran twice)."""
    for (interaction, _), prompt in zip(posted, PROMPTS, strict=True):
        detail: dict[str, Any] = client.get(f"/interactions/{interaction}").json()
        user, reply = detail["messages"]
        assert user["status"] == reply["status"] == "done", detail
        [call] = reply["tool_calls"]
        amount = int(prompt.split()[4])
        assert call["name"] == "convert_currency" and call["result"] == round(amount * 3.14159, 2)


def test_kill_9_mid_run_then_restart_finishes_every_message(database_url: str, tmp_path: Path) -> None:
    with server(database_url, tmp_path, name="first") as (client, process):
        posted = _post_all(client)
        statuses = _wait_for(client, posted, {"running", "done"}, 1e-3)
        deadline = time.monotonic() + 30
        while "running" not in statuses and time.monotonic() < deadline:
            time.sleep(0.05)
            statuses = _statuses(client, posted)
        assert "running" in statuses and "pending" in statuses, statuses
        process.send_signal(signal.SIGKILL)
    started = time.monotonic()
    with server(database_url, tmp_path, name="second") as (client, _):
        statuses = _wait_for(client, posted, {"done", "failed"}, DEADLINE_S)
        assert set(statuses) == {"done"}, statuses
        assert time.monotonic() - started < DEADLINE_S
        _check_finished(client, posted)


@pytest.mark.postgres
def test_database_cut_mid_run_every_message_still_finishes(tmp_path: Path) -> None:
    from tests.conftest import postgres_database

    with postgres_database() as url:
        parsed = make_url(url)
        proxy = CuttableProxy((parsed.host or "127.0.0.1", parsed.port or 5432))
        through = parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        try:
            with server(through, tmp_path, name="cut") as (client, _):
                posted = _post_all(client)
                _wait_for(client, posted, {"running", "done"}, 0.5)
                proxy.cut()
                time.sleep(1)
                during = client.post("/interactions", json={})
                assert during.status_code == 503, during.text
                assert during.json()["error"]["code"] == "database_unavailable"
                assert client.get("/healthz").status_code == 503
                time.sleep(5)  # past the lease: nobody holds the running ones any more
                proxy.restore()
                statuses = _wait_for(client, posted, {"done", "failed"}, DEADLINE_S)
                assert set(statuses) == {"done"}, statuses
                _check_finished(client, posted)
        finally:
            proxy.close()


def test_sigterm_stops_a_server_with_a_hung_request_and_hands_its_work_back(
    database_url: str, tmp_path: Path
) -> None:
    import threading

    with server(database_url, tmp_path, name="hung", SLOW_MODEL_SECONDS="600",
                TOOLWIRE_SHUTDOWN_GRACE="2") as (client, process):
        interaction = client.post("/interactions", json={}).json()["id"]
        hung = threading.Thread(
            target=lambda: _swallow(client, "/execute",
                                    {"prompt": PROMPTS[0], "interaction_id": interaction}),
            daemon=True,
        )
        hung.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            messages = client.get(f"/interactions/{interaction}/messages").json()
            if messages and messages[0]["status"] == "running":
                break
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        # bounded: grace, then the hung request is cancelled; a stop asked for exits 0
        # (`docker stop` reads 143 as a crash)
        assert process.wait(timeout=30) == 0
    with server(database_url, tmp_path, name="after") as (client, _):
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            messages = client.get(f"/interactions/{interaction}/messages").json()
            if messages[0]["status"] in ("done", "failed"):
                break
            time.sleep(0.25)
        assert messages[0]["status"] == "done" and messages[0]["error"] is None
        assert messages[1]["tool_calls"][0]["result"] == 31.42


def _swallow(client: httpx.Client, url: str, body: dict[str, Any]) -> None:
    with contextlib.suppress(httpx.HTTPError):  # the server goes away mid-request
        client.post(url, json=body, timeout=120)
