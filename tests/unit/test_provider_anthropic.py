"""The Anthropic backend against scripted HTTP exchanges (no network)."""

from __future__ import annotations

import pytest

from tests.unit.provider_script import HttpScript, reply
from toolwire.models.base import JsonSchemaConstraint, Message, ModelError, Settings, ToolSpec

pytest.importorskip("anthropic")

from toolwire.models.anthropic import AnthropicModel, http_flavour

WEATHER = ToolSpec(
    name="weather.now",
    description="Current weather in a city.",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
USER = [
    Message(role="system", content="Be brief."),
    Message(role="user", content="Weather in Paris and Rome?"),
]


def _answer(content: list[dict], stop: str = "end_turn") -> dict:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-test",
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": 20, "output_tokens": 9},
    }


def _use(call_id: str, city: str) -> dict:
    return {"type": "tool_use", "id": call_id, "name": "weather_now", "input": {"city": city}}


def _model(script: HttpScript, **kwargs: object) -> AnthropicModel:
    client = script.client(http_flavour())
    return AnthropicModel("claude-test", api_key="sk-ant", http_client=client, **kwargs)  # type: ignore[arg-type]


async def test_plain_answer_with_the_system_prompt_apart() -> None:
    script = HttpScript([reply(200, _answer([{"type": "text", "text": "Sunny."}]))])
    completion = await _model(script).complete(USER)
    assert completion.text == "Sunny."
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (20, 9)
    sent = script.body()
    assert sent["system"] == "Be brief."
    assert sent["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Weather in Paris and Rome?"}]}
    ]
    headers = script.requests[0].headers
    assert "sk-ant" in headers.get("x-api-key", headers.get("authorization", ""))


async def test_one_call() -> None:
    script = HttpScript([reply(200, _answer([_use("toolu_1", "Paris")], "tool_use"))])
    completion = await _model(script).complete(
        USER, tools=[WEATHER], settings=Settings(tool_choice="required")
    )
    [call] = completion.tool_calls
    assert (call.id, call.name, call.arguments) == ("toolu_1", "weather.now", {"city": "Paris"})
    assert completion.finish_reason == "tool_calls"
    sent = script.body()
    assert sent["tools"] == [
        {
            "name": "weather_now",
            "description": "Current weather in a city.",
            "input_schema": WEATHER.parameters,
        }
    ]
    assert sent["tool_choice"] == {"type": "any"}


async def test_parallel_calls_and_their_results_in_one_user_turn() -> None:
    script = HttpScript(
        [
            reply(
                200,
                _answer(
                    [
                        {"type": "text", "text": "Checking."},
                        _use("t1", "Paris"),
                        _use("t2", "Rome"),
                    ],
                    "tool_use",
                ),
            ),
            reply(200, _answer([{"type": "text", "text": "Paris 20C, Rome 25C."}])),
        ]
    )
    model = _model(script)
    first = await model.complete(USER, tools=[WEATHER])
    assert [c.arguments["city"] for c in first.tool_calls] == ["Paris", "Rome"]
    assert first.text == "Checking."
    history = [
        *USER,
        Message(role="assistant", content=first.text, tool_calls=first.tool_calls),
        Message(role="tool", tool_call_id="t1", content="20C"),
        Message(role="tool", tool_call_id="t2", content="25C"),
    ]
    second = await model.complete(history, tools=[WEATHER])
    assert second.text == "Paris 20C, Rome 25C."
    sent = script.body()["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[1]["content"][1:] == [_use("t1", "Paris"), _use("t2", "Rome")]
    assert sent[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "t1", "content": "20C"},
        {"type": "tool_result", "tool_use_id": "t2", "content": "25C"},
    ]


async def test_an_error_names_the_provider_and_the_reason() -> None:
    body = {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "tools.0.name: bad"},
    }
    script = HttpScript([reply(400, body)])
    with pytest.raises(
        ModelError, match=r"anthropic: anthropic:claude-test: HTTP 400: tools.0.name: bad"
    ) as caught:
        await _model(script).complete(USER)
    assert caught.value.status == 400
    assert len(script.requests) == 1


async def test_429_and_529_are_retried() -> None:
    limited = {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    script = HttpScript(
        [
            reply(429, limited, {"retry-after-ms": "5"}),
            reply(529, overloaded, {"retry-after-ms": "5"}),
            reply(200, _answer([{"type": "text", "text": "ok"}])),
        ]
    )
    assert (await _model(script).complete(USER)).text == "ok"
    assert len(script.requests) == 3


async def test_a_json_schema_constraint_is_a_forced_answer_tool() -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    answer = {"type": "tool_use", "id": "t", "name": "answer", "input": {"city": "Rome"}}
    script = HttpScript([reply(200, _answer([answer], "tool_use"))])
    completion = await _model(script).complete(USER, constraint=JsonSchemaConstraint(schema=schema))
    assert (completion.text, completion.tool_calls, completion.finish_reason) == (
        '{"city": "Rome"}',
        [],
        "stop",
    )
    assert script.body()["tool_choice"] == {"type": "tool", "name": "answer"}


def test_a_missing_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(ModelError, match="anthropic: no API key: set ANTHROPIC_API_KEY"):
        AnthropicModel("claude-test")


async def test_a_plain_answer_streams_through_the_sdk() -> None:
    import json

    flavour = http_flavour()
    message = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-x",
               "content": [], "stop_reason": None, "stop_sequence": None,
               "usage": {"input_tokens": 9, "output_tokens": 1}}
    events = [
        ("message_start", {"type": "message_start", "message": message}),
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "text_delta", "text": "Guten"}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "text_delta", "text": " Tag!"}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta",
                           "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                           "usage": {"output_tokens": 3}}),
        ("message_stop", {"type": "message_stop"}),
    ]
    body = "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events)
    sent: list[dict] = []

    def handler(request: object) -> object:
        sent.append(json.loads(request.content))  # type: ignore[attr-defined]
        return flavour.Response(200, content=body.encode(),
                                headers={"content-type": "text/event-stream"})

    client = flavour.AsyncClient(transport=flavour.MockTransport(handler))
    model = AnthropicModel("claude-x", api_key="sk-test", http_client=client)
    pieces: list[str] = []
    completion = await model.stream_complete([Message(role="user", content="Hallo")],
                                             settings=Settings(), on_text=pieces.append)
    assert pieces == ["Guten", " Tag!"] and completion.text == "Guten Tag!"
    assert sent[0]["stream"] is True and completion.finish_reason == "stop"
