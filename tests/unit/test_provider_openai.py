"""The OpenAI backend against scripted HTTP exchanges (no network)."""

from __future__ import annotations

import pytest

from tests.unit.provider_script import HttpScript, reply
from toolwire.models.base import (
    JsonSchemaConstraint,
    Message,
    ModelError,
    Settings,
    ToolCallRequest,
    ToolSpec,
)
from toolwire.models.openai import OpenAIModel

CONVERT = ToolSpec(
    name="money.convert",
    description="Convert an amount of money between currencies.",
    parameters={
        "type": "object",
        "properties": {
            "amount": {"type": "number"},
            "from_currency": {"type": "string"},
            "to_currency": {"type": "string"},
            "rounding": {"type": "integer", "default": 2},
        },
        "required": ["amount", "from_currency", "to_currency"],
    },
)
USER = [Message(role="user", content="Exchange 42 USD to CAD")]


def _answer(message: dict, finish: str = "stop") -> dict:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": [
            {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}
        ],
        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
    }


def _call(call_id: str, name: str, arguments: str) -> dict:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def _model(script: HttpScript, **kwargs: object) -> OpenAIModel:
    return OpenAIModel("gpt-4o-mini", api_key="sk-test", http_client=script.client(), **kwargs)  # type: ignore[arg-type]


async def test_plain_answer() -> None:
    script = HttpScript([reply(200, _answer({"content": "Hello!"}))])
    completion = await _model(script).complete(USER)
    assert completion.text == "Hello!"
    assert completion.tool_calls == []
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (11, 7)
    sent = script.body()
    assert sent["messages"] == [{"role": "user", "content": "Exchange 42 USD to CAD"}]
    assert "tools" not in sent
    assert script.requests[0].headers["authorization"] == "Bearer sk-test"


async def test_one_call_maps_the_wire_name_back() -> None:
    call = _call(
        "call_1", "money_convert", '{"amount": 42, "from_currency": "USD", "to_currency": "CAD"}'
    )
    script = HttpScript(
        [reply(200, _answer({"content": None, "tool_calls": [call]}, "tool_calls"))]
    )
    completion = await _model(script).complete(
        USER, tools=[CONVERT], settings=Settings(tool_choice="money.convert")
    )
    assert completion.tool_calls == [
        ToolCallRequest(
            id="call_1",
            name="money.convert",
            arguments={"amount": 42, "from_currency": "USD", "to_currency": "CAD"},
        )
    ]
    assert completion.finish_reason == "tool_calls"
    sent = script.body()
    assert sent["tools"][0]["function"]["name"] == "money_convert"  # '.' is not allowed by OpenAI
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "money_convert"}}


async def test_parallel_calls_and_tool_results_round_trip() -> None:
    calls = [
        _call("c1", "money_convert", '{"amount": 1, "from_currency": "USD", "to_currency": "EUR"}'),
        _call("c2", "money_convert", '{"amount": 2, "from_currency": "USD", "to_currency": "GBP"}'),
    ]
    script = HttpScript(
        [
            reply(200, _answer({"content": None, "tool_calls": calls}, "tool_calls")),
            reply(200, _answer({"content": "0.92 EUR and 1.58 GBP"})),
        ]
    )
    model = _model(script)
    first = await model.complete(USER, tools=[CONVERT])
    assert [c.arguments["amount"] for c in first.tool_calls] == [1, 2]
    history = [
        *USER,
        Message(role="assistant", tool_calls=first.tool_calls),
        Message(role="tool", tool_call_id="c1", name="money.convert", content="0.92"),
        Message(role="tool", tool_call_id="c2", name="money.convert", content="1.58"),
    ]
    second = await model.complete(history, tools=[CONVERT])
    assert second.text == "0.92 EUR and 1.58 GBP"
    sent = script.body()["messages"]
    assert sent[1]["tool_calls"][1]["function"] == {
        "name": "money_convert",
        "arguments": '{"amount": 2, "from_currency": "USD", "to_currency": "GBP"}',
    }
    assert sent[2:] == [
        {"role": "tool", "tool_call_id": "c1", "content": "0.92"},
        {"role": "tool", "tool_call_id": "c2", "content": "1.58"},
    ]


async def test_an_error_names_the_provider_and_the_reason() -> None:
    body = {
        "error": {"message": "Invalid schema for function 'x'", "type": "invalid_request_error"}
    }
    script = HttpScript([reply(400, body)])
    with pytest.raises(ModelError) as caught:
        await _model(script).complete(USER)
    assert caught.value.provider == "openai"
    assert caught.value.status == 400
    assert "Invalid schema for function 'x'" in str(caught.value)
    assert len(script.requests) == 1  # a 400 is not retried


async def test_429_is_retried_with_backoff() -> None:
    limited = {"error": {"message": "Rate limit reached", "type": "rate_limit"}}
    script = HttpScript(
        [
            reply(429, limited, {"retry-after-ms": "5"}),
            reply(503, {"error": {"message": "overloaded"}}, {"retry-after-ms": "5"}),
            reply(200, _answer({"content": "ok"})),
        ]
    )
    completion = await _model(script).complete(USER)
    assert completion.text == "ok"
    assert len(script.requests) == 3


async def test_retries_run_out_into_a_model_error() -> None:
    limited = {"error": {"message": "Rate limit reached"}}
    script = HttpScript([reply(429, limited, {"retry-after-ms": "1"}) for _ in range(2)])
    with pytest.raises(ModelError, match="HTTP 429: Rate limit reached") as caught:
        await _model(script, max_retries=1).complete(USER)
    assert caught.value.status == 429


async def test_strict_mode_sends_strict_tools_and_drops_the_nulls_it_asked_for() -> None:
    call = _call(
        "c",
        "money_convert",
        '{"amount": 5, "from_currency": "USD", "to_currency": "JPY", "rounding": null}',
    )
    script = HttpScript(
        [reply(200, _answer({"content": None, "tool_calls": [call]}, "tool_calls"))]
    )
    completion = await _model(script, strict=True).complete(USER, tools=[CONVERT])
    function = script.body()["tools"][0]["function"]
    assert function["strict"] is True
    assert function["parameters"]["required"] == [
        "amount",
        "from_currency",
        "to_currency",
        "rounding",
    ]
    assert completion.tool_calls[0].arguments == {
        "amount": 5,
        "from_currency": "USD",
        "to_currency": "JPY",
    }


async def test_a_json_schema_constraint_becomes_a_response_format() -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    script = HttpScript([reply(200, _answer({"content": '{"city": "Paris"}'}))])
    completion = await _model(script).complete(USER, constraint=JsonSchemaConstraint(schema=schema))
    assert completion.text == '{"city": "Paris"}'
    sent = script.body()["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["strict"] is True


def test_a_custom_base_url_needs_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    model = OpenAIModel("qwen", base_url="http://127.0.0.1:9/v1")
    assert model.name == "openai:qwen@http://127.0.0.1:9/v1"
    with pytest.raises(ModelError, match="OPENAI_API_KEY"):
        OpenAIModel("gpt-4o-mini")


async def test_a_plain_answer_streams_through_the_sdk() -> None:
    import json

    import httpx

    def chunk(delta: dict, finish: str | None = None, usage: dict | None = None) -> str:
        body = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
                "choices": [] if usage else [{"index": 0, "delta": delta, "finish_reason": finish}]}
        if usage:
            body["usage"] = usage
        return f"data: {json.dumps(body)}\n\n"

    stream = "".join([chunk({"role": "assistant", "content": ""}), chunk({"content": "Bon"}),
                      chunk({"content": "jour!"}), chunk({}, "stop"),
                      chunk({}, usage={"prompt_tokens": 5, "completion_tokens": 2,
                                       "total_tokens": 7}), "data: [DONE]\n\n"])
    sent: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, content=stream.encode(),
                              headers={"content-type": "text/event-stream"})

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    model = OpenAIModel("gpt-4o-mini", api_key="sk-test", http_client=client)
    pieces: list[str] = []
    completion = await model.stream_complete(USER, settings=Settings(), on_text=pieces.append)
    assert pieces == ["Bon", "jour!"] and completion.text == "Bonjour!"
    assert completion.usage.completion_tokens == 2 and sent[0]["stream"] is True
