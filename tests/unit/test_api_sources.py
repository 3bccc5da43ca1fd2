"""``/tools``: OpenAPI documents imported over the API, kept in the database and loaded again
on restart; each tool shows its source; bad sources refused with nothing lost."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.petshop import SWAGGER, TOKEN, petshop_app, serving
from tests.unit.test_api import make_registry, settings_for, start
from toolwire.api.app import create_app
from toolwire.engine import Engine
from toolwire.models.scripted import ScriptedModel
from toolwire.sources.credentials import Bearer


@pytest.fixture(scope="module")
def petshop() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []
    with serving(petshop_app(seen)) as url:
        yield url, seen


async def _client(database_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = settings_for(tmp_path, credentials={"petshop": Bearer(token=TOKEN)})  # type: ignore[arg-type]
    engine = Engine(make_registry(), model=ScriptedModel([]), settings=settings)
    app = create_app(engine=engine, database_url=database_url, settings=settings)
    async for client in start(app):
        yield client


async def test_imported_tools_are_listed_with_their_source_and_survive_a_restart(
    database_url: str, tmp_path: Path, petshop: tuple[str, list[dict[str, Any]]]
) -> None:
    url, _ = petshop
    async for client in _client(database_url, tmp_path):
        response = await client.post("/tools/openapi", json={
            "url": f"{url}/openapi.json", "auth": "petshop"})
        assert response.status_code == 201, response.text
        assert {t["name"] for t in response.json()} == {"get_pet", "list_pets", "add_pet"}
        swagger = await client.post("/tools/openapi", json={
            "document": SWAGGER.replace("get_pet", "get_pet_v2").replace(
                "list_pets", "list_pets_v2").replace("add_pet", "add_pet_v2"),
            "base_url": url, "auth": "petshop"})
        assert swagger.status_code == 201, swagger.text
    async for client in _client(database_url, tmp_path):  # a new process on the same database
        tools = {t["name"]: t for t in (await client.get("/tools")).json()}
        assert tools["add"]["source"] == "python"
        assert tools["get_pet"]["source"] == "openapi:Pet shop"
        assert tools["get_pet_v2"]["source"] == "openapi:Pet shop (Swagger)"
        assert tools["add_pet"]["requires_approval"] and not tools["get_pet"]["requires_approval"]
        sources = (await client.get("/tools/sources")).json()
        assert [s["label"] for s in sources] == ["openapi:Pet shop", "openapi:Pet shop (Swagger)"]
        assert sources[0]["options"]["auth"] == "petshop"
        assert TOKEN not in str(sources)
        gone = await client.delete("/tools/sources", params={"label": "openapi:Pet shop"})
        assert gone.status_code == 204
        assert "get_pet" not in {t["name"] for t in (await client.get("/tools")).json()}


@pytest.mark.parametrize("body, problem", [
    ({"document": {"openapi": "3.0.3", "info": {"title": "x"}, "paths": 7}}, "invalid OpenAPI"),
    ({"url": "http://127.0.0.1:9/openapi.json"}, "cannot fetch"),
    ({"document": "::: not yaml :::\n\t- ["}, "neither JSON nor YAML"),
    ({"url": "file:///etc/passwd"}, "http(s) URL"),
    ({}, "exactly one of"),
    ({"url": "http://127.0.0.1:9/x", "auth": "nope"}, "no credential named"),
])
async def test_a_bad_import_is_a_400_and_loses_nothing(
    database_url: str, tmp_path: Path, body: dict[str, Any], problem: str
) -> None:
    async for client in _client(database_url, tmp_path):
        before = (await client.get("/tools")).json()
        response = await client.post("/tools/openapi", json={"timeout": 2, **body})
        assert response.status_code in (400, 422), response.text
        assert problem in response.text
        assert (await client.get("/tools")).json() == before
        assert (await client.get("/tools/sources")).json() == []


async def test_mcp_over_the_api_takes_urls_only(database_url: str, tmp_path: Path) -> None:
    async for client in _client(database_url, tmp_path):
        response = await client.post("/tools/mcp", json={"url": "rm -rf /"})
        assert response.status_code == 400 and "http(s) URL" in response.text
        down = await client.post("/tools/mcp", json={"url": "http://127.0.0.1:9/mcp",
                                                     "timeout": 3})
        assert down.status_code == 400 and "cannot list the tools" in down.text
