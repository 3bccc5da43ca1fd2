"""The API's edge, tried the way a careless client or a hostile page would: on SQLite and
PostgreSQL, every answer is a 4xx with a message, nothing runs and nothing is half stored."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.unit.test_api import Api, GatedModel, adder, make_registry, settings_for, start
from toolwire.api.app import create_app
from toolwire.engine import Engine
from toolwire.models.scripted import ScriptedModel


@pytest.fixture
async def api(database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    model = GatedModel(ScriptedModel(adder))
    model.gate.set()
    settings = settings_for(tmp_path, max_body_bytes=64 * 1024)
    app = create_app(engine=Engine(make_registry(), model=model, settings=settings),
                     database_url=database_url, settings=settings)
    async for client in start(app):
        yield Api(client=client, app=app, model=model, database_url=database_url)


async def nothing_happened(api: Api) -> None:
    assert api.model.inner.requests == []
    page = (await api.client.get("/interactions")).json()
    assert page["total"] == 0, page


# -- no cross-site calls --------------------------------------------------------------------
@pytest.mark.parametrize("content_type", [
    "application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x", None,
])
@pytest.mark.parametrize("path", ["/execute", "/v1/chat/completions", "/interactions"])
async def test_a_body_not_labelled_json_is_refused_and_runs_nothing(
    api: Api, path: str, content_type: str | None
) -> None:
    """What a cross-origin <form> or a no-preflight fetch can send."""
    body = {"prompt": "add 1 and 2", "model": "toolwire",
            "messages": [{"role": "user", "content": "add 1 and 2"}], "toolwire": {"execute": True}}
    headers = {"content-type": content_type} if content_type else {}
    response = await api.client.post(path, content=json.dumps(body), headers=headers)
    assert response.status_code == 415, response.text
    assert "application/json" in response.json()["error"]["message"]
    await nothing_happened(api)


async def test_cors_is_off_unless_origins_are_configured(api: Api) -> None:
    preflight = await api.client.options("/execute", headers={
        "origin": "https://evil.example", "access-control-request-method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers


# -- sizes ----------------------------------------------------------------------------------
async def test_an_oversized_body_is_refused_before_it_is_read(api: Api) -> None:
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"prompt": "'
        for _ in range(10_000):  # 640 MB if it were all read
            sent += 1
            yield b"x" * 65536
        yield b'"}'

    response = await api.client.post("/execute", content=endless(),
                                      headers={"content-type": "application/json"})
    assert response.status_code == 413 and "limit" in response.json()["error"]["message"]
    assert sent < 10, "the body was read after it passed the limit"
    declared = await api.client.post("/execute", content=b"{}", headers={
        "content-type": "application/json", "content-length": str(10**9)})
    assert declared.status_code == 413
    await nothing_happened(api)


async def test_every_413_carries_retry_after(api: Api) -> None:
    """As a 429 does: the body's limit from the guard, a prompt's from the route."""
    body = await api.client.post("/execute", content=b"{}", headers={
        "content-type": "application/json", "content-length": str(10**9)})
    prompt = await api.client.post("/execute", json={"prompt": "add 1 and 2 " + "x" * 9000})
    for response in (body, prompt):
        assert response.status_code == 413, response.text
        assert int(response.headers["retry-after"]) >= 1
    assert prompt.json()["error"]["code"] == "prompt_too_large"
    await nothing_happened(api)


async def test_system_prompt_and_model_names_have_limits(api: Api) -> None:
    long_prompt = await api.client.post("/interactions", json={"system_prompt": "x" * 9000})
    long_model = await api.client.post("/execute", json={"prompt": "add 1 and 2", "model": "m" * 201})
    assert long_prompt.status_code == 422 and long_model.status_code == 422
    await nothing_happened(api)


# -- text a database cannot keep ------------------------------------------------------------
BAD_BODIES = {
    "lone surrogate in a prompt": ("/execute", '{"prompt": "add 1 and \\ud800"}'),
    "lone surrogate in settings": ("/interactions", '{"settings": {"k": "\\ud800"}}'),
    "lone surrogate in a key": ("/interactions", '{"settings": {"\\udfff": 1}}'),
    "NUL in a prompt": ("/execute", '{"prompt": "add 1 and 2\\u0000"}'),
    "NUL in a system prompt": ("/interactions", '{"system_prompt": "a\\u0000b"}'),
    "NaN": ("/interactions", '{"settings": {"t": NaN}}'),
    "Infinity": ("/interactions", '{"settings": {"t": -Infinity}}'),
    "overflowing float": ("/interactions", '{"settings": {"t": 1e400}}'),
    "deep nesting on /v1": ("/v1/chat/completions", "[" * 20_000 + "]" * 20_000),
    "deep nesting in settings": ("/interactions", '{"settings": ' + '{"a": ' * 40 + "1" + "}" * 41),
}


@pytest.mark.parametrize("case", BAD_BODIES)
async def test_text_a_database_cannot_keep_is_refused_and_nothing_is_stored(
    api: Api, case: str
) -> None:
    path, body = BAD_BODIES[case]
    response = await api.client.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"]
    await nothing_happened(api)
    assert (await api.client.get("/interactions")).status_code == 200  # still readable by all


@pytest.mark.parametrize("params", [{"offset": 2**63}, {"offset": -1}, {"limit": 10**6}])
async def test_paging_out_of_range_is_a_422(api: Api, params: dict[str, Any]) -> None:
    response = await api.client.get("/interactions", params=params)
    assert response.status_code == 422, response.text


async def test_a_clean_request_still_passes_the_guard(api: Api) -> None:
    response = await api.client.post("/execute", json={"prompt": "add 1 and 2 — déjà vu 🙂"})
    assert response.status_code == 200 and response.json()["answer"] == "The sum is 3."


@pytest.mark.parametrize("url", ["/tools/sources?label=a%00b", "/tools/search?q=%00",
                                 "/interactions?x%00=1"])
async def test_nul_in_a_query_parameter_is_a_422(api: Api, url: str) -> None:
    response = await api.client.request("DELETE" if "sources" in url else "GET", url)
    assert response.status_code == 422 and "NUL" in response.json()["error"]["message"]


async def test_an_interactions_history_comes_in_pages(api: Api) -> None:
    first = (await api.client.post("/execute", json={"prompt": "add 1 and 2"})).json()
    interaction = first["interaction_id"]
    for n in range(3, 6):
        await api.client.post("/execute", json={"prompt": f"add {n} and 1", "interaction_id": interaction})
    page = (await api.client.get(f"/interactions/{interaction}", params={"limit": 3, "offset": 2})).json()
    assert page["message_count"] == 8 and len(page["messages"]) == 3
    assert page["messages"][0]["content"] == "add 3 and 1"
    listed = (await api.client.get(f"/interactions/{interaction}/messages",
                                   params={"limit": 2, "offset": 6})).json()
    assert [m["content"] for m in listed] == ["add 5 and 1", "The sum is 6."]
    too_many = await api.client.get(f"/interactions/{interaction}", params={"limit": 10_000})
    assert too_many.status_code == 422
