"""The OpenAI backend streams an answer with tools through the SDK (``stream=True``): text as
it comes, each call handed over as soon as the vendor has sent all of it (no network)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.unit.test_provider_openai import CONVERT, USER
from toolwire.messages import ModelSettings, ToolCallRequest
from toolwire.models.base import ModelError
from toolwire.models.openai import OpenAIModel


def _chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    body = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return f"data: {json.dumps(body)}\n\n".encode()


def _usage() -> bytes:
    body = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
            "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 4,
                                     "total_tokens": 13}}
    return f"data: {json.dumps(body)}\n\n".encode()


def _call_delta(index: int, *, call_id: str | None = None, name: str | None = None,
                arguments: str = "") -> dict[str, Any]:
    function: dict[str, Any] = {"arguments": arguments}
    delta: dict[str, Any] = {"index": index, "function": function}
    if call_id is not None:
        delta |= {"id": call_id, "type": "function"}
        function["name"] = name
    return {"tool_calls": [delta]}


async def test_an_answer_with_tools_streams_and_each_call_goes_out_when_complete() -> None:
    handed: list[ToolCallRequest] = []
    texts: list[str] = []

    async def stream() -> AsyncIterator[bytes]:
        yield _chunk({"role": "assistant", "content": ""})
        yield _chunk({"content": "Converting."})
        yield _chunk(_call_delta(0, call_id="call_a", name="money_convert"))
        yield _chunk(_call_delta(0, arguments='{"amount": "42", "from_'))
        yield _chunk(_call_delta(0, arguments='currency": "USD", "to_currency": "CAD"}'))
        yield _chunk(_call_delta(1, call_id="call_b", name="money_convert",
                                 arguments='{"amount": 7, "from_currency": "EUR", '))
        # the SDK reads lazily: what came before has been handled when this is asked for
        assert [c.id for c in handed] == ["call_a"]  # the first call out, the second open
        yield _chunk(_call_delta(1, arguments='"to_currency": "JPY"}'))
        yield _chunk({}, "tool_calls")
        assert [c.id for c in handed] == ["call_a", "call_b"]
        yield _usage()
        yield b"data: [DONE]\n\n"

    sent: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, content=stream(), headers={"content-type": "text/event-stream"})

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    model = OpenAIModel("gpt-4o-mini", api_key="sk-test", http_client=client)
    completion = await model.stream_tools(USER, tools=[CONVERT], settings=ModelSettings(),
                                          on_text=texts.append, on_call=handed.append)

    assert sent[0]["stream"] is True and sent[0]["tools"][0]["function"]["name"] == "money_convert"
    assert texts == ["Converting."] and completion.text == "Converting."
    # the wire name is mapped back and the arguments coerced onto the tool's schema
    assert handed == [
        ToolCallRequest(id="call_a", name="money.convert",
                        arguments={"amount": 42, "from_currency": "USD", "to_currency": "CAD"}),
        ToolCallRequest(id="call_b", name="money.convert",
                        arguments={"amount": 7, "from_currency": "EUR", "to_currency": "JPY"}),
    ]
    assert completion.tool_calls == handed and completion.finish_reason == "tool_calls"
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (9, 4)


async def test_a_connection_dropped_mid_stream_is_a_model_error() -> None:
    """The SDK raises httpx's own error while a stream is read; the engine sees ModelError
    (which the worker retries as transient), not an unknown exception."""

    async def stream() -> AsyncIterator[bytes]:
        yield _chunk({"role": "assistant", "content": ""})
        yield _chunk({"content": "Conv"})
        raise httpx.RemoteProtocolError("peer closed connection without sending complete body")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=stream(), headers={"content-type": "text/event-stream"})

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    model = OpenAIModel("gpt-4o-mini", api_key="sk-test", http_client=client, max_retries=0)
    texts: list[str] = []
    with pytest.raises(ModelError, match="RemoteProtocolError"):
        await model.stream_tools(USER, tools=[CONVERT], settings=ModelSettings(),
                                 on_text=texts.append, on_call=lambda call: None)
    with pytest.raises(ModelError, match="RemoteProtocolError"):
        await model.stream_complete(USER, settings=ModelSettings(), on_text=texts.append)
