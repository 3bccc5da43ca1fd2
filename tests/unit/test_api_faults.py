"""The API survives its own faults: a model process that crashes or hangs, a model that never
answers, a message whose worker died (its lease expires), a tool that hangs, a late database."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from tests.unit.test_api import (
    Api,
    GatedModel,
    adder,
    make_registry,
    settings_for,
    start,
    wait_for_status,
)
from toolwire.api.app import create_app
from toolwire.engine import Engine
from toolwire.models.process import ModelProcess
from toolwire.models.scripted import ScriptedModel
from toolwire.retrieval import ToolIndex
from toolwire.run import CallResult, call_key
from toolwire.store import data
from toolwire.store.db import Database
from toolwire.store.migrate import upgrade
from toolwire.store.tables import InteractionCreate
from toolwire.tools import Registry

RELEASE = threading.Event()
DEAD = data.Lease(owner="dead-process", seconds=-1)
"""A lease whose process died: it expired at once."""


def hang(seconds: float) -> str:
    """Wait for a long time.

    Args:
        seconds: how long
    """
    RELEASE.wait()
    return "released"


async def test_a_model_process_crash_fails_one_request_and_is_recorded(
    database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path)
    model = ModelProcess("tests.unit.faulty_models:faulty", name="faulty", timeout=10,
                         supports_tools=True, supports_grammar=False)
    engine = Engine(make_registry(), model=model, settings=settings)
    app = create_app(engine=engine, database_url=database_url, settings=settings)
    try:
        async for client in start(app):
            crashed = await client.post("/execute", json={"prompt": "crash"})
            assert crashed.status_code == 502, crashed.text
            error = crashed.json()["error"]
            assert "model process crashed (SIGSEGV)" in error["message"]
            stored = (await client.get(f"/interactions/{error['interaction_id']}")).json()
            assert {(m["status"], m["error"]) for m in stored["messages"]} == {
                ("failed", "ModelError: local: model process crashed (SIGSEGV)")}
            health = (await client.get("/healthz")).json()
            assert health["status"] == "degraded"
            assert health["components"]["model"]["state"] == "crashed"
            served = await client.post("/execute", json={"prompt": "hello"})
            # served by the restarted process (its "echo hello" repeats the sentence, so the
            # answer says plainly that no tool serves rather than echo it)
            assert served.status_code == 200 and served.json()["answer"], served.text
            health = (await client.get("/healthz")).json()
            assert health["status"] == "ok" and health["components"]["model"]["state"] == "ready"
            assert health["components"]["model"]["detail"]["restarts"] == 1
    finally:
        model.close()


async def test_a_model_that_never_answers_fails_the_request(database_url: str, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, model_timeout=0.3)
    model = GatedModel(ScriptedModel(adder))  # the gate is never opened
    app = create_app(engine=Engine(make_registry(), model=model, settings=settings),
                     database_url=database_url, settings=settings)
    async for client in start(app):
        response = await client.post("/execute", json={"prompt": "add 1 and 2"})
        assert response.status_code == 502
        assert "did not answer within 0.3 s" in response.json()["error"]["message"]
        interaction = response.json()["error"]["interaction_id"]
        messages = (await client.get(f"/interactions/{interaction}/messages")).json()
        assert {m["status"] for m in messages} == {"failed"}


def died_during_add_2_and_3(
    database_url: str, record: Callable[[Any, uuid.UUID, CallResult], object]
) -> tuple[Any, Any]:
    """A message ("add 2 and 3") claimed by a process that died (its lease already expired)
    after ``record`` stored its call ``add(a=2, b=3)``; (interaction, message)."""
    db = Database(database_url)
    upgrade(db)
    dead = DEAD
    with db.write_session() as s:
        interaction = data.create_interaction(session=s, interaction_in=InteractionCreate())
        message = data.add_user_message(session=s, interaction_id=interaction.id,
                                        content="add 2 and 3")
    with db.write_session() as s:
        claimed = data.claim_message(session=s, message_id=message.id, lease=dead)
        assert claimed is not None
        key = call_key(str(message.id), "add", {"a": 2, "b": 3}, 0)
        record(s, claimed[1].id, CallResult(id="c1", name="add", arguments={"a": 2, "b": 3},
                                            status="ok", idempotency_key=key))
    db.dispose()
    return interaction, message


async def test_an_expired_lease_is_taken_up_and_its_executed_calls_not_rerun(
    database_url: str, tmp_path: Path
) -> None:
    """A process died mid-message after running a tool: the sweep hands the message back once
    its lease expires, and the resumed run answers from the recorded call."""
    interaction, message = died_during_add_2_and_3(
        database_url, lambda s, reply, call: data.add_tool_call(
            session=s, message_id=reply, call=replace(call, result=99)))  # 99: not re-run

    settings = settings_for(tmp_path, lease_seconds=0.6)
    model = GatedModel(ScriptedModel(adder))
    model.gate.set()
    app = create_app(engine=Engine(make_registry(), model=model, settings=settings),
                     database_url=database_url, settings=settings)
    async for client in start(app):
        api = Api(client=client, app=app, model=model, database_url=database_url)
        done = await wait_for_status(api, str(interaction.id), str(message.id), "done", "failed")
        assert done["status"] == "done"
        detail = (await client.get(f"/interactions/{interaction.id}")).json()
    [reply] = [m for m in detail["messages"] if m["role"] == "assistant"]
    assert reply["content"] == "The sum is 99." and len(reply["tool_calls"]) == 1


async def test_a_call_that_was_running_when_its_process_died_is_never_run_again(
    database_url: str, tmp_path: Path
) -> None:
    """The process died during the tool call (the row says ``running``): the resumed message
    does not run it a second time; the call ends as an ``interrupted`` error, the message
    ``done`` with an answer that says so."""
    interaction, message = died_during_add_2_and_3(
        database_url, lambda s, reply, call: data.begin_tool_call(
            session=s, message_id=reply, call=call, lease=DEAD))

    ran: list[int] = []
    registry = Registry()
    registry.use_index(ToolIndex(embedder=None))

    def add(a: int, b: int) -> int:
        """Add two whole numbers.

        Args:
            a: the first number
            b: the second number
        """
        ran.append(a + b)
        return a + b

    registry.register(add, answer="The sum is {result}.")
    settings = settings_for(tmp_path, lease_seconds=0.6)
    model = GatedModel(ScriptedModel(adder))
    model.gate.set()
    app = create_app(engine=Engine(registry, model=model, settings=settings),
                     database_url=database_url, settings=settings)
    async for client in start(app):
        api = Api(client=client, app=app, model=model, database_url=database_url)
        done = await wait_for_status(api, str(interaction.id), str(message.id), "done", "failed")
        detail = (await client.get(f"/interactions/{interaction.id}")).json()
    assert done["status"] == "done" and ran == []
    [reply] = [m for m in detail["messages"] if m["role"] == "assistant"]
    [call] = reply["tool_calls"]
    assert call["status"] == "error" and call["error"]["type"] == "interrupted"
    assert "not run again" in reply["content"]


async def test_a_hung_tool_does_not_hold_up_the_next_request(database_url: str, tmp_path: Path) -> None:
    RELEASE.clear()
    registry = make_registry()
    registry.register(hang, timeout=10.0)  # past the wait for all 20 on a loaded box

    def hang_or_add(request: Any) -> Any:
        from toolwire.models.base import Completion, ToolCallRequest

        if request.tools and "wait" in request.messages[-1].content:
            return Completion(tool_calls=[ToolCallRequest(id=uuid.uuid4().hex, name="hang",
                                                          arguments={"seconds": 100})])
        return adder(request)

    settings = settings_for(tmp_path)
    model = ScriptedModel(hang_or_add)
    app = create_app(engine=Engine(registry, model=model, settings=settings),
                     database_url=database_url, settings=settings)
    try:
        async for client in start(app):
            hung = [asyncio.create_task(client.post("/execute", json={"prompt": "wait"}))
                    for _ in range(20)]
            for _ in range(300):  # until all 20 hang in the tool (up to 30 s on a loaded box)
                health = (await client.get("/healthz")).json()
                if health["components"]["tools"]["detail"]["active"] >= 20:
                    break
                await asyncio.sleep(0.1)
            assert health["components"]["tools"]["detail"]["active"] >= 20
            normal = await client.post("/execute", json={"prompt": "add 2 and 40"})
            assert normal.status_code == 200 and normal.json()["answer"] == "The sum is 42."
            assert not any(task.done() for task in hung)
            results = await asyncio.gather(*hung)
            assert {r.json()["calls"][0]["status"] for r in results} == {"timeout"}
            metrics = (await client.get("/metrics")).text
            assert "toolwire_tool_threads_abandoned" in metrics
    finally:
        RELEASE.set()


async def test_the_app_serves_503_until_a_late_database_arrives(tmp_path: Path) -> None:
    """Start-up never dies on the database: 503 while it is away, served once it is there."""
    blocker = tmp_path / "late.db"
    blocker.mkdir()  # a folder where the database file must be: it cannot be opened
    url = f"sqlite:///{blocker}"
    settings = settings_for(tmp_path)
    app = create_app(engine=Engine(make_registry(), model=ScriptedModel(adder), settings=settings),
                     database_url=url, settings=settings)
    async for client in start(app, ready=False):
        early = await client.post("/execute", json={"prompt": "add 1 and 2"})
        assert early.status_code == 503
        assert early.json()["error"]["code"] == "database_unavailable"
        blocker.rmdir()
        for _ in range(300):  # up to 30 s on a loaded machine
            if (await client.get("/healthz")).status_code == 200:
                break
            await asyncio.sleep(0.1)
        late = await client.post("/execute", json={"prompt": "add 1 and 2"})
        assert late.status_code == 200 and late.json()["answer"] == "The sum is 3."
    assert isinstance(client, httpx.AsyncClient)
