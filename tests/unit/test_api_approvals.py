"""Approvals and tenants through the REST API, on SQLite and PostgreSQL: a call that needs a
person waits (``awaiting_approval``) until approved (it runs, the message ends ``done`` with an
answer) or rejected (it never runs); with keys on, one owner never reaches another's data."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.unit.test_api import GatedModel, settings_for, start
from toolwire.api.app import create_app
from toolwire.api.auth import create_key
from toolwire.engine import Engine
from toolwire.models.base import Completion, ToolCallRequest
from toolwire.models.scripted import Request, ScriptedModel
from toolwire.retrieval import ToolIndex
from toolwire.store.db import Database
from toolwire.tools import Registry

DELETED: list[str] = []


def delete_file(path: str) -> str:
    """Delete a file from the shared drive.

    Args:
        path: the file to delete
    """
    DELETED.append(path)
    return f"removed {path}"


def clerk(request: Request) -> Completion:
    """The scripted model: delete the file the prompt names; describe what came back."""
    last = request.messages[-1].content
    if request.tools:
        path = last.split()[-1]
        return Completion(tool_calls=[ToolCallRequest(
            id=f"call_{uuid.uuid4().hex[:8]}", name="delete_file", arguments={"path": path})])
    return Completion(text="The file is gone.")


@dataclass
class Service:
    client: httpx.AsyncClient
    database: Database
    keys: dict[str, str]
    """owner → key (empty with auth off)."""

    def auth(self, owner: str) -> dict[str, str]:
        return {"authorization": f"Bearer {self.keys[owner]}"} if self.keys else {}


async def serve(database_url: str, tmp_path: Path, auth: str) -> AsyncIterator[Service]:
    DELETED.clear()
    registry = Registry()
    registry.use_index(ToolIndex(embedder=None))
    registry.register(delete_file, requires_approval=True)
    model = GatedModel(ScriptedModel(clerk))
    model.gate.set()
    settings = settings_for(tmp_path, auth=auth, rate_per_minute=1000)
    app = create_app(engine=Engine(registry, model=model, settings=settings),
                     database_url=database_url, settings=settings)
    async for client in start(app):
        keys: dict[str, str] = {}
        if auth == "required":
            database = app.state.toolwire.database
            for owner in ("alice", "bob"):
                keys[owner] = database.write_sync(lambda s, o=owner: create_key(s, owner=o))[0]
        yield Service(client=client, database=app.state.toolwire.database, keys=keys)


@pytest.fixture
async def service(database_url: str, tmp_path: Path) -> AsyncIterator[Service]:
    async for s in serve(database_url, tmp_path, "off"):
        yield s


@pytest.fixture
async def tenants(database_url: str, tmp_path: Path) -> AsyncIterator[Service]:
    async for s in serve(database_url, tmp_path, "required"):
        yield s


async def ask(service: Service, owner: str, prompt: str) -> dict[str, Any]:
    response = await service.client.post("/execute", json={"prompt": prompt},
                                         headers=service.auth(owner))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def message_of(service: Service, owner: str, body: dict[str, Any]) -> dict[str, Any]:
    url = f"/interactions/{body['interaction_id']}/messages/{body['message_id']}"
    return (await service.client.get(url, headers=service.auth(owner))).json()  # type: ignore[no-any-return]


# -- approvals ------------------------------------------------------------------------------
async def test_approval_round_trip(service: Service) -> None:
    body = await ask(service, "alice", "please delete notes.txt")
    [call] = body["calls"]
    assert call["status"] == "pending_approval" and DELETED == []
    assert (await message_of(service, "alice", body))["status"] == "awaiting_approval"
    waiting = (await service.client.get("/tool-calls", params={"status": "pending_approval"})).json()
    assert [c["id"] for c in waiting["items"]] == [call["id"]] and waiting["total"] == 1
    assert waiting["items"][0]["interaction_id"] == body["interaction_id"]

    decided = await service.client.post(f"/tool-calls/{call['id']}/approve", json={})
    assert decided.status_code == 200, decided.text
    out = decided.json()
    assert DELETED == ["notes.txt"]
    assert out["call"]["status"] == "ok" and out["call"]["result"] == "removed notes.txt"
    assert out["call"]["decision"] == "approved" and out["call"]["decided_by"] == "local"
    assert out["call"]["decided_at"] and "delete_file(" in out["call"]["snippet"]
    assert out["message_status"] == "done" and out["answer"] == "The file is gone."
    assert (await message_of(service, "alice", body))["status"] == "done"
    detail = (await service.client.get(f"/interactions/{body['interaction_id']}")).json()
    assert detail["messages"][1]["content"] == "The file is gone."

    again = await service.client.post(f"/tool-calls/{call['id']}/approve", json={})
    assert again.status_code == 409 and DELETED == ["notes.txt"]
    assert (await service.client.get("/tool-calls", params={"status": "pending_approval"})
            ).json()["total"] == 0


async def test_rejecting_a_call_ends_the_message_with_an_answer_that_says_so(
    service: Service,
) -> None:
    body = await ask(service, "alice", "please delete taxes.xls")
    call_id = body["calls"][0]["id"]
    decided = await service.client.post(f"/tool-calls/{call_id}/reject",
                                        json={"reason": "keep the taxes"})
    out = decided.json()
    assert decided.status_code == 200 and DELETED == []
    assert out["call"]["status"] == "rejected" and out["call"]["decision_reason"] == "keep the taxes"
    assert out["message_status"] == "done"
    assert "was not run" in out["answer"] and "keep the taxes" in out["answer"]
    assert (await service.client.post(f"/tool-calls/{call_id}/approve", json={})).status_code == 409
    assert DELETED == []


async def test_two_people_approving_at_once_run_the_tool_once(service: Service) -> None:
    body = await ask(service, "alice", "please delete old.log")
    url = f"/tool-calls/{body['calls'][0]['id']}/approve"
    answers = await asyncio.gather(*(service.client.post(url, json={}) for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409]
    assert DELETED == ["old.log"]


async def test_deciding_an_unknown_call_is_a_404(service: Service) -> None:
    response = await service.client.post(f"/tool-calls/{uuid.uuid4()}/approve", json={})
    assert response.status_code == 404


# -- tenants --------------------------------------------------------------------------------
async def test_without_a_key_nothing_is_served(tenants: Service) -> None:
    for headers in ({}, {"authorization": "Bearer tw_not-a-key"}, {"authorization": "Basic eA=="}):
        response = await tenants.client.get("/interactions", headers=headers)
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert (await tenants.client.get("/healthz")).status_code == 200


async def test_one_owner_never_reaches_another_owners_data(tenants: Service) -> None:
    mine = await ask(tenants, "alice", "please delete diary.txt")
    interaction, call_id = mine["interaction_id"], mine["calls"][0]["id"]
    bob = tenants.auth("bob")
    get = tenants.client.get
    assert (await get("/interactions", headers=bob)).json()["total"] == 0
    assert (await get(f"/interactions/{interaction}", headers=bob)).status_code == 404
    assert (await get(f"/interactions/{interaction}/messages", headers=bob)).status_code == 404
    assert (await get(f"/interactions/{interaction}/messages/{mine['message_id']}",
                      headers=bob)).status_code == 404
    posted = await tenants.client.post(f"/interactions/{interaction}/messages",
                                       json={"content": "delete more"}, headers=bob)
    assert posted.status_code == 404
    continued = await tenants.client.post("/execute", headers=bob, json={
        "prompt": "delete x", "interaction_id": interaction})
    assert continued.status_code == 404
    assert (await get("/tool-calls", headers=bob)).json()["total"] == 0
    assert (await get(f"/tool-calls/{call_id}", headers=bob)).status_code == 404
    for verb in ("approve", "reject"):
        decided = await tenants.client.post(f"/tool-calls/{call_id}/{verb}", json={}, headers=bob)
        assert decided.status_code == 404
    assert (await tenants.client.delete(f"/interactions/{interaction}", headers=bob)
            ).status_code == 404
    assert DELETED == []

    alice = tenants.auth("alice")
    assert (await get("/interactions", headers=alice)).json()["total"] == 1
    decided = await tenants.client.post(f"/tool-calls/{call_id}/approve", json={}, headers=alice)
    assert decided.json()["call"]["decided_by"] == "alice" and DELETED == ["diary.txt"]


async def test_a_key_over_its_rate_gets_429_with_retry_after(tenants: Service) -> None:
    key, _ = tenants.database.write_sync(lambda s: create_key(s, owner="carol", rate_per_minute=3))
    carol = {"authorization": f"Bearer {key}"}
    answers = [await tenants.client.get("/interactions", headers=carol) for _ in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    assert int(answers[-1].headers["retry-after"]) >= 1
    other = await tenants.client.get("/interactions", headers=tenants.auth("bob"))
    assert other.status_code == 200  # limits are per key


async def test_a_key_has_its_own_body_limit(tenants: Service) -> None:
    key, _ = tenants.database.write_sync(lambda s: create_key(s, owner="dan", max_body_bytes=2048))
    body = {"prompt": "please delete " + "x" * 4000}
    small = await tenants.client.post("/execute", json=body, headers={"authorization": f"Bearer {key}"})
    assert small.status_code == 413
    assert (await tenants.client.post("/execute", json=body, headers=tenants.auth("bob"))
            ).status_code == 200


async def test_a_revoked_key_stops_working(
    tenants: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    from toolwire.api import auth

    key, row = tenants.database.write_sync(lambda s: create_key(s, owner="eve"))
    headers = {"authorization": f"Bearer {key}"}
    assert (await tenants.client.get("/interactions", headers=headers)).status_code == 200
    revoked = tenants.database.write_sync(lambda s: auth.revoke_key(s, row.prefix))
    assert revoked is not None and revoked.revoked is not None
    real = time.monotonic
    monkeypatch.setattr(time, "monotonic", lambda: real() + auth.CACHE_SECONDS + 1)
    assert (await tenants.client.get("/interactions", headers=headers)).status_code == 401


@pytest.mark.parametrize(("auth", "host", "expected"), [
    ("auto", "127.0.0.1", "off"), ("auto", "localhost", "off"), ("auto", "::1", "off"),
    ("auto", "0.0.0.0", "required"), ("auto", "192.168.1.20", "required"), ("auto", "::", "required"),
    ("required", "127.0.0.1", "required"), ("off", "0.0.0.0", "off"),
])
def test_keys_are_required_off_loopback_by_default(auth: str, host: str, expected: str) -> None:
    from toolwire.cli.serve import resolved_auth

    assert resolved_auth(auth, host) == expected


# -- /v1 with toolwire.execute --------------------------------------------------------------
async def ask_v1(service: Service, owner: str, prompt: str, **extra: Any) -> httpx.Response:
    return await service.client.post("/v1/chat/completions", headers=service.auth(owner), json={
        "messages": [{"role": "user", "content": prompt}], "toolwire": {"execute": True},
        **extra})


async def test_v1_execute_stores_a_call_that_needs_approval(service: Service) -> None:
    response = await ask_v1(service, "alice", "please delete plans.doc")
    assert response.status_code == 200, response.text
    extension = response.json()["toolwire"]
    [call] = extension["calls"]
    assert call["status"] == "pending_approval" and DELETED == []
    assert extension["message_status"] == "awaiting_approval"
    waiting = (await service.client.get("/tool-calls", params={"status": "pending_approval"})).json()
    assert [c["id"] for c in waiting["items"]] == [call["tool_call_id"]]
    assert waiting["items"][0]["interaction_id"] == extension["interaction_id"]

    decided = await service.client.post(f"/tool-calls/{call['tool_call_id']}/approve", json={})
    assert decided.status_code == 200, decided.text
    assert decided.json()["message_status"] == "done" and DELETED == ["plans.doc"]
    url = f"/interactions/{extension['interaction_id']}/messages/{extension['message_id']}"
    assert (await service.client.get(url)).json()["status"] == "done"


async def test_v1_execute_streamed_ends_with_the_stored_ids(service: Service) -> None:
    response = await ask_v1(service, "alice", "please delete draft.md", stream=True)
    chunks = [json.loads(line[6:]) for line in response.text.split("\n\n")
              if line.startswith("data: {")]
    [last] = [c for c in chunks if "toolwire" in c]
    assert last is chunks[-1] and last["choices"] == []
    [call] = last["toolwire"]["calls"]
    assert call["status"] == "pending_approval" and DELETED == []
    rejected = await service.client.post(f"/tool-calls/{call['tool_call_id']}/reject", json={})
    assert rejected.json()["message_status"] == "done" and DELETED == []


async def test_v1_waiting_calls_belong_to_their_owner(tenants: Service) -> None:
    response = await ask_v1(tenants, "alice", "please delete diary.txt")
    call_id = response.json()["toolwire"]["calls"][0]["tool_call_id"]
    bob = await tenants.client.post(f"/tool-calls/{call_id}/approve", json={},
                                    headers=tenants.auth("bob"))
    assert bob.status_code == 404 and DELETED == []
    alice = await tenants.client.post(f"/tool-calls/{call_id}/approve", json={},
                                      headers=tenants.auth("alice"))
    assert alice.status_code == 200 and DELETED == ["diary.txt"]
