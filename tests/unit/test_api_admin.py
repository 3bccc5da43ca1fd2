"""Admin keys and when keys are required, on SQLite and PostgreSQL.

The tool registry is the service's, not an owner's: with keys on, only an admin key imports,
lists or forgets tool sources (403 for others, and nothing changes); with keys off everyone
is the one trusted local user. ``create_app`` requires keys under ``TOOLWIRE_AUTH=auto``
unless it is told that the server listens on loopback only (``toolwire serve`` tells it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.unit.test_api import make_registry, settings_for, start
from tests.unit.test_api_sources import document
from toolwire.api.app import create_app
from toolwire.api.auth import AuthGate, create_key, list_keys
from toolwire.engine import Engine
from toolwire.models.scripted import ScriptedModel
from toolwire.store.db import Database
from toolwire.store.tables import ApiKeyPublic


def app_for(database_url: str, tmp_path: Path, *, host: str | None = None, **settings: Any) -> FastAPI:
    config = settings_for(tmp_path, **settings)
    return create_app(engine=Engine(make_registry(), model=ScriptedModel([]), settings=config),
                      database_url=database_url, settings=config, host=host)


@dataclass
class Keys:
    client: httpx.AsyncClient
    database: Database
    admin: dict[str, str]
    """Headers with alice's admin key."""
    plain: dict[str, str]
    """Headers with bob's ordinary key."""


@pytest.fixture
async def keys(database_url: str, tmp_path: Path) -> AsyncIterator[Keys]:
    app = app_for(database_url, tmp_path, auth="required")
    async for client in start(app):
        database: Database = app.state.toolwire.database
        alice = database.write_sync(lambda s: create_key(s, owner="alice", admin=True))[0]
        bob = database.write_sync(lambda s: create_key(s, owner="bob"))[0]
        yield Keys(client=client, database=database,
                   admin={"authorization": f"Bearer {alice}"},
                   plain={"authorization": f"Bearer {bob}"})


# -- admin keys -----------------------------------------------------------------------------
async def test_only_an_admin_key_changes_or_sees_the_tool_sources(keys: Keys) -> None:
    """Once, bob listed alice's source and deleted it (204)."""
    client, bob, alice = keys.client, keys.plain, keys.admin
    tools_before = (await client.get("/tools", headers=bob)).json()
    refused = [
        await client.post("/tools/openapi", json={"document": document("Bob's", "bobs_op")},
                          headers=bob),
        await client.post("/tools/mcp", json={"url": "http://127.0.0.1:9/mcp"}, headers=bob),
        await client.post("/tools/openapi", json={}, headers=bob),  # refused before validation
        await client.get("/tools/sources", headers=bob),
        await client.delete("/tools/sources", params={"label": "openapi:Shop"}, headers=bob),
    ]
    for response in refused:
        assert response.status_code == 403, response.text
        error = response.json()["error"]
        assert error["code"] == "forbidden" and "--admin" in error["message"]
    assert (await client.get("/tools", headers=bob)).json() == tools_before

    imported = await client.post("/tools/openapi", json={"document": document("Shop", "shop_op")},
                                 headers=alice)
    assert imported.status_code == 201, imported.text
    assert "shop_op" in {t["name"] for t in (await client.get("/tools", headers=bob)).json()}
    assert (await client.get("/tools/sources", headers=bob)).status_code == 403
    assert (await client.delete("/tools/sources", params={"label": "openapi:Shop"},
                                headers=bob)).status_code == 403
    [source] = (await client.get("/tools/sources", headers=alice)).json()
    assert source["label"] == "openapi:Shop" and source["tools"] == ["shop_op"]
    gone = await client.delete("/tools/sources", params={"label": "openapi:Shop"}, headers=alice)
    assert gone.status_code == 204
    assert (await client.get("/tools/sources", headers=alice)).json() == []


async def test_keys_list_shows_which_are_admin_keys(keys: Keys) -> None:
    rows = [ApiKeyPublic.model_validate(k) for k in keys.database.read_sync(list_keys)]
    assert {(r.owner, r.admin) for r in rows} == {("alice", True), ("bob", False)}


def test_the_schema_states_the_403(tmp_path: Path) -> None:
    schema = app_for(f"sqlite:///{tmp_path / 'x.db'}", tmp_path, auth="required").openapi()
    for path, method in [("/tools/openapi", "post"), ("/tools/mcp", "post"),
                         ("/tools/sources", "get"), ("/tools/sources", "delete")]:
        assert "403" in schema["paths"][path][method]["responses"], (path, method)
    assert "403" not in schema["paths"]["/tools"]["get"]["responses"]


# -- when keys are required -----------------------------------------------------------------
@pytest.mark.parametrize(("auth", "host", "required"), [
    ("auto", None, True),  # uvicorn --factory: the address is unknown
    ("auto", "0.0.0.0", True),
    ("auto", "127.0.0.1", False),
    ("off", None, False),
    ("required", "127.0.0.1", True),
])
async def test_create_app_requires_keys_unless_it_knows_better(
    database_url: str, tmp_path: Path, auth: str, host: str | None, required: bool
) -> None:
    app = app_for(database_url, tmp_path, auth=auth, host=host)
    async for client in start(app):
        response = await client.get("/interactions")
        assert response.status_code == (401 if required else 200), response.text
        assert (await client.get("/healthz")).status_code == 200


@pytest.mark.parametrize(("host", "required"), [("127.0.0.1", False), ("0.0.0.0", True)])
def test_serve_on_loopback_still_needs_no_keys(
    monkeypatch: pytest.MonkeyPatch, host: str, required: bool
) -> None:
    import uvicorn

    from toolwire.cli import serve as commands

    served: list[FastAPI] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **_: served.append(app))
    monkeypatch.setattr(commands, "configure_logging", lambda **_: None)
    monkeypatch.setattr(commands, "tune_malloc", lambda **_: {})  # this process keeps its own
    monkeypatch.delenv("TOOLWIRE_AUTH", raising=False)
    commands.serve(host=host, port=8000, model="scripted", database_url=None)
    [app] = served
    assert any(m.cls is AuthGate for m in app.user_middleware) == required


def test_keys_made_before_admin_keys_existed_are_not_admin_keys(database_url: str) -> None:
    import sqlalchemy as sa

    from toolwire.api.auth import find_key
    from toolwire.store.migrate import upgrade

    database = Database(database_url)
    try:
        upgrade(database, "0004")
        with database.engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO api_key (id, owner, prefix, digest, created) VALUES "
                "(:id, 'old', 'tw_old', :digest, CURRENT_TIMESTAMP)"),
                {"id": "0" * 32, "digest": "d" * 64})
        upgrade(database)
        [row] = database.read_sync(list_keys)
        assert row.owner == "old" and row.admin is False
        key = database.write_sync(lambda s: create_key(s, owner="new", admin=True))[0]
        found = database.read_sync(lambda s: find_key(s, key))
        assert found is not None and found.admin is True
    finally:
        database.dispose()
