"""The real server process (uvicorn via ``python -m toolwire.api``) over loopback, both databases.

The model is the only stand-in: ``TOOLWIRE_MODEL=scripted:tests.integration.test_server:currency_model``
loads :func:`currency_model`, which reads the amount and currencies from the prompt; the tools
are the built-in ones, so the call really runs ``convert_currency``.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from toolwire.models.base import Completion, ToolCallRequest
from toolwire.models.scripted import Request, ScriptedModel

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CURRENCIES = {"us dollars": "USD", "canadian dollars": "CAD", "euros": "EUR", "yen": "JPY"}


def _currency_answer(request: Request) -> Completion:
    prompt = request.messages[-1].content
    if request.tools:
        amount = re.search(r"\d+(?:\.\d+)?", prompt)
        lowered = prompt.lower()
        codes = sorted((lowered.find(name), code) for name, code in CURRENCIES.items() if name in lowered)
        if amount is None or len(codes) < 2:
            return Completion(text="Which amount and currencies?")
        arguments = {"amount": float(amount.group()), "from_currency": codes[0][1],
                     "to_currency": codes[1][1]}
        return Completion(tool_calls=[ToolCallRequest(id="", name="convert_currency", arguments=arguments)])
    returned = re.search(r"\(Result: (\S+?)\)", prompt)
    return Completion(text=f"That is {returned.group(1)}." if returned else "Done.")


def currency_model() -> ScriptedModel:
    """The model the server loads for these tests (see the module docstring)."""
    return ScriptedModel(_currency_answer, name="scripted-currency")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(
    database_url: str, home: Path, extra_env: dict[str, str] | None = None
) -> Iterator[httpx.Client]:
    """``python -m toolwire.api`` on a free loopback port; a client for it."""
    port = _free_port()
    env = {
        **os.environ,
        "TOOLWIRE_HOME": str(home),
        "TOOLWIRE_DATABASE_URL": database_url,
        "TOOLWIRE_MODEL": "scripted:tests.integration.test_server:currency_model",
        "PYTHONPATH": str(ROOT),
        **(extra_env or {}),
    }
    log = (home / "server.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "toolwire.api", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            _wait_ready(client, process, home / "server.log")
            yield client
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _wait_ready(client: httpx.Client, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited {process.returncode}:\n{log.read_text()}")
        try:
            if client.get("/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"server not ready:\n{log.read_text()}")


def _poll(client: httpx.Client, url: str) -> dict[str, Any]:
    for _ in range(300):
        message: dict[str, Any] = client.get(url).json()
        if message["status"] in ("done", "failed"):
            return message
        time.sleep(0.05)
    raise AssertionError(f"{url} never finished")


def test_execute_over_loopback_survives_a_restart(database_url: str, tmp_path: Path) -> None:
    prompt = "I want to exchange 42 US dollars to Canadian dollars"
    with server(database_url, tmp_path) as client:
        # what `curl -X POST localhost:8000/execute -H 'content-type: application/json' -d ...` sends
        response = client.post("/execute", content=json.dumps({"prompt": prompt}),
                               headers={"content-type": "application/json"})
        assert response.status_code == 200, response.text
        body = response.json()
        [call] = body["calls"]
        assert call["name"] == "convert_currency" and call["result"] == 131.95
        assert call["arguments"] == {"amount": 42.0, "from_currency": "USD", "to_currency": "CAD"}
        assert "convert_currency" in call["snippet"]
        assert body["answer"] == "42 US dollars is 131.95 Canadian dollars."  # the model's lost 42

        interaction = body["interaction_id"]
        accepted = client.post(f"/interactions/{interaction}/messages",
                               json={"content": "and 10 euros to yen?"})
        assert accepted.status_code == 202
        done = _poll(client, f"/interactions/{interaction}/messages/{accepted.json()['id']}")
        assert done["status"] == "done"
        before = client.get(f"/interactions/{interaction}").json()
        assert 'route="/execute",status="200"' in client.get("/metrics").text

    with server(database_url, tmp_path) as client:  # a new process on the same database
        after = client.get(f"/interactions/{interaction}").json()
        assert after == before
        assert [m["role"] for m in after["messages"]] == ["user", "assistant"] * 2
        assert after["messages"][1]["tool_calls"][0]["snippet"] == call["snippet"]
        assert after["messages"][3]["content"] == "10 euros is 1625.00 Japanese yen."
        assert client.get("/interactions").json()["total"] == 1


def test_server_speaks_json_errors(database_url: str, tmp_path: Path) -> None:
    with server(database_url, tmp_path) as client:
        response = client.post("/execute", content=b"{", headers={"content-type": "application/json"})
        assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"
        response = client.post("/execute", json={"prompt": "x" * 9000})
        assert response.status_code == 413
        assert client.get("/docs").status_code == 200


def test_a_v1_retry_with_its_idempotency_key_runs_nothing_again(
    database_url: str, tmp_path: Path
) -> None:
    """A client that lost the answer sends the same request with the same key: it gets the
    first answer, and the one run stays the only one stored (even after a restart)."""
    request = {"model": "toolwire", "toolwire": {"execute": True}, "messages": [
        {"role": "user", "content": "I want to exchange 42 US dollars to Canadian dollars"}]}
    headers = {"Idempotency-Key": "retry-1"}
    with server(database_url, tmp_path) as client:
        first = client.post("/v1/chat/completions", json=request, headers=headers)
        assert first.status_code == 200, first.text
        again = client.post("/v1/chat/completions", json=request, headers=headers)
        assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
        assert again.json() == first.json()
        extension = first.json()["toolwire"]
        [call] = extension["calls"]
        assert (call["name"], call["result"]) == ("convert_currency", 131.95)

    with server(database_url, tmp_path) as client:  # a new process on the same database
        third = client.post("/v1/chat/completions", json=request, headers=headers)
        assert third.json() == first.json() and third.headers["idempotent-replayed"] == "true"
        other = client.post("/v1/chat/completions", headers=headers, json={
            **request, "messages": [{"role": "user", "content": "and 10 euros to yen?"}]})
        assert other.status_code == 422
        assert other.json()["error"]["code"] == "idempotency_key_reused"
        listed = client.get("/tool-calls").json()
        assert listed["total"] == 1
        assert (listed["items"][0]["id"], listed["items"][0]["interaction_id"]) == (
            call["tool_call_id"], extension["interaction_id"])
        assert client.get("/interactions").json()["total"] == 1
