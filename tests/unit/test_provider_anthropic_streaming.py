"""The Anthropic backend streams an answer with tools through the SDK (``stream=True``): text as
it comes, each ``tool_use`` block handed over as soon as it closes (no network)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.unit.test_provider_openai import CONVERT, USER
from toolwire.messages import ModelSettings, ToolCallRequest
from toolwire.models.base import ModelError

pytest.importorskip("anthropic")

from toolwire.models.anthropic import AnthropicModel, http_flavour

FLAVOUR = http_flavour()


def _event(name: str, **data: Any) -> bytes:
    return f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n".encode()


def _start() -> bytes:
    message: dict[str, Any] = {
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test",
        "content": [], "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": 21, "output_tokens": 1},
    }
    return _event("message_start", message=message)


def _text(index: int, *pieces: str) -> list[bytes]:
    return [
        _event("content_block_start", index=index, content_block={"type": "text", "text": ""}),
        *(_event("content_block_delta", index=index, delta={"type": "text_delta", "text": p})
          for p in pieces),
        _event("content_block_stop", index=index),
    ]


def _use_start(index: int, call_id: str) -> bytes:
    block = {"type": "tool_use", "id": call_id, "name": "money_convert", "input": {}}
    return _event("content_block_start", index=index, content_block=block)


def _json(index: int, partial: str) -> bytes:
    return _event("content_block_delta", index=index,
                  delta={"type": "input_json_delta", "partial_json": partial})


def _end(stop: str = "tool_use") -> list[bytes]:
    return [
        _event("message_delta", delta={"stop_reason": stop, "stop_sequence": None},
               usage={"output_tokens": 17}),
        _event("message_stop"),
    ]


def _model(responses: list[Callable[[], Any]], sent: list[dict[str, Any]]) -> AnthropicModel:
    """A model whose requests are answered, in order, by ``responses``."""

    def handler(request: Any) -> Any:
        sent.append(json.loads(request.content))
        return responses.pop(0)()

    client = FLAVOUR.AsyncClient(transport=FLAVOUR.MockTransport(handler))
    return AnthropicModel("claude-test", api_key="sk-ant", http_client=client)


def _streamed(events: Callable[[], AsyncIterator[bytes]]) -> Callable[[], Any]:
    return lambda: FLAVOUR.Response(200, content=events(),
                                    headers={"content-type": "text/event-stream"})


async def test_text_then_calls_each_handed_over_when_its_block_closes() -> None:
    handed: list[ToolCallRequest] = []
    texts: list[str] = []

    async def events() -> AsyncIterator[bytes]:
        yield _start()
        for chunk in _text(0, "Converting", " now."):
            yield chunk
        yield _use_start(1, "toolu_a")
        yield _json(1, '{"amount": "4')
        yield _json(1, '2", "from_currency": "US')
        yield _json(1, 'D", "to_currency": "CAD"}')
        assert handed == [] and texts == ["Converting", " now."]  # text out, call still open
        yield _event("content_block_stop", index=1)
        yield _use_start(2, "toolu_b")
        # the SDK reads lazily: what came before has been handled when this is asked for
        assert [c.id for c in handed] == ["toolu_a"]  # the first call out, the second open
        yield _json(2, '{"amount": 7, "from_currency": "EUR", "to_currency": "JPY"}')
        yield _event("content_block_stop", index=2)
        assert [c.id for c in handed] == ["toolu_a", "toolu_b"]
        for chunk in _end():
            yield chunk

    sent: list[dict[str, Any]] = []
    model = _model([_streamed(events)], sent)
    completion = await model.stream_tools(USER, tools=[CONVERT], settings=ModelSettings(),
                                          on_text=texts.append, on_call=handed.append)

    assert sent[0]["stream"] is True and sent[0]["tools"][0]["name"] == "money_convert"
    assert sent[0]["tool_choice"] == {"type": "auto"}
    assert texts == ["Converting", " now."] and completion.text == "Converting now."
    # the wire name is mapped back and the arguments coerced onto the tool's schema
    assert handed == [
        ToolCallRequest(id="toolu_a", name="money.convert",
                        arguments={"amount": 42, "from_currency": "USD", "to_currency": "CAD"}),
        ToolCallRequest(id="toolu_b", name="money.convert",
                        arguments={"amount": 7, "from_currency": "EUR", "to_currency": "JPY"}),
    ]
    assert completion.tool_calls == handed and completion.finish_reason == "tool_calls"
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (21, 17)


async def test_a_call_without_arguments_has_an_empty_object() -> None:
    async def events() -> AsyncIterator[bytes]:
        yield _start()
        yield _use_start(0, "toolu_a")
        yield _json(0, "")
        yield _event("content_block_stop", index=0)
        for chunk in _end():
            yield chunk

    handed: list[ToolCallRequest] = []
    completion = await _model([_streamed(events)], []).stream_tools(
        USER, tools=[CONVERT], settings=ModelSettings(), on_text=print, on_call=handed.append)
    assert handed == completion.tool_calls
    assert [(c.name, c.arguments) for c in handed] == [("money.convert", {})]


async def test_a_mid_stream_error_is_a_model_error_of_anthropic() -> None:
    texts: list[str] = []

    async def events() -> AsyncIterator[bytes]:
        yield _start()
        for chunk in _text(0, "Converting")[:2]:
            yield chunk
        yield _event("error", error={"type": "overloaded_error", "message": "Overloaded"})

    with pytest.raises(ModelError, match=r"anthropic: anthropic:claude-test: .*Overloaded") as e:
        await _model([_streamed(events)], []).stream_tools(
            USER, tools=[CONVERT], settings=ModelSettings(), on_text=texts.append,
            on_call=lambda call: None)
    assert e.value.provider == "anthropic" and texts == ["Converting"]


async def test_malformed_tool_input_is_a_model_error() -> None:
    async def events() -> AsyncIterator[bytes]:
        yield _start()
        yield _use_start(0, "toolu_a")
        yield _json(0, '{"amount": ')
        yield _event("content_block_stop", index=0)
        for chunk in _end():
            yield chunk

    with pytest.raises(ModelError, match=r"anthropic: anthropic:claude-test: malformed tool_use"):
        await _model([_streamed(events)], []).stream_tools(
            USER, tools=[CONVERT], settings=ModelSettings(), on_text=print,
            on_call=lambda call: None)


async def test_429_is_retried_as_in_complete() -> None:
    limited = {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}

    async def events() -> AsyncIterator[bytes]:
        yield _start()
        yield _use_start(0, "toolu_a")
        yield _json(0, '{"amount": 1, "from_currency": "USD", "to_currency": "EUR"}')
        yield _event("content_block_stop", index=0)
        for chunk in _end():
            yield chunk

    sent: list[dict[str, Any]] = []
    model = _model([lambda: FLAVOUR.Response(429, json=limited, headers={"retry-after-ms": "5"}),
                    _streamed(events)], sent)
    handed: list[ToolCallRequest] = []
    completion = await model.stream_tools(USER, tools=[CONVERT], settings=ModelSettings(),
                                          on_text=print, on_call=handed.append)
    assert len(sent) == 2 and [c.id for c in handed] == ["toolu_a"]
    assert completion.tool_calls == handed
