"""POST /v1/chat/completions and GET /v1/models over ASGI, served by a scripted model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import sqlite_url
from tests.unit.openai_compat_fixtures import CONVERT_TOOL, currency_model, grammar_currency_model
from tests.unit.test_api import settings_for, start
from toolwire.api.app import create_app
from toolwire.api.openai_compat import router
from toolwire.engine import Engine
from toolwire.messages import Completion, JsonSchemaConstraint, ToolCallRequest
from toolwire.models.scripted import ScriptedModel
from toolwire.pipeline import EngineConfig
from toolwire.tools import Registry

QUESTION = "I want to exchange 42 US dollars to Canadian dollars"
USER = [{"role": "user", "content": QUESTION}]


def _app(model: ScriptedModel, registry: Registry | None = None, **config: Any) -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    engine_config = EngineConfig(**config) if config else None
    app.state.engine = Engine(registry or Registry(), model=model, config=engine_config)
    return app


async def _post(app: FastAPI, body: dict[str, Any]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.post("/v1/chat/completions", json=body)


def _events(response: httpx.Response) -> list[Any]:
    lines = [line for line in response.text.split("\n\n") if line]
    assert all(line.startswith("data: ") for line in lines)
    return [line[6:] if line == "data: [DONE]" else json.loads(line[6:]) for line in lines]


async def test_one_tool_call() -> None:
    model = currency_model()
    response = await _post(
        _app(model), {"model": "toolwire", "messages": USER, "tools": [CONVERT_TOOL]}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion" and body["model"] == "toolwire"
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    [call] = choice["message"]["tool_calls"]
    assert call["type"] == "function" and call["function"]["name"] == "convert_currency"
    assert json.loads(call["function"]["arguments"]) == {
        "amount": 42.0,
        "from_currency": "USD",
        "to_currency": "CAD",
    }
    assert (
        body["usage"]["total_tokens"]
        == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]
        > 0
    )
    assert (
        model.requests[0].tools[0].name == "convert_currency"
    )  # the request's tools reached the model


async def test_parallel_calls_and_parallel_tool_calls_false() -> None:
    two = [{"role": "user", "content": "Convert 5 euro to yen and 7 pound to US dollar"}]
    body = {"messages": two, "tools": [CONVERT_TOOL]}
    calls = (await _post(_app(currency_model()), body)).json()["choices"][0]["message"][
        "tool_calls"
    ]
    assert [json.loads(c["function"]["arguments"])["amount"] for c in calls] == [5, 7]
    single = (await _post(_app(currency_model()), {**body, "parallel_tool_calls": False})).json()
    assert len(single["choices"][0]["message"]["tool_calls"]) == 1


async def test_tool_choice_none_gives_text_and_named_choice_reaches_the_model() -> None:
    model = currency_model()
    body = (
        await _post(_app(model), {"messages": USER, "tools": [CONVERT_TOOL], "tool_choice": "none"})
    ).json()
    assert body["choices"][0]["message"] == {
        "role": "assistant",
        "content": "I can convert currencies for you.",
        "refusal": None,
    }
    assert body["choices"][0]["finish_reason"] == "stop"
    named = {"type": "function", "function": {"name": "convert_currency"}}
    await _post(_app(model), {"messages": USER, "tools": [CONVERT_TOOL], "tool_choice": named})
    assert model.requests[-1].settings.tool_choice == "convert_currency"


async def test_a_tool_result_gets_a_text_answer() -> None:
    call = {
        "id": "call_0",
        "type": "function",
        "function": {"name": "convert_currency", "arguments": "{}"},
    }
    messages = [
        *USER,
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_0", "content": "131.95 CAD"},
    ]
    body = (
        await _post(_app(currency_model()), {"messages": messages, "tools": [CONVERT_TOOL]})
    ).json()
    assert body["choices"][0]["message"]["content"] == "That is 131.95 CAD."


async def test_streaming_sends_openai_chunks_with_tool_call_deltas() -> None:
    response = await _post(
        _app(currency_model()),
        {
            "messages": USER,
            "tools": [CONVERT_TOOL],
            "stream": True,
            "stream_options": {"include_usage": True},
        },
    )
    assert response.headers["content-type"].startswith("text/event-stream")
    events = _events(response)
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    deltas = [d for c in chunks for ch in c["choices"] for d in ch["delta"].get("tool_calls", [])]
    assert deltas[0]["id"] and deltas[0]["function"]["name"] == "convert_currency"
    arguments = "".join(d["function"]["arguments"] for d in deltas)
    assert json.loads(arguments) == {"amount": 42.0, "from_currency": "USD", "to_currency": "CAD"}
    assert len(deltas) > 2  # the arguments really arrive in pieces
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0


async def test_streaming_text() -> None:
    response = await _post(_app(currency_model()), {"messages": USER, "stream": True})
    chunks = _events(response)[:-1]
    text = "".join(ch["delta"].get("content") or "" for c in chunks for ch in c["choices"])
    assert text == "I can convert currencies for you."
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


@pytest.mark.parametrize(
    ("tool", "param"),
    [
        (
            {
                "type": "function",
                "function": {"name": "bad name!", "parameters": {"type": "object"}},
            },
            "tools[0].function.name",
        ),
        ({"type": "function"}, "tools[0].function"),
        ({"type": "retrieval"}, "tools[0].type"),
        (
            {"type": "function", "function": {"name": "f", "parameters": {"type": "array"}}},
            "tools[0].function.parameters.type",
        ),
        (
            {
                "type": "function",
                "function": {
                    "name": "f",
                    "parameters": {"type": "object", "properties": {"a": {"type": "integr"}}},
                },
            },
            "tools[0].function.parameters.properties.a.type",
        ),
    ],
)
async def test_a_malformed_tool_is_a_400_naming_the_field(tool: dict[str, Any], param: str) -> None:
    response = await _post(
        _app(currency_model()), {"messages": USER, "tools": [CONVERT_TOOL, tool][1:]}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert param in error["message"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "robot", "content": "hi"}]}, "messages[0].role"),
        (
            {
                "messages": USER,
                "tool_choice": {"type": "function", "function": {"name": "nope"}},
                "tools": [CONVERT_TOOL],
            },
            "tool_choice",
        ),
        ({"messages": USER, "stream": "yes"}, "stream"),
        ({"messages": USER, "toolwire": {"execute": "yes"}}, "toolwire.execute"),
    ],
)
async def test_other_bad_requests_name_the_field(body: dict[str, Any], param: str) -> None:
    response = await _post(_app(currency_model()), body)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


async def test_a_model_without_native_calls_gets_them_from_the_engine() -> None:
    app = _app(grammar_currency_model(), strategy="plain", relevance_threshold=0.0)
    body = (await _post(app, {"messages": USER, "tools": [CONVERT_TOOL]})).json()
    [call] = body["choices"][0]["message"]["tool_calls"]
    assert call["function"]["name"] == "convert_currency"
    assert json.loads(call["function"]["arguments"]) == {
        "amount": 42.0,
        "from_currency": "USD",
        "to_currency": "CAD",
    }
    text = (
        await _post(app, {"messages": USER, "tools": [CONVERT_TOOL], "tool_choice": "none"})
    ).json()
    assert text["choices"][0]["message"]["content"] == "I can convert currencies for you."


def _served(model: ScriptedModel, registry: Registry, tmp_path: Path) -> FastAPI:
    """The whole service (database, Processor) on ``model`` and ``registry``: what
    ``toolwire.execute`` runs through."""
    settings = settings_for(tmp_path)
    return create_app(engine=Engine(registry, model=model, settings=settings),
                      database_url=sqlite_url(tmp_path), settings=settings)


async def test_execute_runs_the_registry_tools_server_side_and_stores_the_run(
    tmp_path: Path,
) -> None:
    registry = Registry()

    @registry.tool
    def convert_currency(amount: float, from_currency: str, to_currency: str) -> float:
        """Convert an amount of money from one currency to another."""
        return round(amount * 1.25, 2)

    history = [{"role": "system", "content": "Be brief."}, *USER]
    app = _served(currency_model(), registry, tmp_path)
    async for client in start(app):
        response = await client.post("/v1/chat/completions", json={
            "messages": history, "toolwire": {"execute": True}})
        body = response.json()
        assert body["choices"][0]["finish_reason"] == "stop"
        assert "52.5" in body["choices"][0]["message"]["content"]
        extension = body["toolwire"]
        [call] = extension["calls"]
        assert (call["name"], call["result"], call["status"]) == ("convert_currency", 52.5, "ok")
        assert extension["message_status"] == "done"

        listed = (await client.get("/tool-calls")).json()["items"]
        assert [(c["id"], c["interaction_id"], c["result"]) for c in listed] == [
            (call["tool_call_id"], extension["interaction_id"], 52.5)]
        stored = (await client.get(f"/interactions/{extension['interaction_id']}")).json()
        prompt, reply = stored["messages"]
        assert (prompt["id"], prompt["content"], prompt["status"]) == (
            extension["message_id"], QUESTION, "done")
        assert (reply["id"], reply["content"]) == (
            extension["reply_id"], body["choices"][0]["message"]["content"])
        assert [c["id"] for c in reply["tool_calls"]] == [call["tool_call_id"]]


async def test_the_engines_strategy_decides_not_the_models_capability() -> None:
    """A tool-calling model under the ``plain`` strategy gets the plain strategy's
    JSON-Schema-constrained prompt, not the request's tools."""
    model = currency_model()
    app = _app(model, strategy="plain", relevance_threshold=0.0)
    body = (await _post(app, {"messages": USER, "tools": [CONVERT_TOOL]})).json()
    [call] = body["choices"][0]["message"]["tool_calls"]
    assert json.loads(call["function"]["arguments"])["to_currency"] == "CAD"
    assert model.supports_tools and model.requests[0].tools is None
    assert isinstance(model.requests[0].constraint, JsonSchemaConstraint)


async def test_a_proposed_call_is_checked_against_the_clients_schema() -> None:
    """The model's first call lacks a required argument: the client gets the repaired call,
    never the invalid one."""
    first = ToolCallRequest(id="call_1", name="convert_currency",
                            arguments={"amount": 42, "from_currency": "USD"})
    fixed = ToolCallRequest(id="call_1", name="convert_currency", arguments={
        "amount": 42, "from_currency": "USD", "to_currency": "CAD"})
    model = ScriptedModel([Completion(tool_calls=[first]), Completion(tool_calls=[fixed])])
    body = (await _post(_app(model), {"messages": USER, "tools": [CONVERT_TOOL]})).json()
    [call] = body["choices"][0]["message"]["tool_calls"]
    assert json.loads(call["function"]["arguments"]) == fixed.arguments
    assert len(model.requests) == 2  # the repair was asked for


async def test_a_model_error_is_a_502_in_openai_shape() -> None:
    def fail(_: object) -> Any:
        from toolwire.models.base import ModelError

        raise ModelError("openai", "HTTP 401: bad key", status=401)

    response = await _post(_app(ScriptedModel(fail)), {"messages": USER})
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "model_error"
    assert "bad key" in response.json()["error"]["message"]


async def test_models_lists_the_engine_model() -> None:
    transport = httpx.ASGITransport(app=_app(currency_model()))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        body = (await client.get("/v1/models")).json()
    assert body["object"] == "list"
    assert [m["id"] for m in body["data"]] == ["toolwire", "scripted-currency"]


async def test_a_conversation_over_the_prompt_limit_is_a_413() -> None:
    app = _app(ScriptedModel([]))
    app.state.engine.settings = app.state.engine.settings.model_copy(update={"max_prompt_chars": 100})
    long = [{"role": "user", "content": "x" * 60}, {"role": "assistant", "content": "y" * 60}]
    response = await _post(app, {"model": "toolwire", "messages": long})
    assert response.status_code == 413 and response.json()["error"]["code"] == "prompt_too_large"


async def test_an_unknown_model_is_a_404_in_openai_shape_never_a_substitute() -> None:
    app = _app(ScriptedModel([Completion(text="hi")]))
    response = await _post(app, {"model": "gpt-imaginary", "messages": USER})
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "model_not_found" and error["param"] == "model"
    assert "gpt-imaginary" in error["message"]


async def test_the_models_listed_are_the_ones_served() -> None:
    app = _app(ScriptedModel([Completion(text="hi"), Completion(text="hi")]))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        listed = [m["id"] for m in (await client.get("/v1/models")).json()["data"]]
    assert listed[0] == "toolwire"
    for name in listed:
        response = await _post(app, {"model": name, "messages": USER})
        assert response.status_code == 200 and response.json()["model"] == name


class StreamingModel(ScriptedModel):
    """Answers in pieces through ``stream_complete``, as the local model does."""

    PIECES = ("Hel", "lo the", "re!")

    async def stream_complete(self, messages: Any, *, settings: Any, on_text: Any) -> Completion:
        for piece in self.PIECES:
            on_text(piece)
        return Completion(text="".join(self.PIECES))


async def test_stream_sends_the_text_deltas_the_model_produces() -> None:
    app = _app(StreamingModel([], streams_text=True))
    response = await _post(app, {"model": "toolwire", "stream": True,
                                 "messages": [{"role": "user", "content": "say hello"}]})
    events = _events(response)
    deltas = [e["choices"][0]["delta"].get("content") for e in events[1:-2]]
    assert deltas == list(StreamingModel.PIECES)
    assert events[-2]["choices"][0]["finish_reason"] == "stop" and events[-1] == "[DONE]"


# -- limits: the prompt's size, the model's window -----------------------------------------
def _limited_app(model: ScriptedModel, limit: int) -> FastAPI:
    from toolwire.config import Settings

    app = FastAPI()
    app.include_router(router)
    app.state.engine = Engine(Registry(), model=model, settings=Settings(max_prompt_chars=limit))
    return app


async def test_the_prompt_limit_counts_tool_definitions_and_call_arguments() -> None:
    app = _limited_app(ScriptedModel(lambda _: Completion(text="ok")), 600)
    small = await _post(app, {"messages": USER, "tools": [CONVERT_TOOL]})
    assert small.status_code == 200, small.text

    wide = json.loads(json.dumps(CONVERT_TOOL))
    wide["function"]["description"] = "x" * 600
    response = await _post(app, {"messages": USER, "tools": [wide]})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "prompt_too_large"

    call = {"id": "call_1", "type": "function", "function": {
        "name": "convert_currency", "arguments": json.dumps({"note": "y" * 600})}}
    messages = [*USER, {"role": "assistant", "content": None, "tool_calls": [call]},
                {"role": "tool", "tool_call_id": "call_1", "content": "1"}]
    response = await _post(app, {"messages": messages})
    assert response.status_code == 413
    assert "the messages and tools hold" in response.json()["error"]["message"]


async def test_the_history_is_cut_to_the_models_window() -> None:
    model = ScriptedModel(lambda _: Completion(text="ok"), context_tokens=2048)
    turn = "the euro and the Canadian dollar, 0.37 percent, at https://example.org/rates; " * 2
    messages = [{"role": "system", "content": "Be brief."}]
    for i in range(24):
        messages += [{"role": "user", "content": f"{i}: {turn}"},
                     {"role": "assistant", "content": f"{i}: {turn}"}]
    messages.append({"role": "user", "content": "and now?"})
    response = await _post(_app(model), {"messages": messages})
    assert response.status_code == 200, response.text
    sent = model.requests[0].messages
    assert sent[0].content == "Be brief." and sent[-1].content == "and now?"
    kept = [int(m.content.split(":")[0]) for m in sent[1:-1] if m.role == "user"]
    assert kept and kept == list(range(24 - len(kept), 24)) and len(kept) < 24

    whole = ScriptedModel(lambda _: Completion(text="ok"))  # no window stated: nothing is cut
    assert (await _post(_app(whole), {"messages": messages})).status_code == 200
    assert len(whole.requests[0].messages) == len(messages)
