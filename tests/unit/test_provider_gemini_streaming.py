"""The Gemini backend streams an answer with tools through the SDK (``generate_content_stream``):
text as it comes, each call handed over with the chunk that brings it (no network)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from tests.unit.test_provider_gemini import EVENT, USER
from toolwire.messages import ModelSettings, ToolCallRequest
from toolwire.models.base import ModelError

pytest.importorskip("google.genai")

from toolwire.models.gemini import GeminiModel


def _chunk(*parts: dict[str, Any], finish: str | None = None) -> bytes:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": list(parts)}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    body = {"candidates": [candidate],
            "usageMetadata": {"promptTokenCount": 30, "candidatesTokenCount": 6,
                              "totalTokenCount": 36}}
    return f"data: {json.dumps(body)}\r\n\r\n".encode()


def _call(args: dict[str, Any]) -> dict[str, Any]:
    return {"functionCall": {"name": "calendar.add", "args": args}}


def _model(responses: list[Callable[[], httpx.Response]], urls: list[str]) -> GeminiModel:
    """A model whose requests are answered, in order, by ``responses``."""

    def handler(request: httpx.Request) -> httpx.Response:
        urls.append(str(request.url))
        return responses.pop(0)()

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return GeminiModel("gemini-test", api_key="g-key", backoff=0.01, http_client=client)


def _streamed(chunks: Callable[[], AsyncIterator[bytes]]) -> Callable[[], httpx.Response]:
    return lambda: httpx.Response(200, content=chunks(),
                                  headers={"content-type": "text/event-stream"})


async def test_text_then_calls_each_handed_over_with_its_chunk() -> None:
    handed: list[ToolCallRequest] = []
    texts: list[str] = []

    async def chunks() -> AsyncIterator[bytes]:
        yield _chunk({"text": "Adding"})
        yield _chunk({"text": " both."})
        yield _chunk(_call({"title": "Lunch", "extra": '{"room": 4}'}))
        # the SDK reads lazily: what came before has been handled when this is asked for
        assert texts == ["Adding", " both."] and [c.id for c in handed] == ["call_0"]
        yield _chunk(_call({"title": "Dinner", "attendees": ["Ann"]}), finish="STOP")
        assert [c.id for c in handed] == ["call_0", "call_1"]

    urls: list[str] = []
    completion = await _model([_streamed(chunks)], urls).stream_tools(
        USER, tools=[EVENT], settings=ModelSettings(), on_text=texts.append,
        on_call=handed.append)

    assert "streamGenerateContent" in urls[0]
    assert texts == ["Adding", " both."] and completion.text == "Adding both."
    # ids as complete() gives them; the JSON text of a free-form object decoded
    assert handed == [
        ToolCallRequest(id="call_0", name="calendar.add",
                        arguments={"title": "Lunch", "extra": {"room": 4}}),
        ToolCallRequest(id="call_1", name="calendar.add",
                        arguments={"title": "Dinner", "attendees": ["Ann"]}),
    ]
    assert completion.tool_calls == handed and completion.finish_reason == "tool_calls"
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (30, 6)


async def test_the_tools_go_out_as_in_complete() -> None:
    sent: list[dict[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, content=_chunk({"text": "ok"}, finish="STOP"),
                              headers={"content-type": "text/event-stream"})

    model = GeminiModel("gemini-test", api_key="g-key", backoff=0.01,
                        http_client=httpx.AsyncClient(transport=httpx.MockTransport(answer)))
    completion = await model.stream_tools(
        USER, tools=[EVENT], settings=ModelSettings(tool_choice="required"), on_text=print,
        on_call=lambda call: None)
    assert (completion.text, completion.tool_calls, completion.finish_reason) == ("ok", [], "stop")
    assert sent[0]["tools"][0]["functionDeclarations"][0]["name"] == "calendar.add"
    assert sent[0]["toolConfig"]["functionCallingConfig"] == {"mode": "ANY"}


async def test_a_mid_stream_error_is_a_model_error_of_gemini() -> None:
    texts: list[str] = []

    async def chunks() -> AsyncIterator[bytes]:
        yield _chunk({"text": "Adding"})
        error = {"error": {"code": 500, "message": "Internal error", "status": "INTERNAL"}}
        yield f"data: {json.dumps(error)}\r\n\r\n".encode()

    with pytest.raises(ModelError, match=r"gemini: gemini:gemini-test: HTTP 500: Internal") as e:
        await _model([_streamed(chunks)], []).stream_tools(
            USER, tools=[EVENT], settings=ModelSettings(), on_text=texts.append,
            on_call=lambda call: None)
    assert e.value.status == 500 and texts == ["Adding"]


async def test_429_is_retried_as_in_complete() -> None:
    limited = {
        "error": {"code": 429, "message": "Resource exhausted", "status": "RESOURCE_EXHAUSTED"}
    }

    async def chunks() -> AsyncIterator[bytes]:
        yield _chunk(_call({"title": "Lunch"}), finish="STOP")

    urls: list[str] = []
    handed: list[ToolCallRequest] = []
    completion = await _model([lambda: httpx.Response(429, json=limited), _streamed(chunks)],
                              urls).stream_tools(
        USER, tools=[EVENT], settings=ModelSettings(), on_text=print, on_call=handed.append)
    assert len(urls) == 2 and [c.arguments for c in handed] == [{"title": "Lunch"}]
    assert completion.tool_calls == handed
