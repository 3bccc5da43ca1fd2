"""PostgreSQL-only behaviour: the database vanishing under a running app."""

from __future__ import annotations

from pathlib import Path

import httpx
import psycopg
import pytest

from tests.conftest import POSTGRES_ADMIN_URL, postgres_database
from tests.unit.test_api import adder, make_registry, settings_for, start
from toolwire.api.app import create_app
from toolwire.engine import Engine
from toolwire.models.scripted import ScriptedModel

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


async def test_lost_database_turns_into_503_not_500(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    with postgres_database() as url:
        app = create_app(engine=Engine(make_registry(), model=ScriptedModel(adder), settings=settings),
                         database_url=url, settings=settings)
        async for client in start(app):
            ok = await client.post("/execute", json={"prompt": "add 1 and 2"})
            assert ok.status_code == 200
            name = url.rsplit("/", 1)[1]
            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            for _ in range(2):  # the broken pooled connection, then a failed reconnect
                health = await client.get("/healthz")
                assert health.status_code == 503, health.text
                assert health.json()["components"]["database"]["state"] == "unavailable"
                responses: list[httpx.Response] = [
                    await client.get(f"/interactions/{ok.json()['interaction_id']}"),
                    await client.post("/execute", json={"prompt": "add 3 and 4"}),
                ]
                for response in responses:
                    assert response.status_code == 503, response.text
                    assert response.json()["error"]["code"] == "database_unavailable"
