"""``Idempotency-Key`` (Stripe's convention) on ``POST /execute``, ``POST
/interactions/{id}/messages`` and ``POST /v1/chat/completions``, on SQLite and PostgreSQL:
the same key and request within 24 h get the first answer and run nothing again; the same key
with another request is a 422, one still running a 409; owners never share keys."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from tests.unit.test_api import GatedModel, settings_for, start
from toolwire.api.app import create_app
from toolwire.api.auth import create_key
from toolwire.engine import Engine
from toolwire.models.base import Completion, ToolCallRequest
from toolwire.models.scripted import Request, ScriptedModel
from toolwire.retrieval import ToolIndex
from toolwire.service.idempotency import fingerprint
from toolwire.store.db import Database
from toolwire.store.tables import IdempotencyRecord
from toolwire.store.types import utcnow
from toolwire.tools import Registry

STAMPED: list[str] = []


def stamp(document: str) -> str:
    """Stamp a document as approved (a side effect: every run is counted).

    Args:
        document: the document to stamp
    """
    STAMPED.append(document)
    return f"stamped {document}"


def clerk(request: Request) -> Completion:
    """The scripted model: stamp the document the prompt names; say what came back."""
    last = request.messages[-1].content
    if request.tools:
        call = ToolCallRequest(id=f"call_{uuid.uuid4().hex[:8]}", name="stamp",
                               arguments={"document": last.split()[-1]})
        return Completion(tool_calls=[call])
    return Completion(text="Stamped.")


@dataclass
class Service:
    client: httpx.AsyncClient
    database: Database
    model: GatedModel
    keys: dict[str, str]
    """owner → API key (empty with auth off)."""
    interactions: dict[str, str] = field(default_factory=dict)
    """owner → the interaction its messages are posted to."""

    def auth(self, owner: str = "alice") -> dict[str, str]:
        return {"authorization": f"Bearer {self.keys[owner]}"} if self.keys else {}

    def headers(self, key: str, owner: str = "alice") -> dict[str, str]:
        return {"Idempotency-Key": key, **self.auth(owner)}

    async def messages_url(self, owner: str) -> str:
        if owner not in self.interactions:
            created = await self.client.post("/interactions", json={}, headers=self.auth(owner))
            self.interactions[owner] = created.json()["id"]
        return f"/interactions/{self.interactions[owner]}/messages"


async def serve(database_url: str, tmp_path: Path, auth: str) -> AsyncIterator[Service]:
    STAMPED.clear()
    registry = Registry()
    registry.use_index(ToolIndex(embedder=None))
    registry.register(stamp)
    model = GatedModel(ScriptedModel(clerk))
    model.gate.set()
    settings = settings_for(tmp_path, auth=auth, rate_per_minute=1000)
    app = create_app(engine=Engine(registry, model=model, settings=settings),
                     database_url=database_url, settings=settings)
    async for client in start(app):
        database: Database = app.state.toolwire.database
        keys = {owner: database.write_sync(lambda s, o=owner: create_key(s, owner=o))[0]
                for owner in ("alice", "bob")} if auth == "required" else {}
        yield Service(client=client, database=database, model=model, keys=keys)


@pytest.fixture
async def service(database_url: str, tmp_path: Path) -> AsyncIterator[Service]:
    async for running in serve(database_url, tmp_path, "off"):
        yield running


@pytest.fixture
async def tenants(database_url: str, tmp_path: Path) -> AsyncIterator[Service]:
    async for running in serve(database_url, tmp_path, "required"):
        yield running


def v1(prompt: str, **extra: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": prompt}], "toolwire": {"execute": True},
            **extra}


async def post(service: Service, route: str, body: dict[str, Any], key: str,
               owner: str = "alice", **params: str) -> httpx.Response:
    """POST ``body`` to ``route`` (``execute``, ``messages`` or ``v1``) with ``key``."""
    headers = service.headers(key, owner)
    if route == "execute":
        return await service.client.post("/execute", json=body, headers=headers, params=params)
    if route == "v1":
        return await service.client.post("/v1/chat/completions", json=body, headers=headers)
    return await service.client.post(await service.messages_url(owner), json=body,
                                     headers=headers, params=params)


async def tool_calls(service: Service, owner: str = "alice") -> list[dict[str, Any]]:
    page = await service.client.get("/tool-calls", headers=service.auth(owner))
    items: list[dict[str, Any]] = page.json()["items"]
    return items


# -- each route: the same key twice runs once ---------------------------------------------------
async def test_execute_retried_with_its_key_runs_once(service: Service) -> None:
    first = await post(service, "execute", {"prompt": "stamp the report.pdf"}, "k-1")
    again = await post(service, "execute", {"prompt": "stamp the report.pdf"}, "k-1")
    assert first.status_code == again.status_code == 200, first.text
    assert again.json() == first.json() and STAMPED == ["report.pdf"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert [c["id"] for c in await tool_calls(service)] == [first.json()["calls"][0]["id"]]


async def test_v1_execute_retried_with_its_key_runs_once_and_is_listed(service: Service) -> None:
    first = await post(service, "v1", v1("stamp the memo.txt"), "k-2")
    again = await post(service, "v1", v1("stamp the memo.txt"), "k-2")
    assert first.status_code == again.status_code == 200, first.text
    assert again.json() == first.json() and STAMPED == ["memo.txt"]
    assert again.headers["idempotent-replayed"] == "true"
    extension = first.json()["toolwire"]
    [listed] = await tool_calls(service)
    assert (listed["id"], listed["interaction_id"]) == (
        extension["calls"][0]["tool_call_id"], extension["interaction_id"])
    assert (await service.client.get("/interactions")).json()["total"] == 1


async def test_a_message_posted_twice_with_its_key_is_stored_once(service: Service) -> None:
    body = {"content": "stamp the plan.doc"}
    first = await post(service, "messages", body, "k-3")
    again = await post(service, "messages", body, "k-3")
    assert first.status_code == again.status_code == 202, first.text
    assert again.json() == first.json() and again.headers["location"] == first.headers["location"]
    url = await service.messages_url("alice")
    for _ in range(1000):  # the background run, up to 20 s on a loaded machine
        messages = (await service.client.get(url)).json()
        if messages and messages[0]["status"] == "done":
            break
        await asyncio.sleep(0.02)
    assert [m["role"] for m in messages] == ["user", "assistant"] and STAMPED == ["plan.doc"]


# -- the same key with another request -------------------------------------------------------------
@pytest.mark.parametrize(("route", "body", "other"), [
    ("execute", {"prompt": "stamp the a.pdf"}, {"prompt": "stamp the b.pdf"}),
    ("messages", {"content": "stamp the a.pdf"}, {"content": "stamp the b.pdf"}),
    ("v1", v1("stamp the a.pdf"), v1("stamp the b.pdf")),
])
async def test_the_same_key_with_another_body_is_a_422(
    service: Service, route: str, body: dict[str, Any], other: dict[str, Any]
) -> None:
    first = await post(service, route, body, "k-4")
    assert first.status_code in (200, 202), first.text
    refused = await post(service, route, other, "k-4")
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "idempotency_key_reused" and "k-4" in error["message"]
    assert STAMPED in ([], ["a.pdf"])  # the first ran (or runs) alone: "b.pdf" never


async def test_a_key_sent_to_another_route_is_another_request(service: Service) -> None:
    await post(service, "execute", {"prompt": "stamp the a.pdf"}, "k-5")
    refused = await post(service, "v1", v1("stamp the a.pdf"), "k-5")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == (
        "idempotency_key_reused")
    assert STAMPED == ["a.pdf"]


async def test_owners_do_not_share_keys(tenants: Service) -> None:
    body = {"prompt": "stamp the minutes.txt"}
    alice = await post(tenants, "execute", body, "shared", owner="alice")
    bob = await post(tenants, "execute", body, "shared", owner="bob")
    assert alice.status_code == bob.status_code == 200, bob.text
    assert "idempotent-replayed" not in bob.headers
    assert alice.json()["interaction_id"] != bob.json()["interaction_id"]
    assert STAMPED == ["minutes.txt", "minutes.txt"]
    assert len(await tool_calls(tenants, "alice")) == len(await tool_calls(tenants, "bob")) == 1
    again = await post(tenants, "v1", v1("stamp the minutes.txt"), "shared", owner="bob")
    assert again.status_code == 422  # bob's own key, first sent to /execute


# -- in flight, expiry, streaming, bad keys ---------------------------------------------------------
async def test_a_retry_while_the_first_still_runs_is_a_409(service: Service) -> None:
    service.model.gate.clear()
    first = asyncio.create_task(post(service, "v1", v1("stamp the slow.doc"), "k-6"))
    for _ in range(1000):  # until the first is stored and waits for the model
        if (await service.client.get("/interactions")).json()["total"]:
            break
        await asyncio.sleep(0.02)
    busy = await post(service, "v1", v1("stamp the slow.doc"), "k-6")
    assert busy.status_code == 409
    assert busy.json()["error"]["code"] == "idempotency_key_in_flight"
    service.model.gate.set()
    assert (await first).status_code == 200
    replayed = await post(service, "v1", v1("stamp the slow.doc"), "k-6")
    assert replayed.json() == (await first).json() and STAMPED == ["slow.doc"]


async def test_a_key_older_than_a_day_is_forgotten(service: Service) -> None:
    body = {"prompt": "stamp the old.doc"}
    first = await post(service, "execute", body, "k-7")
    day_ago = utcnow() - timedelta(hours=24, seconds=1)
    service.database.write_sync(lambda s: s.connection().execute(
        update(IdempotencyRecord).values(created=day_ago)))
    again = await post(service, "execute", body, "k-7")
    assert again.status_code == 200 and "idempotent-replayed" not in again.headers
    assert again.json()["message_id"] != first.json()["message_id"]
    assert STAMPED == ["old.doc", "old.doc"]


@pytest.mark.parametrize("route", ["execute", "v1"])
async def test_a_streamed_request_is_replayed_as_its_final_json(
    service: Service, route: str
) -> None:
    if route == "execute":
        streamed = await post(service, route, {"prompt": "stamp the live.doc"}, "k-8",
                              stream="true")
        done = streamed.text.split("event: done\ndata: ")[1].split("\n\n")[0]
        final = json.loads(done)
        retry = lambda: post(service, route, {"prompt": "stamp the live.doc"}, "k-8",  # noqa: E731
                             stream="true")
    else:
        streamed = await post(service, route, v1("stamp the live.doc", stream=True), "k-8")
        chunks = [json.loads(line[6:]) for line in streamed.text.split("\n\n")
                  if line.startswith("data: {")]
        final = {"calls": chunks[-1]["toolwire"]["calls"]}
        retry = lambda: post(service, route, v1("stamp the live.doc", stream=True), "k-8")  # noqa: E731
    assert streamed.headers["content-type"].startswith("text/event-stream")
    for _ in range(1000):  # the result is kept once the run has finished
        replayed = await retry()
        if replayed.status_code != 409:
            break
        await asyncio.sleep(0.02)
    assert replayed.status_code == 200 and replayed.headers["idempotent-replayed"] == "true"
    assert replayed.headers["content-type"] == "application/json"
    body = replayed.json()
    assert (body if route == "execute" else {"calls": body["toolwire"]["calls"]}) == final
    assert STAMPED == ["live.doc"]


@pytest.mark.parametrize("key", ["", " ", "k" * 256])
async def test_a_key_out_of_bounds_is_refused(service: Service, key: str) -> None:
    response = await post(service, "execute", {"prompt": "stamp the x.doc"}, key)
    assert response.status_code == 422 and STAMPED == []


async def test_a_request_without_a_key_runs_every_time(service: Service) -> None:
    for _ in range(2):
        response = await service.client.post("/execute", json={"prompt": "stamp the y.doc"})
        assert response.status_code == 200
    assert STAMPED == ["y.doc", "y.doc"]


def test_a_retry_is_the_same_request_whatever_its_json_spacing() -> None:
    one = fingerprint("POST", "/execute", {}, b'{"prompt": "hi", "model": null}')
    two = fingerprint("POST", "/execute", {}, b'{"model":null,"prompt":"hi"}')
    assert one == two
    assert one != fingerprint("POST", "/execute", {"stream": "true"}, b'{"prompt": "hi"}')
    assert one != fingerprint("POST", "/v1/chat/completions", {}, b'{"prompt": "hi"}')
