"""OpenAPI/Swagger documents as HTTP tools: the schema each operation gets, the real request
each call sends (a real server on loopback), errors, secrets kept out, all-or-nothing imports."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from tests.petshop import SWAGGER, TOKEN, petshop_app, serving
from toolwire.config import get_settings
from toolwire.credentials import ApiKey, Bearer
from toolwire.sources import SourceError, add_openapi
from toolwire.sources.http import forbidden_address
from toolwire.tools.dispatch import dispatch
from toolwire.tools.registry import Registry
from toolwire.tools.snippets import snippet_for

CREDENTIALS = {"petshop": Bearer(token=TOKEN)}  # type: ignore[arg-type]

STORE: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Store", "version": "1"},
    "servers": [{"url": "https://store.example/api/{v}", "variables": {"v": {"default": "v1"}}}],
    "components": {
        "schemas": {
            "Item": {
                "type": "object",
                "required": ["id", "title"],
                "properties": {
                    "id": {"type": "integer", "readOnly": True},
                    "title": {"type": "string", "example": "lamp"},
                    "note": {"type": "string", "nullable": True},
                    "parts": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}},
                },
            }
        },
        "parameters": {"Id": {"name": "id", "in": "path", "required": True,
                              "schema": {"type": "integer"}}},
        "securitySchemes": {"key": {"type": "apiKey", "in": "query", "name": "api_key"}},
    },
    "paths": {
        "/items/{id}": {
            "parameters": [{"$ref": "#/components/parameters/Id"}],
            "put": {
                "operationId": "update_item",
                "summary": "Replace an item",
                "description": "Replaces every field.",
                "parameters": [
                    {"name": "id", "in": "query", "schema": {"type": "string"}},
                    {"name": "api_key", "in": "query", "schema": {"type": "string"}},
                    {"name": "X-Trace", "in": "header", "schema": {"type": "string"}},
                    {"name": "Accept", "in": "header", "schema": {"type": "string"}},
                    {"name": "session", "in": "cookie", "schema": {"type": "string"}},
                ],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Item"}}}},
                "responses": {"200": {"description": "ok"}},
            },
            "get": {"responses": {"200": {"description": "ok"}}},
        }
    },
}


def test_operations_become_tools_with_merged_arguments_and_refs_resolved() -> None:
    registry = Registry()
    tools = {t.name: t for t in add_openapi(registry, STORE)}
    assert set(tools) == {"update_item", "get /items/{id}"}
    put = tools["update_item"]
    assert put.description == "Replace an item\n\nReplaces every field."
    assert put.source == "openapi:Store" and put.requires_approval
    assert not tools["get /items/{id}"].requires_approval
    props = put.parameters["properties"]
    # "id" is a path and a query parameter (and a read-only body field, which is dropped)
    assert {"path_id", "query_id", "X-Trace", "session", "title", "note", "parts"} == set(props)
    assert "api_key" not in props and "Accept" not in props  # configuration supplies those
    assert props["note"]["type"] == ["string", "null"]
    assert "example" not in props["title"]
    assert props["parts"]["items"] == {
        "description": "(recursive: Item)"
    }
    assert set(put.parameters["required"]) == {"path_id", "title"}
    assert put.validate({"path_id": 1, "title": "t", "bogus": 1})  # unknown arguments refused


def test_request_puts_each_argument_where_it_belongs() -> None:
    registry = Registry()
    add_openapi(registry, STORE, auth=ApiKey(name="api_key", value="k3y", location="query"))  # type: ignore[arg-type]
    handler = registry.get("update_item").handler
    request = handler.request({"path_id": 5, "query_id": "q", "X-Trace": "t", "session": "s",  # type: ignore[union-attr]
                               "title": "lamp"})
    assert request.url == "https://store.example/api/v1/items/5"
    assert request.params == {"id": "q"} and request.headers == {"X-Trace": "t"}
    assert request.cookies == {"session": "s"} and request.json_body == {"title": "lamp"}
    snippet = snippet_for(registry.get("update_item"), {"path_id": 5, "title": "lamp"})
    assert "k3y" not in snippet and 'os.environ["API_KEY_KEY"]' in snippet
    compile(snippet, "snippet", "exec")


def test_include_exclude_and_the_base_url_override() -> None:
    registry = Registry()
    tools = add_openapi(registry, STORE, include=["GET *"], base_url="http://localhost:1")
    assert [t.name for t in tools] == ["get /items/{id}"]
    assert tools[0].handler.base_url == "http://localhost:1"  # type: ignore[union-attr]
    assert [t.name for t in add_openapi(Registry(), STORE, exclude=["update_*"])] == [
        "get /items/{id}"
    ]


@pytest.mark.parametrize("document, problem", [
    ({"info": {"title": "x"}}, "no 'openapi' or 'swagger'"),
    ({"openapi": "4.0.0", "info": {}, "paths": {}}, "unsupported OpenAPI version"),
    ({"openapi": "3.0.3", "info": {"title": "x"}, "paths": {"/a": {"get": {"responses": 3}}}},
     "invalid OpenAPI document"),
    ("{not json: [", "neither JSON nor YAML"),
    ("/no/such/file.yaml", "cannot read"),
    ("http://127.0.0.1:9/openapi.json", "cannot fetch"),
    ({**STORE, "servers": []}, "base_url"),
])
def test_a_bad_source_is_refused_clearly_and_nothing_is_lost(document: Any, problem: str) -> None:
    registry = Registry()
    registry.add_schema({"name": "kept", "parameters": {"type": "object", "properties": {}}})
    with pytest.raises(SourceError, match=problem):
        add_openapi(registry, document, timeout=2)
    assert registry.names == ["kept"]


def test_a_name_clash_adds_nothing_and_a_reimport_replaces_its_own_tools() -> None:
    registry = Registry()
    registry.add_schema({"name": "update_item"})
    with pytest.raises(SourceError, match=r"already registered.*update_item"):
        add_openapi(registry, STORE)
    assert registry.names == ["update_item"]
    again = Registry()
    add_openapi(again, STORE)
    add_openapi(again, STORE, include=["update_item"])
    assert again.names == ["update_item"]


def test_an_unknown_credential_name_is_refused() -> None:
    with pytest.raises(SourceError, match="no credential named 'nope'"):
        add_openapi(Registry(), STORE, auth="nope")


# -- a real server --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def petshop() -> Any:
    seen: list[dict[str, Any]] = []
    with serving(petshop_app(seen)) as url:
        yield url, seen


@pytest.fixture(autouse=True)
def private_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Internal addresses are refused (the default): the petshop listens on loopback, which
    only a source the operator imported (``allow_private``, its own base URL) may call."""
    monkeypatch.delenv("TOOLWIRE_HTTP_TOOLS_ALLOW_PRIVATE", raising=False)
    get_settings.cache_clear()
    assert not get_settings().http_tools_allow_private


def _imported(source: Any, base_url: str, *, allow_private: bool = True) -> Registry:
    """``source`` imported through the Python API (the operator's: ``allow_private`` is its
    default), or as an API client's import is (``allow_private=False``)."""
    registry = Registry()
    add_openapi(registry, source, base_url=base_url, auth="petshop", credentials=CREDENTIALS,
                allow_private=allow_private)
    return registry


@pytest.mark.parametrize("kind", ["openapi.json", "swagger"])
def test_calls_send_the_real_request_and_return_status_and_json(petshop: Any, kind: str) -> None:
    url, seen = petshop
    source = f"{url}/openapi.json" if kind == "openapi.json" else SWAGGER
    registry = _imported(source, url)
    result = asyncio.run(dispatch(registry, "get_pet", {"pet_id": 7}))
    assert result.status == "ok", result.error
    assert result.result == {"status": 200, "body": {"id": 7, "name": "Rex", "species": "dog"}}
    assert seen[-1] == {"method": "GET", "path": "/pets/7", "authorization": f"Bearer {TOKEN}"}
    listed = asyncio.run(dispatch(registry, "list_pets", {"species": "cat", "limit": 5}))
    assert listed.result["body"] == [{"id": 8, "name": "Tom", "species": "cat"}]
    add = registry.get("add_pet")
    assert add.requires_approval
    posted = asyncio.run(dispatch(registry, "add_pet", {"name": "Kit", "species": "cat"},
                                  approved=True))
    assert posted.result == {"status": 201, "body": {"id": 9, "name": "Kit", "species": "cat"}}
    assert seen[-1]["body"] == {"name": "Kit", "species": "cat"}


def test_invalid_arguments_never_reach_the_server(petshop: Any) -> None:
    url, seen = petshop
    registry = _imported(f"{url}/openapi.json", url)
    before = len(seen)
    result = asyncio.run(dispatch(registry, "get_pet", {"pet_id": "seven"}))
    assert result.status == "invalid" and "pet_id" in result.error["message"]  # type: ignore[index]
    assert len(seen) == before


def test_an_api_error_is_a_structured_tool_error(petshop: Any) -> None:
    url, _ = petshop
    registry = _imported(f"{url}/openapi.json", url)
    result = asyncio.run(dispatch(registry, "get_pet", {"pet_id": 99}))
    assert result.status == "error"
    error = result.error or {}
    assert error["type"] == "http_error" and error["status"] == 404
    assert "404" in error["message"] and "no pet with id 99" in error["message"]
    no_auth = Registry()
    add_openapi(no_auth, f"{url}/openapi.json", base_url=url)
    denied = asyncio.run(dispatch(no_auth, "get_pet", {"pet_id": 7}))
    assert denied.error["status"] == 401  # type: ignore[index]


def test_an_unreachable_api_is_an_error_that_hides_the_secret() -> None:
    registry = Registry()
    key = ApiKey(name="key", value="hush-hush", location="query")  # type: ignore[arg-type]
    add_openapi(registry, STORE, base_url="http://127.0.0.1:9", auth=key, timeout=2)
    result = asyncio.run(dispatch(registry, "get /items/{id}", {"id": 1}))
    assert result.status == "error" and result.error["type"] == "http_unreachable"  # type: ignore[index]
    assert "hush-hush" not in json.dumps(result.to_dict())


def test_the_snippet_reproduces_the_request_without_the_secret(petshop: Any) -> None:
    url, seen = petshop
    registry = _imported(f"{url}/openapi.json", url)
    snippet = snippet_for(registry.get("list_pets"), {"species": "dog", "limit": 1})
    assert TOKEN not in snippet and 'os.environ["PETSHOP_TOKEN"]' in snippet
    namespace: dict[str, Any] = {}
    import os

    os.environ["PETSHOP_TOKEN"] = TOKEN
    try:
        exec(compile(snippet, "snippet", "exec"), namespace)  # our own generated code
    finally:
        del os.environ["PETSHOP_TOKEN"]
    assert seen[-1] == {"method": "GET", "path": "/pets", "species": "dog", "limit": 1}
    assert isinstance(namespace["response"], httpx.Response)


def _call(name: str, **arguments: Any) -> Any:
    from toolwire.messages import Completion, ToolCallRequest

    return Completion(tool_calls=[ToolCallRequest(id="c1", name=name, arguments=arguments)])


def test_a_sentence_runs_through_the_engine_to_the_real_api(petshop: Any) -> None:
    from toolwire.engine import Engine
    from toolwire.messages import Completion
    from toolwire.models.scripted import ScriptedModel

    url, seen = petshop
    registry = _imported(f"{url}/openapi.json", url)
    model = ScriptedModel([_call("get_pet", pet_id=7), Completion(text="Pet 7 is Rex, a dog.")])
    run = Engine(registry, model=model).run("show me the pet with id 7")
    call = run.calls[0]
    assert call.status == "ok" and call.result["body"]["name"] == "Rex"
    assert seen[-1]["path"] == "/pets/7" and "Rex" in run.answer
    assert call.snippet and "httpx.request('GET'" in call.snippet and TOKEN not in call.snippet

    failing = ScriptedModel([_call("get_pet", pet_id=99), Completion(text="unused")])
    run = Engine(registry, model=failing).run("show me the pet with id 99")
    assert run.calls[0].status == "error"
    assert "404" in run.answer and "no pet with id 99" in run.answer


# -- where imported tools may connect -------------------------------------------------------
def test_the_operators_own_api_on_loopback_is_called_without_any_setting(petshop: Any) -> None:
    """``add_openapi`` is the operator's: their API on 127.0.0.1 works as imported, with no
    ``TOOLWIRE_HTTP_TOOLS_ALLOW_PRIVATE`` (the autouse fixture leaves it off)."""
    url, seen = petshop
    registry = Registry()
    add_openapi(registry, f"{url}/openapi.json", base_url=url, auth="petshop",
                credentials=CREDENTIALS)
    result = asyncio.run(dispatch(registry, "get_pet", {"pet_id": 7}))
    assert result.status == "ok", result.error
    assert seen[-1]["path"] == "/pets/7"


def test_a_source_without_allow_private_refuses_loopback_and_sends_nothing(petshop: Any) -> None:
    """What an API client imports without an admin's ``allow_private``."""
    url, seen = petshop
    registry = _imported(f"{url}/openapi.json", url, allow_private=False)
    before = len(seen)
    result = asyncio.run(dispatch(registry, "get_pet", {"pet_id": 7}))
    assert result.status == "error"
    error = result.error or {}
    assert error["type"] == "http_forbidden_address"
    assert "127.0.0.1" in error["message"] and "TOOLWIRE_HTTP_TOOLS_ALLOW_PRIVATE" in error["message"]
    assert len(seen) == before  # never sent
    assert TOKEN not in json.dumps(result.to_dict())


def test_a_name_is_checked_after_resolution_and_the_request_goes_to_that_address(
    petshop: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``localhost`` (or any name resolving to loopback) is refused like 127.0.0.1; when
    allowed (everywhere, or for the source's own base URL), the request goes to the address
    that was checked, under its own Host name."""
    from toolwire.sources import http

    url, seen = petshop
    port = url.rsplit(":", 1)[1]

    async def resolve(host: str, port: int) -> list[str]:
        return ["127.0.0.1"] if host == "pets.example" else []

    monkeypatch.setattr(http, "_resolve", resolve)
    registry = _imported(f"{url}/openapi.json", f"http://pets.example:{port}", allow_private=False)
    refused = asyncio.run(dispatch(registry, "get_pet", {"pet_id": 7}))
    assert refused.error["type"] == "http_forbidden_address"  # type: ignore[index]
    assert "pets.example" in refused.error["message"]  # type: ignore[index]
    monkeypatch.setenv("TOOLWIRE_HTTP_TOOLS_ALLOW_PRIVATE", "true")
    get_settings.cache_clear()
    allowed = asyncio.run(dispatch(registry, "get_pet", {"pet_id": 7}))
    assert allowed.status == "ok", allowed.error
    assert seen[-1]["path"] == "/pets/7"
    monkeypatch.delenv("TOOLWIRE_HTTP_TOOLS_ALLOW_PRIVATE")
    get_settings.cache_clear()
    trusted = _imported(f"{url}/openapi.json", f"http://pets.example:{port}")
    assert asyncio.run(dispatch(trusted, "get_pet", {"pet_id": 8})).status == "ok"
    assert seen[-1]["path"] == "/pets/8"


@pytest.fixture(scope="module")
def redirector() -> Any:
    """A server on loopback whose ``/hop?to=URL`` redirects anywhere; and a second one, at
    another port, that counts what reaches it."""
    from fastapi import FastAPI
    from fastapi.responses import RedirectResponse

    hop, other = FastAPI(), FastAPI()
    reached: list[str] = []

    @hop.get("/hop")
    def go(to: str) -> RedirectResponse:
        return RedirectResponse(to, status_code=307)

    @hop.get("/here")
    def here() -> dict[str, str]:
        return {"where": "trusted"}

    @other.get("/secret")
    def secret() -> dict[str, str]:
        reached.append("secret")
        return {"where": "other"}

    with serving(hop) as url, serving(other) as other_url:
        yield url, other_url, reached


@pytest.mark.parametrize("target", ["{other}/secret", "http://localhost:{port}/here"])
def test_a_trusted_base_url_trusts_its_own_origin_only_redirects_elsewhere_are_refused(
    redirector: Any, target: str
) -> None:
    """The trusted origin is one host and port: a redirect from it to another internal one
    (another port, or the same address under another name) is refused before it is sent."""
    from toolwire.sources.http import ForbiddenAddress, public_client

    url, other_url, reached = redirector
    port = url.rsplit(":", 1)[1]

    async def get(path: str) -> httpx.Response:
        async with public_client(trusted=url, follow_redirects=True, timeout=5) as client:
            return await client.get(url + path)

    assert asyncio.run(get("/hop?to=/here")).json() == {"where": "trusted"}  # same origin
    with pytest.raises(ForbiddenAddress, match="refused to call"):
        asyncio.run(get("/hop?to=" + target.format(other=other_url, port=port)))
    assert reached == []


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
    "0.0.0.0", "100.64.0.1", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fc00::1",
    "fd00:ec2::254", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a00:1",
    "2002:7f00:1::1",
])
def test_internal_addresses_are_forbidden(address: str) -> None:
    assert forbidden_address(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_not(address: str) -> None:
    assert not forbidden_address(address)


@pytest.mark.parametrize("value, segment", [
    ("..", "%2E%2E"), (".", "%2E"), ("a/../b", "a%2F..%2Fb"), ("...", "..."), ("v1.2", "v1.2"),
])
def test_a_path_parameter_never_becomes_a_dot_segment(value: str, segment: str) -> None:
    registry = Registry()
    add_openapi(registry, STORE)
    handler = registry.get("update_item").handler
    request = handler.request({"path_id": value, "title": "t"})  # type: ignore[union-attr]
    assert request.url == f"https://store.example/api/v1/items/{segment}"
    assert httpx.URL(request.url).raw_path.decode() == f"/api/v1/items/{segment}"
