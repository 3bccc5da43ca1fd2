"""Hostile sandboxed tools behind the REST API: each is stopped or denied within its limits
while the server keeps answering other requests (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.unit import hostile_tools
from tests.unit.test_api import GatedModel, add, settings_for, start
from toolwire.api.app import create_app
from toolwire.engine import Engine
from toolwire.models.base import Completion, ToolCallRequest
from toolwire.models.scripted import Request, ScriptedModel
from toolwire.retrieval import ToolIndex
from toolwire.tools import Registry

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None,
                                reason="bubblewrap is not installed (make install installs it)")

HOSTILE = {"spin": hostile_tools.spin, "hog": hostile_tools.hog,
           "fork_loop": hostile_tools.fork_loop, "ctypes_fork": hostile_tools.ctypes_fork}


def operator(request: Request) -> Completion:
    """Calls the tool the prompt names (``run spin``), or ``add`` on two numbers."""
    words = request.messages[-1].content.split()
    if not request.tools:
        return Completion(text="Done.")
    if words[0] == "run":
        call = ToolCallRequest(id=f"call_{uuid.uuid4().hex[:8]}", name=words[1], arguments={})
    else:
        call = ToolCallRequest(id=f"call_{uuid.uuid4().hex[:8]}", name="add",
                               arguments={"a": int(words[1]), "b": int(words[3])})
    return Completion(tool_calls=[call])


@pytest.fixture
async def client(database_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    registry = Registry()
    registry.use_index(ToolIndex(embedder=None))
    registry.register(add)
    for name, fn in HOSTILE.items():
        registry.register(fn, name=name, sandbox=True, timeout=3.0, keywords=("run",))
    model = GatedModel(ScriptedModel(operator))
    model.gate.set()
    settings = settings_for(tmp_path, retrieval_k=5)
    app = create_app(engine=Engine(registry, model=model, settings=settings),
                     database_url=database_url, settings=settings)
    async for c in start(app):
        yield c


async def test_hostile_tools_are_stopped_while_the_server_keeps_serving(
    client: httpx.AsyncClient,
) -> None:
    async def execute(prompt: str) -> tuple[dict[str, object], float]:
        started = time.perf_counter()
        response = await client.post("/execute", json={"prompt": prompt}, timeout=60)
        assert response.status_code == 200, response.text
        return response.json(), time.perf_counter() - started

    hostile = [asyncio.create_task(execute(f"run {name}")) for name in HOSTILE]
    await asyncio.sleep(0.3)  # the hostile calls are under way
    normal = [await execute(f"add {i} and 1") for i in range(3)]
    assert all(not task.done() for task in hostile[:1]), "spin should still be running"
    assert all(body["calls"][0]["result"] == i + 1 for i, (body, _) in enumerate(normal))  # type: ignore[index]

    outcomes = {body["calls"][0]["name"]: body["calls"][0] for body, _ in await asyncio.gather(*hostile)}  # type: ignore[index]
    assert outcomes["spin"]["status"] == "timeout"
    assert outcomes["hog"]["status"] == "error"
    assert outcomes["hog"]["error"]["type"] == "memory_limit"
    assert outcomes["fork_loop"]["status"] == "ok" and outcomes["fork_loop"]["result"]["forked"] == 0
    assert outcomes["ctypes_fork"]["status"] == "ok" and outcomes["ctypes_fork"]["result"]["pid"] == -1
