"""Scale-out on real infrastructure: the API (a real server process) sends posted messages to
``toolwire worker`` processes over a Redis of the test's own (never the machine's), with
PostgreSQL as the one source of truth.

- a worker process killed with SIGKILL in the middle of a tool call: the message is delivered
  again and ends ``done`` once; the tool is never run a second time;
- Redis restarted (it keeps nothing) while messages wait in it: nothing is lost, the API's
  sweep sends them again and they all finish, each tool run once;
- the model failing transiently once after the tool ran: the task is retried with backoff and
  the message ends ``done``, the tool run once.
"""

from __future__ import annotations

import json
import os
import signal
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

from tests.conftest import postgres_database
from tests.integration.test_server import ROOT, server
from toolwire.models.base import Completion, ModelError, ToolCallRequest
from toolwire.models.process import describe_exit
from toolwire.models.scripted import Request, ScriptedModel

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def note_answer(request: Request) -> Completion:
    if request.tools:
        text = request.messages[-1].content.split()[-1]
        return Completion(tool_calls=[ToolCallRequest(id="", name="take_note",
                                                      arguments={"text": text})])
    return Completion(text="Noted.")


def note_model() -> ScriptedModel:
    """``TOOLWIRE_MODEL=scripted:tests.integration.test_celery:note_model``."""
    return ScriptedModel(note_answer, name="scripted-notes")


def flaky_note_model() -> ScriptedModel:
    """``note_model`` whose first answer after a tool ran fails the way a crashed model
    process does (once per test: the file ``model-crashed`` beside the notes says it did)."""

    def answer(request: Request) -> Completion:
        if not request.tools:
            try:
                open(Path(os.environ["TOOLWIRE_TEST_NOTES"]).with_name("model-crashed"), "x").close()
            except FileExistsError:
                pass
            else:
                raise ModelError("local", describe_exit(-signal.SIGSEGV))
        return note_answer(request)

    return ScriptedModel(answer, name="scripted-flaky-notes")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def redis_server(port: int) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def worker(
    env: dict[str, str], log: Path, concurrency: int = 2
) -> Iterator[subprocess.Popen[bytes]]:
    """``toolwire worker`` with ``concurrency`` pool processes, stopped with SIGTERM (SIGKILL
    after 20 s)."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "toolwire", "worker", "--concurrency", str(concurrency)],
            cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
        try:
            yield process
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[dict[str, Any]]:
    with postgres_database() as database_url:
        port = _free_port()
        env = {
            "TOOLWIRE_HOME": str(tmp_path),
            "TOOLWIRE_DATABASE_URL": database_url,
            "TOOLWIRE_BROKER_URL": f"redis://127.0.0.1:{port}/0",
            "TOOLWIRE_MODEL": "scripted:tests.integration.test_celery:note_model",
            "TOOLWIRE_TOOL_MODULES": '["tests.integration.celery_tools"]',
            "TOOLWIRE_TEST_NOTES": str(tmp_path / "notes.txt"),
            "TOOLWIRE_LEASE_SECONDS": "3",
            "TOOLWIRE_LOG_FORMAT": "json",
            "PYTHONPATH": str(ROOT),
        }
        (tmp_path / "notes.txt").touch()
        yield {"env": env, "port": port, "home": tmp_path, "database_url": database_url}


def post(client: httpx.Client, prompt: str) -> dict[str, Any]:
    response = client.post("/execute", params={"async": "true"}, json={"prompt": prompt})
    assert response.status_code == 202, response.text
    return {**response.json(), "request_id": response.headers["x-request-id"]}


def wait_done(client: httpx.Client, accepted: list[dict[str, Any]], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    urls = [f"/interactions/{a['interaction_id']}/messages/{a['id']}" for a in accepted]
    statuses: list[str] = []
    while time.monotonic() < deadline:
        statuses = [client.get(u).json()["status"] for u in urls]
        if all(s in ("done", "failed") for s in statuses):
            break
        time.sleep(0.2)
    assert statuses and set(statuses) == {"done"}, statuses


def notes(home: Path) -> list[str]:
    return (home / "notes.txt").read_text().splitlines()


def starts(home: Path, text: str) -> list[str]:
    return [line for line in notes(home) if line.startswith("start") and line.endswith(f" {text}")]


def test_a_worker_killed_mid_tool_call_never_runs_the_tool_twice(stack: dict[str, Any]) -> None:
    env, home = stack["env"], stack["home"]
    with redis_server(stack["port"]), server(stack["database_url"], home, env) as client, \
            worker(env, home / "worker.log"):
        slow = post(client, "please note slow-1")
        others = [post(client, f"please note quick-{i}") for i in range(4)]
        sent_ids = [a["request_id"] for a in (slow, *others)]
        deadline = time.monotonic() + 60
        while not starts(home, "slow-1") and time.monotonic() < deadline:
            time.sleep(0.1)
        [line] = starts(home, "slow-1")
        os.kill(int(line.split()[1]), signal.SIGKILL)  # the worker process inside the call

        wait_done(client, [slow, *others], 90)
        assert len(starts(home, "slow-1")) == 1, notes(home)
        for i in range(4):
            assert len(starts(home, f"quick-{i}")) == 1, notes(home)
        reply = client.get(f"/interactions/{slow['interaction_id']}/messages").json()[1]
        [call] = reply["tool_calls"]
        assert call["status"] == "error" and call["error"]["type"] == "interrupted"
        health = client.get("/healthz").json()
        assert health["components"]["broker"]["state"] == "ok"
    lines = [json.loads(line) for line in (home / "worker.log").read_text().splitlines()
             if line.startswith("{")]
    ids = {line.get("request_id") for line in lines if line["logger"] == "toolwire.worker.tasks"}
    assert ids & set(sent_ids), (ids, sent_ids)  # the API's request id followed the message


def test_nothing_is_lost_when_redis_restarts_with_messages_queued(stack: dict[str, Any]) -> None:
    env, home, port = stack["env"], stack["home"], stack["port"]
    with server(stack["database_url"], home, env) as client:
        with redis_server(port):
            queued = [post(client, f"please note queued-{i}") for i in range(3)]
        # Redis went away holding the three tasks (it keeps nothing): the broker is down now
        assert client.get("/healthz").json()["components"]["broker"]["state"] == "unavailable"
        during = post(client, "please note while-down")  # accepted and stored all the same
        with redis_server(port), worker(env, home / "worker.log"):
            wait_done(client, [*queued, during], 90)
        for text in [*(f"queued-{i}" for i in range(3)), "while-down"]:
            assert len(starts(home, text)) == 1, notes(home)


def test_a_transient_model_failure_is_retried_and_the_tool_runs_once(
    stack: dict[str, Any],
) -> None:
    env, home = dict(stack["env"]), stack["home"]
    env["TOOLWIRE_MODEL"] = "scripted:tests.integration.test_celery:flaky_note_model"
    with redis_server(stack["port"]), server(stack["database_url"], home, env) as client, \
            worker(env, home / "worker.log"):
        accepted = post(client, "please note flaky-1")
        wait_done(client, [accepted], 60)
        reply = client.get(f"/interactions/{accepted['interaction_id']}/messages").json()[1]
    assert (home / "model-crashed").exists()  # the model did fail once, after the tool ran
    assert len(starts(home, "flaky-1")) == 1, notes(home)
    [call] = reply["tool_calls"]
    assert (call["status"], call["result"]) == ("ok", "noted flaky-1")
    assert reply["status"] == "done" and reply["content"]
    log = (home / "worker.log").read_text()
    assert "failed transiently on try 1" in log and "retrying in" in log


def test_postgres_unreachable_then_back_loses_nothing(stack: dict[str, Any]) -> None:
    """The database behind a link the test cuts: the API answers 503 clearly, what it had
    accepted stays, and the worker finishes it once the database is back."""
    from sqlalchemy import make_url

    from tests.faults import CuttableProxy

    env, home = dict(stack["env"]), stack["home"]
    parsed = make_url(stack["database_url"])
    proxy = CuttableProxy((parsed.host or "127.0.0.1", parsed.port or 5432))
    through = parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    env["TOOLWIRE_DATABASE_URL"] = through
    try:
        with redis_server(stack["port"]), server(through, home, env) as client:
            accepted = [post(client, f"please note stored-{i}") for i in range(3)]
            proxy.cut()
            time.sleep(0.5)
            refused = client.post("/execute", params={"async": "true"}, json={"prompt": "note x"})
            assert refused.status_code == 503, refused.text
            assert refused.json()["error"]["code"] == "database_unavailable"
            with worker(env, home / "worker.log"):
                time.sleep(3)  # the worker takes the tasks and finds no database: it retries
                assert notes(home) == []
                proxy.restore()
                wait_done(client, accepted, 120)
        for i in range(3):
            assert len(starts(home, f"stored-{i}")) == 1, notes(home)
    finally:
        proxy.close()


class FakeOpenAI:
    """An OpenAI-compatible endpoint that is down, slow past the timeout, or talks garbage."""

    def __init__(self) -> None:
        import threading

        import uvicorn
        from starlette.applications import Starlette
        from starlette.requests import Request as HttpRequest
        from starlette.responses import JSONResponse, Response
        from starlette.routing import Route

        self.mode = "ok"

        async def complete(request: HttpRequest) -> Response:
            if self.mode == "slow":
                await __import__("asyncio").sleep(30)
            if self.mode == "garbage":
                return Response(b"<html>not json at all", media_type="application/json")
            return JSONResponse({
                "id": "x", "object": "chat.completion", "created": 0, "model": "fake",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": "Hello there."}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})

        self.port = _free_port()
        app = Starlette(routes=[Route("/v1/chat/completions", complete, methods=["POST"])])
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.05)

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def test_a_model_that_is_down_slow_or_garbled_fails_the_message_not_the_service(
    stack: dict[str, Any],
) -> None:
    env, home = dict(stack["env"]), stack["home"]
    fake = FakeOpenAI()
    env.update({"TOOLWIRE_MODEL": f"openai:fake@http://127.0.0.1:{fake.port}/v1",
                "TOOLWIRE_MODEL_TIMEOUT": "2", "OPENAI_API_KEY": "sk-test",
                "TOOLWIRE_MODEL_RETRIES": "1"})  # slow and down are retried once, then fail
    try:
        with redis_server(stack["port"]), server(stack["database_url"], home, env) as client, \
                worker(env, home / "worker.log"):
            outcomes: dict[str, dict[str, Any]] = {}
            for mode in ("slow", "garbage", "ok"):
                fake.mode = mode
                accepted = post(client, f"say hello ({mode})")
                url = f"/interactions/{accepted['interaction_id']}/messages/{accepted['id']}"
                deadline = time.monotonic() + 60
                while client.get(url).json()["status"] not in ("done", "failed"):
                    assert time.monotonic() < deadline, mode
                    time.sleep(0.2)
                outcomes[mode] = client.get(url).json()
            fake.close()
            accepted = post(client, "say hello (down)")
            url = f"/interactions/{accepted['interaction_id']}/messages/{accepted['id']}"
            deadline = time.monotonic() + 60
            while client.get(url).json()["status"] not in ("done", "failed"):
                assert time.monotonic() < deadline
                time.sleep(0.2)
            outcomes["down"] = client.get(url).json()
            assert client.get("/healthz").status_code == 200  # the service is still up
    finally:
        fake.close()
    assert outcomes["ok"]["status"] == "done"
    for mode in ("slow", "garbage", "down"):
        assert outcomes[mode]["status"] == "failed", (mode, outcomes[mode])
        assert outcomes[mode]["error"], mode
    assert "within 2" in outcomes["slow"]["error"], outcomes["slow"]["error"]
    log = (home / "worker.log").read_text()  # slow and down were retried, garbage was not
    for mode in ("slow", "down"):
        assert f"message {outcomes[mode]['id']} failed transiently on try 1" in log, mode
    assert f"message {outcomes['garbage']['id']} failed transiently" not in log
