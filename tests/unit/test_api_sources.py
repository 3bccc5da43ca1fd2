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
from toolwire.config import get_settings
from toolwire.credentials import Bearer
from toolwire.engine import Engine
from toolwire.messages import Completion, ToolCallRequest
from toolwire.models.scripted import ScriptedModel


@pytest.fixture(scope="module")
def petshop() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []
    with serving(petshop_app(seen)) as url:
        yield url, seen


async def _client(
    database_url: str, tmp_path: Path, model: ScriptedModel | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    settings = settings_for(tmp_path, credentials={"petshop": Bearer(token=TOKEN)})  # type: ignore[arg-type]
    engine = Engine(make_registry(), model=model or ScriptedModel([]), settings=settings)
    app = create_app(engine=engine, database_url=database_url, settings=settings)
    async for client in start(app):
        yield client


@pytest.fixture
def private_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The petshop listens on loopback, which the service may only reach when allowed."""
    monkeypatch.setenv("TOOLWIRE_HTTP_TOOLS_ALLOW_PRIVATE", "true")
    get_settings.cache_clear()


async def test_a_document_url_at_an_internal_address_is_refused(
    database_url: str, tmp_path: Path, petshop: tuple[str, list[dict[str, Any]]]
) -> None:
    """The server fetches what a client names: loopback, private and link-local addresses are
    refused (the rule imported tools' own requests follow) and nothing is imported; an admin's
    ``allow_private`` trusts the tools' base URL, never the document's URL."""
    url, _ = petshop
    async for client in _client(database_url, tmp_path):
        response = await client.post("/tools/openapi", json={"url": f"{url}/openapi.json",
                                                              "allow_private": True})
        assert response.status_code == 400, response.text
        message = response.json()["error"]["message"]
        assert "127.0.0.1" in message and "TOOLWIRE_HTTP_TOOLS_ALLOW_PRIVATE" in message
        metadata = await client.post("/tools/openapi",
                                     json={"url": "http://169.254.169.254/latest/meta-data"})
        assert metadata.status_code == 400, metadata.text
        assert (await client.get("/tools/sources")).json() == []
        assert "get_pet" not in {t["name"] for t in (await client.get("/tools")).json()}


@pytest.mark.usefixtures("private_allowed")
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


def _asking_for_pet(pet_id: int) -> ScriptedModel:
    call = ToolCallRequest(id="c1", name="get_pet", arguments={"pet_id": pet_id})
    return ScriptedModel([Completion(tool_calls=[call]), Completion(text="Here it is.")])


async def test_an_admins_allow_private_trusts_the_base_url_and_a_restart_keeps_it(
    database_url: str, tmp_path: Path, petshop: tuple[str, list[dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A source an API client imports calls no internal address; an admin who asks for
    ``allow_private`` lets its tools call their own base URL, and the saved source keeps that."""
    monkeypatch.delenv("TOOLWIRE_HTTP_TOOLS_ALLOW_PRIVATE", raising=False)
    get_settings.cache_clear()
    url, seen = petshop
    body = {"document": SWAGGER, "base_url": url, "auth": "petshop"}
    async for client in _client(database_url, tmp_path, _asking_for_pet(7)):
        assert (await client.post("/tools/openapi", json=body)).status_code == 201
        before = len(seen)
        refused = (await client.post("/execute", json={"prompt": "show me pet 7"})).json()
        assert refused["calls"][0]["error"]["type"] == "http_forbidden_address", refused
        assert len(seen) == before  # never sent
        trusted = await client.post("/tools/openapi", json={**body, "allow_private": True})
        assert trusted.status_code == 201, trusted.text
        [source] = (await client.get("/tools/sources")).json()
        assert source["options"]["allow_private"] is True
    async for client in _client(database_url, tmp_path, _asking_for_pet(8)):  # a restart
        run = (await client.post("/execute", json={"prompt": "show me pet 8"})).json()
        assert run["calls"][0]["status"] == "ok", run
        assert seen[-1]["path"] == "/pets/8"


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


def document(title: str, *operations: str) -> dict[str, Any]:
    """A small OpenAPI 3 document: one GET operation per name."""
    return {"openapi": "3.0.3", "info": {"title": title, "version": "1"},
            "servers": [{"url": "http://127.0.0.1:9"}],
            "paths": {f"/{op}": {"get": {"operationId": op, "responses": {"200": {
                "description": "ok"}}}} for op in operations}}


def yaml_document(title: str, extra: str = "") -> str:
    """The same as YAML text, where escapes can make any character."""
    return (f'openapi: "3.0.3"\ninfo: {{title: "{title}", version: "1"{extra}}}\n'
            "servers: [{url: 'http://127.0.0.1:9'}]\n"
            "paths: {/a: {get: {operationId: op_a, responses: {'200': {description: ok}}}}}\n")


UNKEEPABLE = {  # the body, and what the answer says
    "a title over the label's length": (
        {"document": document("t" * 400, "op_a")}, "at most 300"),
    "a NUL from a YAML escape": ({"document": yaml_document("a\\0b")}, "NUL"),
    "a lone surrogate from a YAML escape": (
        {"document": yaml_document("a\\ud800b")}, "lone surrogate"),
    "a NaN from YAML": ({"document": yaml_document("x", ", x-ratio: .nan")}, "finite"),
    "YAML nested past any reader": (
        {"document": yaml_document("x", ", x-deep: " + "[" * 5000 + "]" * 5000)}, "nested"),
    "an MCP URL over the label's length": (
        {"url": "http://127.0.0.1:9/" + "m" * 400}, "at most 300"),
}


@pytest.mark.parametrize("case", UNKEEPABLE)
async def test_a_document_the_database_cannot_keep_is_a_400_and_changes_nothing(
    database_url: str, tmp_path: Path, case: str
) -> None:
    """Once a 500 on PostgreSQL, with the tools left registered in memory."""
    body, problem = UNKEEPABLE[case]
    path = "/tools/mcp" if "MCP" in case else "/tools/openapi"
    async for client in _client(database_url, tmp_path):
        before = (await client.get("/tools")).json()
        response = await client.post(path, json={"timeout": 2, **body})
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "invalid_source" and problem in error["message"], error
        assert (await client.get("/tools")).json() == before
        assert (await client.get("/tools/sources")).json() == []


async def test_an_import_that_cannot_be_saved_is_taken_back(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from toolwire.store import data

    async for client in _client(database_url, tmp_path):
        first = await client.post("/tools/openapi", json={"document": document("Shop", "old_op")})
        assert first.status_code == 201, first.text
        before = (await client.get("/tools")).json()

        def broken(**_: Any) -> None:
            raise RuntimeError("the disk is full")

        monkeypatch.setattr(data, "save_tool_source", broken)
        again = await client.post("/tools/openapi", json={"document": document("Shop", "new_op")})
        fresh = await client.post("/tools/openapi", json={"document": document("Else", "other")})
        assert again.status_code == fresh.status_code == 500
        assert (await client.get("/tools")).json() == before  # old_op back, nothing new
        monkeypatch.undo()
        [source] = (await client.get("/tools/sources")).json()
        assert source["tools"] == ["old_op"]


async def test_tools_and_sources_come_in_pages(database_url: str, tmp_path: Path) -> None:
    async for client in _client(database_url, tmp_path):
        for n in range(3):
            imported = await client.post("/tools/openapi", json={
                "document": document(f"API {n}", f"op_{n}_a", f"op_{n}_b")})
            assert imported.status_code == 201, imported.text
        everything = await client.get("/tools")
        total = int(everything.headers["x-total-count"])
        assert total == len(everything.json()) >= 6
        page = await client.get("/tools", params={"limit": 2, "offset": total - 3})
        assert page.headers["x-total-count"] == str(total)
        assert [t["name"] for t in page.json()] == [t["name"] for t in everything.json()][-3:-1]
        sources = await client.get("/tools/sources", params={"limit": 1, "offset": 1})
        assert sources.headers["x-total-count"] == "3"
        assert [s["label"] for s in sources.json()] == ["openapi:API 1"]
        assert (await client.get("/tools/sources", params={"offset": 5})).json() == []
        for params in ({"limit": 0}, {"limit": 501}, {"offset": -1}, {"offset": 2**63}):
            assert (await client.get("/tools", params=params)).status_code == 422
            assert (await client.get("/tools/sources", params=params)).status_code == 422
