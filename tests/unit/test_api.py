"""The REST API in process (httpx over ASGI, lifespan run) on SQLite and PostgreSQL.

The engine is real; only the model is scripted: it asks for ``add`` with the two numbers
of the prompt and answers from the function result the pipeline hands back.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from toolwire.api.app import create_app
from toolwire.config import Settings
from toolwire.engine import Engine
from toolwire.models.base import (
    Capabilities,
    Completion,
    Constraint,
    JsonSchemaConstraint,
    Message,
    Model,
    ModelError,
    ToolCallRequest,
    ToolSpec,
)
from toolwire.models.base import Settings as ModelSettings
from toolwire.models.scripted import Request, ScriptedModel
from toolwire.retrieval import ToolIndex
from toolwire.tools import Registry


def add(a: int, b: int) -> int:
    """Add two whole numbers.

    Args:
        a: the first number
        b: the second number
    """
    return a + b


def adder(request: Request) -> Completion:
    """The scripted model: call ``add`` on the prompt's numbers (a tool call, or the plain
    strategy's JSON list of calls), then state the result."""
    last = request.messages[-1]
    numbers = [int(n) for n in re.findall(r"-?\d+", last.content)]
    if isinstance(request.constraint, JsonSchemaConstraint):
        if len(numbers) < 2:
            return Completion(text="[]")
        wanted = [{"name": "add", "arguments": {"a": numbers[0], "b": numbers[1]}}]
        return Completion(text=json.dumps(wanted))
    if request.tools:
        if len(numbers) < 2:
            return Completion(text="Give me two numbers to add.")
        call = ToolCallRequest(id=f"call_{uuid.uuid4().hex[:8]}", name="add",
                               arguments={"a": numbers[0], "b": numbers[1]})
        return Completion(tool_calls=[call])
    returned = re.search(r"\(Result: (\S+?)\)", last.content)
    return Completion(text=f"The sum is {returned.group(1)}." if returned else "Done.")


def make_registry() -> Registry:
    registry = Registry()
    registry.use_index(ToolIndex(embedder=None))
    registry.register(add, answer="The sum is {result}.")
    return registry


class GatedModel(Model):
    """A scripted model that waits for ``gate`` before answering (to observe ``running``)."""

    capabilities = Capabilities(tools=True, parallel=True)

    def __init__(self, inner: ScriptedModel, *, free: int = 0) -> None:
        self.inner = inner
        self.free = free
        """How many requests pass before the gate applies."""
        self.name = inner.name
        self.gate = asyncio.Event()
        self.fail_with: Exception | None = None

    async def complete(
        self, messages: list[Message], *, tools: list[ToolSpec] | None = None,
        constraint: Constraint | None = None, settings: ModelSettings | None = None,
    ) -> Completion:
        if len(self.inner.requests) >= self.free:
            await self.gate.wait()
        if self.fail_with is not None:
            raise self.fail_with
        return await self.inner.complete(messages, tools=tools, constraint=constraint,
                                         settings=settings)


@dataclass(kw_only=True)
class Api:
    client: httpx.AsyncClient
    app: FastAPI
    model: GatedModel
    database_url: str


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    overrides.setdefault("shutdown_grace", 0.2)
    overrides.setdefault("auth", "off")  # create_app requires keys unless told it is on loopback
    return Settings(home=tmp_path, model="scripted", **overrides)


async def start(app: FastAPI, *, ready: bool = True) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan running; ``ready``: once its database is migrated (on a
    loaded machine that can take longer than the five seconds start-up waits for it)."""
    async with app.router.lifespan_context(app):
        for _ in range(600 if ready else 0):
            if app.state.toolwire.database_ready:
                break
            await asyncio.sleep(0.1)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://toolwire") as client:
            yield client


@pytest.fixture
async def api(database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    model = GatedModel(ScriptedModel(adder))
    model.gate.set()
    settings = settings_for(tmp_path, max_prompt_chars=200)
    engine = Engine(make_registry(), model=model, settings=settings)
    app = create_app(engine=engine, database_url=database_url, settings=settings)
    async for client in start(app):
        yield Api(client=client, app=app, model=model, database_url=database_url)


async def wait_for_status(api: Api, interaction_id: str, message_id: str, *statuses: str) -> dict[str, Any]:
    url = f"/interactions/{interaction_id}/messages/{message_id}"
    for _ in range(1000):  # up to 20 s on a loaded machine; usually a few polls
        message: dict[str, Any] = (await api.client.get(url)).json()
        if message["status"] in statuses:
            return message
        await asyncio.sleep(0.02)
    raise AssertionError(f"message stayed {message['status']}")


# -- /execute -------------------------------------------------------------------------------
async def test_execute_runs_stores_and_shows_the_call(api: Api) -> None:
    response = await api.client.post("/execute", json={"prompt": "add 2 and 40"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["answer"] == "The sum is 42."
    [call] = body["calls"]
    assert (call["name"], call["arguments"], call["status"], call["result"]) == (
        "add", {"a": 2, "b": 40}, "ok", 42)
    assert "add(a=2, b=40)" in call["snippet"] and call["attempts"][0]["errors"] == []

    detail = (await api.client.get(f"/interactions/{body['interaction_id']}")).json()
    user, reply = detail["messages"]
    assert (user["id"], user["role"], user["content"], user["status"]) == (
        body["message_id"], "user", "add 2 and 40", "done")
    assert (reply["id"], reply["reply_to_id"], reply["content"]) == (
        body["reply_id"], body["message_id"], "The sum is 42.")
    assert reply["tool_calls"] == body["calls"]
    assert reply["tool_calls"][0]["started"] <= reply["tool_calls"][0]["finished"]


async def test_execute_continues_an_interaction_with_its_history(api: Api) -> None:
    first = (await api.client.post("/execute", json={"prompt": "add 1 and 2"})).json()
    second = await api.client.post(
        "/execute", json={"prompt": "now add 3 and 4", "interaction_id": first["interaction_id"]}
    )
    assert second.json()["interaction_id"] == first["interaction_id"]
    asked = next(r.messages for r in reversed(api.model.inner.requests)  # its call proposal
                 if any(m.content == "now add 3 and 4" for m in r.messages))
    assert [(m.role, m.content) for m in asked if m.role != "tool"] == [
        ("user", "add 1 and 2"), ("assistant", ""), ("assistant", "The sum is 3."),
        ("user", "now add 3 and 4"),
    ]
    tool_message = next(m for m in asked if m.role == "tool")
    assert tool_message.content == '{"result": 3}' and tool_message.name == "add"


async def test_execute_without_a_call_stores_the_plain_answer(api: Api) -> None:
    body = (await api.client.post("/execute", json={"prompt": "add nothing"})).json()
    assert body["calls"] == [] and body["answer"] == "Give me two numbers to add."


async def test_execute_model_failure_is_stored_and_reported(api: Api) -> None:
    api.model.fail_with = ModelError("scripted", "backend down")
    response = await api.client.post("/execute", json={"prompt": "add 1 and 2"})
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "model_error" and "backend down" in error["message"]
    detail = (await api.client.get(f"/interactions/{error['interaction_id']}")).json()
    assert {(m["role"], m["status"]) for m in detail["messages"]} == {
        ("user", "failed"), ("assistant", "failed")}
    assert "backend down" in detail["messages"][0]["error"]


async def test_execute_unexpected_failure_is_500_without_traceback(api: Api) -> None:
    api.model.fail_with = RuntimeError("kaboom")
    response = await api.client.post("/execute", json={"prompt": "add 1 and 2"})
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "execution_failed"
    assert "Traceback" not in response.text


# -- background messages --------------------------------------------------------------------
async def test_posted_message_goes_pending_running_done(api: Api) -> None:
    interaction = (await api.client.post("/interactions", json={"system_prompt": "Be brief."})).json()
    api.model.gate.clear()
    response = await api.client.post(
        f"/interactions/{interaction['id']}/messages", json={"content": "add 20 and 22"}
    )
    assert response.status_code == 202
    accepted = response.json()
    assert accepted["status"] == "pending"
    assert response.headers["location"].endswith(accepted["id"])

    running = await wait_for_status(api, interaction["id"], accepted["id"], "running")
    assert running["error"] is None
    api.model.gate.set()
    done = await wait_for_status(api, interaction["id"], accepted["id"], "done", "failed")
    assert done["status"] == "done"

    messages = (await api.client.get(f"/interactions/{interaction['id']}/messages")).json()
    assert [(m["role"], m["status"]) for m in messages] == [("user", "done"), ("assistant", "done")]
    assert messages[1]["content"] == "The sum is 42."
    assert messages[1]["tool_calls"][0]["result"] == 42
    assert api.model.inner.requests[0].messages[0].content == "Be brief."


async def test_tool_calls_appear_before_the_answer(database_url: str, tmp_path: Path) -> None:
    model = GatedModel(ScriptedModel(adder), free=1)  # proposes the call, then waits to describe
    settings = settings_for(tmp_path, answer_style="model")  # the model words the result
    app = create_app(engine=Engine(make_registry(), model=model, settings=settings),
                     database_url=database_url, settings=settings)
    async for client in start(app):
        interaction = (await client.post("/interactions", json={})).json()
        url = f"/interactions/{interaction['id']}/messages"
        await client.post(url, json={"content": "add 3 and 4"})
        for _ in range(1000):  # up to 20 s on a loaded machine, like wait_for_status
            messages = (await client.get(url)).json()
            calls = messages[1]["tool_calls"] if len(messages) == 2 else []
            if calls and calls[0]["status"] != "running":  # stored as running, then its outcome
                break
            await asyncio.sleep(0.02)
        user, reply = messages
        assert (user["status"], reply["status"], reply["content"]) == ("running", "running", "")
        assert reply["tool_calls"][0]["result"] == 7
        model.gate.set()
        api = Api(client=client, app=app, model=model, database_url=database_url)
        await wait_for_status(api, interaction["id"], user["id"], "done")
        [call] = (await client.get(url)).json()[1]["tool_calls"]
        assert call == reply["tool_calls"][0]


async def test_posted_message_failure_is_recorded(api: Api) -> None:
    interaction = (await api.client.post("/interactions", json={})).json()
    api.model.fail_with = ModelError("scripted", "no capacity")
    accepted = (await api.client.post(
        f"/interactions/{interaction['id']}/messages", json={"content": "add 1 and 1"}
    )).json()
    failed = await wait_for_status(api, interaction["id"], accepted["id"], "done", "failed")
    assert failed["status"] == "failed" and "no capacity" in failed["error"]


async def test_shutdown_hands_unfinished_work_back(database_url: str, tmp_path: Path) -> None:
    """A clean stop past its grace hands the running message back (``pending``, the attempt
    not counted); the next start finishes it."""
    model = GatedModel(ScriptedModel(adder))
    settings = settings_for(tmp_path)
    app = create_app(engine=Engine(make_registry(), model=model, settings=settings),
                     database_url=database_url, settings=settings)
    async for client in start(app):
        interaction = (await client.post("/interactions", json={})).json()
        accepted = (await client.post(f"/interactions/{interaction['id']}/messages",
                                      json={"content": "add 1 and 1"})).json()
        await asyncio.sleep(0.2)
        url = f"/interactions/{interaction['id']}/messages/{accepted['id']}"
        assert (await client.get(url)).json()["status"] == "running"
    app = create_app(engine=Engine(make_registry(), model=model, settings=settings),
                     database_url=database_url, settings=settings, recover=False)
    async for client in start(app):
        message = (await client.get(url)).json()
    assert message["status"] == "pending"
    model.gate.set()
    app = create_app(engine=Engine(make_registry(), model=model, settings=settings),
                     database_url=database_url, settings=settings)
    async for client in start(app):
        api = Api(client=client, app=app, model=model, database_url=database_url)
        done = await wait_for_status(api, interaction["id"], accepted["id"], "done", "failed")
    assert done["status"] == "done"
    replies = [m for m in (await _messages(database_url, interaction["id"])) if m.role == "assistant"]
    assert len(replies) == 1 and replies[0].content == "The sum is 2."


async def _messages(database_url: str, interaction_id: str) -> list[Any]:
    from toolwire.store import data
    from toolwire.store.db import Database

    db = Database(database_url)
    try:
        return db.read_sync(
            lambda s: data.list_messages(session=s, interaction_id=uuid.UUID(interaction_id))
        )
    finally:
        db.dispose()


async def test_pending_messages_are_resumed_on_startup(database_url: str, tmp_path: Path) -> None:
    from toolwire.store import data
    from toolwire.store.db import Database
    from toolwire.store.migrate import upgrade
    from toolwire.store.tables import InteractionCreate

    db = Database(database_url)
    upgrade(db)
    with db.write_session() as s:  # accepted by a process that died before working on it
        interaction = data.create_interaction(session=s, interaction_in=InteractionCreate())
        message = data.add_user_message(session=s, interaction_id=interaction.id, content="add 5 and 6")
    db.dispose()
    settings = settings_for(tmp_path)
    model = GatedModel(ScriptedModel(adder))
    model.gate.set()
    app = create_app(engine=Engine(make_registry(), model=model, settings=settings),
                     database_url=database_url, settings=settings)
    async for client in start(app):
        api = Api(client=client, app=app, model=model, database_url=database_url)
        done = await wait_for_status(api, str(interaction.id), str(message.id), "done", "failed")
        assert done["status"] == "done"


async def test_any_worker_can_process_a_message_once(api: Api) -> None:
    """Workers with their own connection pools (as separate processes) race for messages."""
    from toolwire.service.processing import Processor
    from toolwire.store import data
    from toolwire.store.db import Database

    state = api.app.state.toolwire
    interaction = (await api.client.post("/interactions", json={})).json()

    def store(s: Any) -> Any:
        return data.add_user_message(session=s, interaction_id=uuid.UUID(interaction["id"]),
                                     content="add 2 and 2")

    messages = [await state.database.write(store) for _ in range(3)]
    pools = [Database(api.database_url) for _ in range(2)]
    workers = [Processor(database=db, engines=state.engines, metrics=state.metrics) for db in pools]
    try:
        outcomes = await asyncio.gather(*(
            worker.process_message(m.id) for m in messages for worker in (*workers, state.processor)
        ))
    finally:
        for db in pools:
            db.dispose()
    finished = [o.message.id for o in outcomes if o is not None]
    # The app's own processor also sweeps the table in the background and may claim one of
    # these first; what must hold is that no message is processed twice and all finish.
    assert len(finished) == len(set(finished)) and set(finished) <= {m.id for m in messages}
    for m in messages:
        await wait_for_status(api, interaction["id"], str(m.id), "done")
    stored = (await api.client.get(f"/interactions/{interaction['id']}/messages")).json()
    assert len(stored) == 6 and {m["status"] for m in stored} == {"done"}
    replies = [m for m in stored if m["role"] == "assistant"]
    assert {m["content"] for m in replies} == {"The sum is 4."}


# -- interactions ---------------------------------------------------------------------------
async def test_interactions_crud_and_paging(api: Api) -> None:
    created = [
        (await api.client.post("/interactions", json={"system_prompt": f"p{i}", "settings": {"i": i}})).json()
        for i in range(3)
    ]
    assert created[0]["settings"] == {"i": 0} and created[0]["model"] is None
    page = (await api.client.get("/interactions", params={"limit": 2})).json()
    assert page["total"] == 3 and page["limit"] == 2
    assert [i["id"] for i in page["items"]] == [created[2]["id"], created[1]["id"]]
    rest = (await api.client.get("/interactions", params={"limit": 2, "offset": 2})).json()
    assert [i["id"] for i in rest["items"]] == [created[0]["id"]]

    assert (await api.client.delete(f"/interactions/{created[1]['id']}")).status_code == 204
    assert (await api.client.get(f"/interactions/{created[1]['id']}")).status_code == 404
    assert (await api.client.delete(f"/interactions/{created[1]['id']}")).status_code == 404


# -- bad input ------------------------------------------------------------------------------
async def test_unknown_ids_are_404(api: Api) -> None:
    missing = str(uuid.uuid4())
    for method, url, body in [
        ("GET", f"/interactions/{missing}", None),
        ("GET", f"/interactions/{missing}/messages", None),
        ("POST", f"/interactions/{missing}/messages", {"content": "hi"}),
        ("POST", "/execute", {"prompt": "add 1 and 2", "interaction_id": missing}),
    ]:
        response = await api.client.request(method, url, json=body)
        assert response.status_code == 404, (url, response.text)
        assert response.json()["error"]["code"] == "not_found"
    assert (await api.client.get("/nowhere")).json()["error"]["code"] == "not_found"


async def test_malformed_bodies_are_422_with_the_field(api: Api) -> None:
    response = await api.client.post("/execute", json={"promt": "typo"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert {"field": "body.prompt", "reason": "Field required"} in error["fields"]
    assert "body.prompt" in error["message"]
    response = await api.client.post("/execute", json={"prompt": "   "})
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "body.prompt"
    interaction = (await api.client.post("/interactions", json={})).json()
    response = await api.client.post(f"/interactions/{interaction['id']}/messages", json={"content": ""})
    assert response.status_code == 422 and "body.content" in response.json()["error"]["message"]
    response = await api.client.post("/execute", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422
    response = await api.client.get("/interactions/not-a-uuid")
    assert response.status_code == 422 and "interaction_id" in response.json()["error"]["message"]
    assert (await api.client.get("/interactions", params={"limit": 0})).status_code == 422


async def test_oversized_prompts_are_413_and_not_stored(api: Api) -> None:
    response = await api.client.post("/execute", json={"prompt": "x" * 201})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "prompt_too_large"
    interaction = (await api.client.post("/interactions", json={})).json()
    response = await api.client.post(f"/interactions/{interaction['id']}/messages", json={"content": "y" * 201})
    assert response.status_code == 413
    assert (await api.client.get("/interactions")).json()["total"] == 1


async def test_client_models_are_restricted(api: Api) -> None:
    for model in ("scripted:os:getcwd", "local:/etc/passwd", "openai:gpt@http://10.0.0.1", "nope"):
        response = await api.client.post("/execute", json={"prompt": "add 1 and 2", "model": model})
        assert response.status_code == 422, model
        assert response.json()["error"]["code"] == "model_not_allowed"
    response = await api.client.post("/interactions", json={"model": "scripted:os:getcwd"})
    assert response.status_code == 422


@pytest.mark.parametrize("url", [
    "postgresql+psycopg://postgres@127.0.0.1:1/none", "sqlite:////dev/null/cannot/be.db"])
async def test_unreachable_database_is_503(url: str, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    app = create_app(
        engine=Engine(make_registry(), model=ScriptedModel(adder), settings=settings),
        database_url=url, settings=settings, auto_migrate=False, recover=False,
    )
    async for client in start(app, ready=False):  # the app starts all the same
        for response in [
            await client.get("/interactions"),
            await client.post("/execute", json={"prompt": "add 1 and 2"}),
        ]:
            assert response.status_code == 503
            assert response.json()["error"]["code"] == "database_unavailable"
            assert "psycopg" not in response.text
        health = await client.get("/healthz")
        assert health.status_code == 503 and health.json()["status"] == "unavailable"
        assert health.json()["components"]["database"]["state"] in ("connecting", "unavailable")


# -- tools, health, metrics, docs -----------------------------------------------------------
async def test_tools_list_and_search(api: Api) -> None:
    [tool] = (await api.client.get("/tools")).json()
    assert tool["name"] == "add" and tool["parameters"]["required"] == ["a", "b"]
    hits = (await api.client.get("/tools/search", params={"q": "add two numbers", "k": 3})).json()
    assert [h["name"] for h in hits] == ["add"] and hits[0]["score"] > 0
    assert "description" in hits[0] and "parameters" in hits[0]
    assert (await api.client.get("/tools/search", params={"q": ""})).status_code == 422
    assert (await api.client.get("/tools/search", params={"q": "x", "k": 0})).status_code == 422


async def test_health_metrics_and_docs(api: Api) -> None:
    health = (await api.client.get("/healthz")).json()
    assert health["status"] == "ok" and health["model"] == "scripted"
    await api.client.post("/execute", json={"prompt": "add 1 and 2"})
    await api.client.get(f"/interactions/{uuid.uuid4()}")
    metrics = (await api.client.get("/metrics")).text
    assert 'toolwire_http_requests_total{method="POST",route="/execute",status="200"} 1.0' in metrics
    assert 'route="/interactions/{interaction_id}",status="404"' in metrics
    assert 'toolwire_tool_calls_total{status="ok",tool="add"} 1.0' in metrics
    assert 'toolwire_messages_total{status="done"} 1.0' in metrics
    assert "toolwire_http_request_duration_seconds_bucket" in metrics
    assert (await api.client.get("/docs")).status_code == 200
    paths = (await api.client.get("/openapi.json")).json()["paths"]
    assert {"/execute", "/interactions", "/interactions/{interaction_id}/messages", "/tools/search",
            "/healthz", "/metrics"} <= set(paths)


def test_database_errors_are_described_without_sql_or_parameters() -> None:
    from sqlalchemy.exc import OperationalError

    from toolwire.service.processing import _describe
    from toolwire.store.db import Database

    db = Database("sqlite:////dev/null/cannot/be.db")
    with pytest.raises(OperationalError) as caught:
        db.write_sync(lambda s: s.exec(select_one()))
    db.dispose()
    assert _describe(caught.value) == "database error: OperationalError: unable to open database file"


def select_one() -> Any:
    from sqlalchemy import text

    return text("SELECT 1")


async def test_execute_async_answers_202_and_processes_in_the_background(api: Api) -> None:
    response = await api.client.post("/execute", params={"async": "true"},
                                     json={"prompt": "add 20 and 22"})
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status"] == "pending"
    assert response.headers["location"].endswith(f"/messages/{accepted['id']}")
    assert response.headers["x-request-id"]
    done = await wait_for_status(api, accepted["interaction_id"], accepted["id"], "done")
    assert done["status"] == "done"
    [_, reply] = (await api.client.get(f"/interactions/{accepted['interaction_id']}/messages")).json()
    assert reply["content"] == "The sum is 42."


async def test_a_request_id_is_kept_or_made(api: Api) -> None:
    given = await api.client.get("/interactions", headers={"x-request-id": "abc-123"})
    made = await api.client.get("/interactions", headers={"x-request-id": "bad id!" * 20})
    assert given.headers["x-request-id"] == "abc-123"
    assert made.headers["x-request-id"] != "abc-123" and len(made.headers["x-request-id"]) == 16


async def test_interaction_settings_apply_to_every_run(api: Api) -> None:
    # "plain", not what "auto" picks for this tool-calling model ("native")
    settings = {"temperature": 0.7, "k": 1, "strategy": "plain", "max_tokens": 33, "note": "kept"}
    interaction = (await api.client.post("/interactions", json={"settings": settings})).json()
    assert interaction["settings"] == settings
    url = f"/interactions/{interaction['id']}/messages"
    for prompt in ("add 1 and 2", "write me a poem"):
        accepted = (await api.client.post(url, json={"content": prompt})).json()
        await wait_for_status(api, interaction["id"], accepted["id"], "done")
    asked = api.model.inner.requests
    assert asked and all(r.settings is not None and r.settings.temperature == 0.7 for r in asked)
    assert all(r.settings is not None and r.settings.max_tokens <= 33 for r in asked)
    # the plain strategy: each prompt's calls asked for as one JSON list, never as native tools
    proposals = [r for r in asked if isinstance(r.constraint, JsonSchemaConstraint)]
    assert [r.messages[-1].content for r in proposals] == ["add 1 and 2", "write me a poem"]
    assert all(r.tools is None for r in asked)
    assert all(len(r.constraint.schema["items"].get("anyOf", [None])) == 1  # k = 1 tool offered
               for r in proposals if isinstance(r.constraint, JsonSchemaConstraint))
    [reply] = [m for m in (await api.client.get(url)).json()[:2] if m["role"] == "assistant"]
    assert reply["tool_calls"][0]["result"] == 3 and reply["content"] == "The sum is 3."


@pytest.mark.parametrize("settings", [{"temperature": 5}, {"k": 0}, {"strategy": "magic"},
                                      {"max_tokens": "many"}])
async def test_bad_interaction_settings_are_a_422(api: Api, settings: dict[str, Any]) -> None:
    response = await api.client.post("/interactions", json={"settings": settings})
    assert response.status_code == 422, response.text
    assert (await api.client.get("/interactions")).json()["total"] == 0


async def test_execute_streams_each_step_as_it_happens(api: Api) -> None:
    import json as json_module

    async with api.client.stream("POST", "/execute", params={"stream": "true"},
                                 json={"prompt": "add 2 and 40"}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        raw = "".join([chunk async for chunk in response.aiter_text()])
    events = []
    for block in raw.strip().split("\n\n"):
        kind, data = block.split("\n", 1)
        events.append((kind.removeprefix("event: "), json_module.loads(data.removeprefix("data: "))))
    kinds = [k for k, _ in events]
    assert kinds == ["stored", "retrieved", "selected", "call_proposed", "executed",
                     "answer_delta", "answered", "done"], kinds
    executed = dict(events)["executed"]["call"]
    assert executed["name"] == "add" and executed["result"] == 42 and "add(" in executed["snippet"]
    done = dict(events)["done"]
    assert done["answer"] == "The sum is 42." and done["message_id"] == dict(events)["stored"]["message_id"]
    stored = (await api.client.get(f"/interactions/{done['interaction_id']}/messages")).json()
    assert [m["status"] for m in stored] == ["done", "done"]


async def test_a_posted_message_can_stream_its_steps(api: Api) -> None:
    interaction = (await api.client.post("/interactions", json={})).json()
    url = f"/interactions/{interaction['id']}/messages"
    async with api.client.stream("POST", url, params={"stream": "true"},
                                 json={"content": "add 20 and 22"}) as response:
        assert response.status_code == 200
        raw = "".join([chunk async for chunk in response.aiter_text()])
    kinds = [block.split("\n", 1)[0].removeprefix("event: ") for block in raw.strip().split("\n\n")]
    assert kinds[0] == "stored" and "executed" in kinds and kinds[-1] == "done", kinds
    stored = (await api.client.get(url)).json()
    assert [m["status"] for m in stored] == ["done", "done"]
    assert stored[1]["content"] == "The sum is 42."
