"""Tool sources change through the database, and every process follows: real API processes and a
real ``toolwire worker`` over one database.

- two API replicas: an OpenAPI document imported through one is listed and run by the other
  within 5 s; forgotten through the first, the other stops listing it within 5 s;
- a worker that was already running answers an async message with a tool imported after it
  started (it loads the sources the message was accepted under before running it).

The model is the only stand-in (``pet_model``): it calls ``get_pet`` when it is offered, and
says it has no pet tool otherwise. The pet shop is a real HTTP API on loopback.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import postgres_database
from tests.integration.test_celery import redis_server, worker
from tests.integration.test_server import ROOT, _free_port, server
from tests.petshop import SWAGGER, TOKEN, petshop_app, serving
from toolwire.models.base import Completion, ToolCallRequest
from toolwire.models.scripted import Request, ScriptedModel

pytestmark = pytest.mark.integration

LABEL = "openapi:Pet shop (Swagger)"
NO_TOOL = "I have no pet tool to ask."


def _pet_answer(request: Request) -> Completion:
    if request.tools:
        number = re.search(r"\d+", request.messages[-1].content)
        if number is None or "get_pet" not in {tool.name for tool in request.tools}:
            return Completion(text=NO_TOOL)
        return Completion(tool_calls=[ToolCallRequest(id="", name="get_pet",
                                                      arguments={"pet_id": int(number.group())})])
    return Completion(text="Here is the pet.")


def pet_model() -> ScriptedModel:
    """``TOOLWIRE_MODEL=scripted:tests.integration.test_sources_shared:pet_model``."""
    return ScriptedModel(_pet_answer, name="scripted-pets")


@pytest.fixture(scope="module")
def petshop() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []
    with serving(petshop_app(seen)) as url:
        yield url, seen


def _env(home: Path) -> dict[str, str]:
    return {
        "TOOLWIRE_HOME": str(home),
        "TOOLWIRE_MODEL": "scripted:tests.integration.test_sources_shared:pet_model",
        "TOOLWIRE_CREDENTIALS": json.dumps({"petshop": {"type": "bearer", "token": TOKEN}}),
        "TOOLWIRE_HTTP_TOOLS_ALLOW_PRIVATE": "true",  # the pet shop listens on loopback
        "PYTHONPATH": str(ROOT),
    }


def _import(client: httpx.Client, url: str) -> None:
    response = client.post("/tools/openapi", json={
        "document": SWAGGER, "base_url": url, "auth": "petshop", "allow_private": True})
    assert response.status_code == 201, response.text


def _within(seconds: float, check: Callable[[], bool]) -> float:
    """How long ``check`` took to hold (it must within ``seconds``)."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < seconds, f"not within {seconds} s"
        time.sleep(0.1)
    return time.monotonic() - start


def _names(client: httpx.Client) -> set[str]:
    return {tool["name"] for tool in client.get("/tools", params={"limit": 500}).json()}


def test_replicas_see_an_import_and_a_forget_within_five_seconds(
    database_url: str, tmp_path: Path, petshop: tuple[str, list[dict[str, Any]]],
) -> None:
    url, seen = petshop
    homes = [tmp_path / "a", tmp_path / "b"]
    for home in homes:
        home.mkdir()
    with server(database_url, homes[0], _env(homes[0])) as a, \
            server(database_url, homes[1], _env(homes[1])) as b:
        assert "get_pet" not in _names(b)
        _import(a, url)
        _within(5, lambda: "get_pet" in _names(b))
        before = len(seen)
        run = b.post("/execute", json={"prompt": "Show me the pet with id 7"}).json()
        [call] = run["calls"]
        assert (call["name"], call["status"]) == ("get_pet", "ok")
        assert call["result"]["body"]["name"] == "Rex"
        assert seen[before:] == [{"method": "GET", "path": "/pets/7",
                                  "authorization": f"Bearer {TOKEN}"}]
        sources = b.get("/tools/sources").json()
        assert [(s["label"], sorted(s["tools"])) for s in sources] == [
            (LABEL, ["add_pet", "get_pet", "list_pets"])]

        assert a.delete("/tools/sources", params={"label": LABEL}).status_code == 204
        _within(5, lambda: "get_pet" not in _names(b))
        after = b.post("/execute", json={"prompt": "Show me the pet with id 8"}).json()
        assert after["calls"] == [], after
        assert b.get("/tools/sources").json() == []


def _finished(client: httpx.Client, accepted: dict[str, Any], seconds: float) -> dict[str, Any]:
    """The reply to an accepted message once it is done."""
    url = f"/interactions/{accepted['interaction_id']}/messages"
    _within(seconds, lambda: client.get(f"{url}/{accepted['id']}").json()["status"]
            in ("done", "failed"))
    prompt, reply = client.get(url).json()[-2:]
    assert prompt["status"] == "done", prompt
    return dict(reply)


@pytest.mark.postgres
def test_a_running_worker_runs_a_tool_imported_after_it_started(
    tmp_path: Path, petshop: tuple[str, list[dict[str, Any]]],
) -> None:
    url, seen = petshop
    port = _free_port()
    with postgres_database() as database_url:
        env = {**_env(tmp_path), "TOOLWIRE_DATABASE_URL": database_url,
               "TOOLWIRE_BROKER_URL": f"redis://127.0.0.1:{port}/0", "TOOLWIRE_LEASE_SECONDS": "3"}
        with redis_server(port), server(database_url, tmp_path, env) as client, \
                worker(env, tmp_path / "worker.log", concurrency=1):  # one process runs both
            def post(prompt: str) -> dict[str, Any]:
                response = client.post("/execute", params={"async": "true"},
                                       json={"prompt": prompt})
                assert response.status_code == 202, response.text
                return dict(response.json())

            first = _finished(client, post("Show me the pet with id 7"), 90)
            assert first["tool_calls"] == [], first  # the worker is up, its sources loaded
            _import(client, url)
            before = len(seen)
            reply = _finished(client, post("Show me the pet with id 7"), 30)
            [call] = reply["tool_calls"]
            assert (call["name"], call["status"]) == ("get_pet", "ok"), reply
            assert call["result"]["body"]["name"] == "Rex" and seen[before:][0]["path"] == "/pets/7"
