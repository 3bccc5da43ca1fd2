"""Exactly once where the tool allows it: which tools are ``idempotent`` (the decorator, HTTP
methods, MCP hints, the built-ins), the ``call_key`` a handler asks for, and what a message
taken up after its process died does with the call that process was running: an idempotent
tool's runs again in its row, under the same key; any other ends ``interrupted``."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from mcp import types

from tests.unit.test_mcp_sources import FakeConnection
from toolwire.builtin import default_registry
from toolwire.config import Settings
from toolwire.engine import Engine
from toolwire.models.base import Completion, ToolCallRequest
from toolwire.models.scripted import Request, ScriptedModel
from toolwire.retrieval import ToolIndex
from toolwire.run import CallResult, call_key
from toolwire.service.engines import Engines
from toolwire.service.metrics import Metrics
from toolwire.service.processing import Processor
from toolwire.sources.mcp import is_idempotent, mcp_tools
from toolwire.sources.openapi import METHODS, OpenApiSource, openapi_tools
from toolwire.store import data
from toolwire.store.db import Database
from toolwire.store.tables import InteractionCreate, ToolCall
from toolwire.store.tables import Message as StoredMessage
from toolwire.tools.dispatch import dispatch
from toolwire.tools.registry import Registry
from toolwire.tools.sandbox import _Described, _proxy
from toolwire.tools.sandbox_child import _description

looked_up: list[tuple[str, str]] = []
noted: list[str] = []
DEAD = data.Lease(owner="dead-process", seconds=-1)
"""The lease of a process that died: it expired at once."""


def look_up(text: str, call_key: str) -> str:
    """Look a word up.

    Args:
        text: the word
    """
    looked_up.append((text, call_key))
    return f"found {text}"


def take_note(text: str) -> str:
    """Write a note down.

    Args:
        text: what to note
    """
    noted.append(text)
    return f"noted {text}"


# -- which tools are idempotent ---------------------------------------------------------------
def test_the_decorator_marks_a_tool_idempotent_and_hides_call_key() -> None:
    registry = Registry()
    registry.tool(idempotent=True)(look_up)
    registry.tool(take_note)
    lookup, note = registry.get("look_up"), registry.get("take_note")
    assert (lookup.idempotent, lookup.takes_call_key) == (True, True)
    assert (note.idempotent, note.takes_call_key) == (False, False)
    assert lookup.parameters["properties"].keys() == {"text"}
    assert lookup.parameters["required"] == ["text"]


async def test_dispatch_hands_the_handler_its_call_key() -> None:
    looked_up.clear()
    registry = Registry()
    registry.register(look_up, idempotent=True)
    given = await dispatch(registry, "look_up", {"text": "a"}, call_key="key-1")
    fresh = await dispatch(registry, "look_up", {"text": "b"})
    assert (given.status, given.result) == ("ok", "found a")
    assert fresh.ok and looked_up[0] == ("a", "key-1")
    assert looked_up[1][0] == "b" and len(looked_up[1][1]) == 32  # a fresh key
    forged = await dispatch(registry, "look_up", {"text": "c", "call_key": "mine"})
    assert forged.status == "invalid"  # the model cannot choose the key
    assert len(looked_up) == 2


def test_a_sandboxed_tool_keeps_idempotent_and_call_key() -> None:
    tool = Registry().register(look_up, idempotent=True)
    proxy = _proxy(_Described.model_validate(_description(tool)), "tests")
    assert (proxy.idempotent, proxy.takes_call_key, proxy.sandbox) == (True, True, True)


def test_http_methods_that_are_idempotent_by_their_semantics() -> None:
    operations = {m: {"operationId": m, "responses": {"200": {"description": "ok"}}}
                  for m in METHODS}
    document = {"openapi": "3.0.3", "info": {"title": "Methods", "version": "1"},
                "paths": {"/things/{id}": {
                    "parameters": [{"name": "id", "in": "path", "required": True,
                                    "schema": {"type": "string"}}], **operations}}}
    tools = openapi_tools(OpenApiSource(document=document, base_url="https://api.example"))
    assert {t.name: t.idempotent for t in tools} == {
        "get": True, "head": True, "options": True, "trace": True, "put": True,
        "delete": True, "post": False, "patch": False,
    }


def _mcp_tool(name: str, **hints: Any) -> types.Tool:
    annotations = types.ToolAnnotations(**hints) if hints else None
    return types.Tool(name=name, inputSchema={"type": "object", "properties": {}},
                      annotations=annotations)


def test_mcp_tools_marked_idempotent_or_read_only() -> None:
    specs = [
        _mcp_tool("bare"),
        _mcp_tool("idempotent", idempotentHint=True),
        _mcp_tool("read_only", readOnlyHint=True),
        _mcp_tool("not_idempotent", idempotentHint=False, destructiveHint=False),
    ]
    tools = mcp_tools(FakeConnection(specs))  # type: ignore[arg-type]
    assert {t.name: t.idempotent for t in tools} == {
        "bare": False, "idempotent": True, "read_only": True, "not_idempotent": False,
    }
    assert [is_idempotent(spec) for spec in specs] == [False, True, True, False]


def test_the_built_in_lookups_are_idempotent_and_open_app_is_not() -> None:
    flags = {t.name: t.idempotent for t in default_registry()}
    assert flags["open_app"] is False
    for name in ("calculate", "convert_currency", "get_time", "convert_timezone",
                 "convert_units", "get_weather"):
        assert flags[name] is True, name


def test_the_flag_is_shown_to_api_clients_and_mcp_clients(tmp_path: Any) -> None:
    from fastapi.testclient import TestClient

    from toolwire.api.app import create_app
    from toolwire.mcp_server import mcp_tool

    registry = default_registry()
    assert mcp_tool(registry.get("get_time")).annotations.idempotentHint is True  # type: ignore[union-attr]
    assert mcp_tool(registry.get("open_app")).annotations is None
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'tools.db'}", auth="off")
    app = create_app(registry=registry, settings=settings, recover=False)
    with TestClient(app) as client:
        answer = client.get("/tools")
        assert answer.status_code == 200, answer.text
        shown = {t["name"]: t["idempotent"] for t in answer.json()}
    assert shown["get_time"] is True and shown["open_app"] is False


# -- what recovery does with the call a dead process was running -------------------------------
def respond(request: Request) -> Completion:
    """Look up (or note, when the prompt says so) the prompt's last word, then say so."""
    if request.tools:
        words = request.messages[-1].content.split()
        name = "take_note" if "note" in words else "look_up"
        return Completion(tool_calls=[ToolCallRequest(id="", name=name,
                                                      arguments={"text": words[-1]})])
    return Completion(text="Done.")


def processor(database: Database) -> Processor:
    registry = Registry()
    registry.use_index(ToolIndex(embedder=None))
    registry.register(look_up, idempotent=True, keywords=("look up",))
    registry.register(take_note, keywords=("note",))
    settings = Settings(model="scripted")
    engine = Engine(registry, model=ScriptedModel(respond), settings=settings)
    return Processor(database=database, metrics=Metrics(), lease_seconds=30,
                     engines=Engines(settings=settings, engine=engine))


def died_during(database: Database, content: str, name: str, text: str) -> tuple[
        StoredMessage, StoredMessage, ToolCall]:
    """A message whose process began the call ``name(text=text)`` and died (its lease has
    expired): (prompt, reply, the call's row, ``running``)."""
    with database.write_session() as s:
        interaction = data.create_interaction(session=s, interaction_in=InteractionCreate())
        message = data.add_user_message(session=s, interaction_id=interaction.id,
                                        content=content)
    with database.write_session() as s:
        claimed = data.claim_message(session=s, message_id=message.id, lease=DEAD)
        assert claimed is not None
        key = call_key(str(message.id), name, {"text": text}, 0)
        row = data.begin_tool_call(
            session=s, message_id=claimed[1].id, lease=DEAD,
            call=CallResult(id="c1", name=name, arguments={"text": text}, status="ok",
                            idempotency_key=key))
    return message, claimed[1], row


def calls_of(database: Database, reply_id: uuid.UUID) -> list[ToolCall]:
    with database.session() as s:
        return data.list_tool_calls(session=s, message_ids=[reply_id])[reply_id]


async def taken_up(database: Database, message: StoredMessage) -> StoredMessage:
    """The sweep hands the dead process's message back and a live processor runs it."""
    live = processor(database)
    assert await live.sweep() == (1, 0)
    outcome = await live.process_message(message.id)
    assert outcome is not None and outcome.error is None, outcome
    return outcome.reply


async def test_an_idempotent_call_cut_by_a_dead_process_runs_again_once_with_its_key(
    database: Database,
) -> None:
    looked_up.clear()
    message, reply, begun = died_during(database, "please look up hello", "look_up", "hello")
    done = await taken_up(database, message)
    assert looked_up == [("hello", begun.idempotency_key)]  # once more, the same key
    [row] = calls_of(database, reply.id)
    assert (row.id, row.status, row.result, row.error) == (begun.id, "ok", "found hello", None)
    assert f"call_key={begun.idempotency_key!r}" in (row.snippet or "")
    assert done.status == "done"


async def test_any_other_call_cut_by_a_dead_process_is_never_run_again(
    database: Database,
) -> None:
    noted.clear()
    message, reply, begun = died_during(database, "please note hello", "take_note", "hello")
    done = await taken_up(database, message)
    assert noted == []
    [row] = calls_of(database, reply.id)
    assert row.id == begun.id and row.status == "error"
    assert row.error is not None and row.error["type"] == "interrupted"
    assert done.status == "done" and "not run again" in done.content


async def test_an_idempotent_call_the_new_run_does_not_make_ends_interrupted(
    database: Database,
) -> None:
    """The model, asked again, chose another call: the one cut short is not run again."""
    looked_up.clear()
    message, reply, begun = died_during(database, "please look up hello", "look_up", "bye")
    await taken_up(database, message)
    assert looked_up == [("hello", call_key(str(message.id), "look_up", {"text": "hello"}, 0))]
    rows = {row.id: row for row in calls_of(database, reply.id)}
    cut = rows[begun.id]
    assert len(rows) == 2 and cut.status == "error"
    assert cut.error is not None and cut.error["type"] == "interrupted"


def test_the_decision_is_per_call_and_needs_a_key(database: Database) -> None:
    _, reply, begun = died_during(database, "please look up hello", "look_up", "hello")
    with database.write_session() as s:  # a call without a key cannot be matched again
        keyless = data.begin_tool_call(session=s, message_id=reply.id, lease=DEAD,
                                       call=CallResult(id="c2", name="look_up",
                                                       arguments={"text": "x"}, status="ok"))
    with database.write_session() as s:
        again, ended = data.interrupt_running_calls(
            session=s, reply_id=reply.id, runs_again=lambda row: row.name == "look_up")
    assert [row.id for row in again] == [begun.id]
    assert [(row.id, row.status) for row in ended] == [(keyless.id, "error")]


def test_a_call_is_run_again_only_under_a_held_lease(database: Database) -> None:
    _, reply, begun = died_during(database, "please look up hello", "look_up", "hello")
    with pytest.raises(data.LeaseLost), database.write_session() as s:
        data.restart_tool_call(session=s, reply_id=reply.id, row_id=begun.id,
                               lease=data.Lease(owner="someone-else", seconds=30))
    [row] = calls_of(database, reply.id)
    assert (row.status, row.started) == ("running", begun.started)
