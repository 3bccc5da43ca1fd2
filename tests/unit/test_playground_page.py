"""The playground: ``GET /`` and its static files load without a key (the page asks for one),
while the API behind them still needs one; the page only talks to its own server and never
inserts data as HTML."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import sqlite_url
from tests.unit.test_api import settings_for, start
from toolwire.api.app import create_app
from toolwire.api.auth import is_open
from toolwire.api.routes.playground import STATIC
from toolwire.engine import Engine
from toolwire.models.base import Completion
from toolwire.models.scripted import ScriptedModel
from toolwire.retrieval import ToolIndex
from toolwire.tools import Registry


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    registry = Registry()
    registry.use_index(ToolIndex(embedder=None))
    settings = settings_for(tmp_path, auth="required")
    engine = Engine(registry, model=ScriptedModel(lambda _: Completion(text="hi")),
                    settings=settings)
    app = create_app(engine=engine, database_url=sqlite_url(tmp_path), settings=settings)
    async for c in start(app):
        yield c


async def test_the_page_loads_without_a_key(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/static/app.js">' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    script = await client.get("/static/app.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert "/execute?stream=true" in script.text
    style = await client.get("/static/style.css")
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")
    assert (await client.get("/static/nothing.js")).status_code == 404


async def test_the_api_behind_the_page_still_needs_a_key(client: httpx.AsyncClient) -> None:
    for path in ("/interactions", "/tools", "/tool-calls", "/metrics"):
        response = await client.get(path)
        assert response.status_code == 401, path
    refused = await client.post("/execute?stream=true", json={"prompt": "hi"})
    assert refused.status_code == 401
    assert "/" not in (await client.get("/openapi.json")).json()["paths"]


def test_only_the_page_itself_is_open_at_the_root() -> None:
    assert is_open("/") and is_open("/static/app.js") and is_open("/healthz")
    assert not is_open("/interactions") and not is_open("/execute") and not is_open("/v1/models")


def test_the_page_inserts_text_only_and_fetches_nothing_from_elsewhere() -> None:
    files = sorted(STATIC.iterdir())
    assert {f.name for f in files} == {"index.html", "app.js", "style.css"}
    script = (STATIC / "app.js").read_text()
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(", script)
    for file in files:
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", file.read_text()), file.name
