"""Anthropic Messages backend (optional extra ``toolwire[anthropic]``).

    AnthropicModel("claude-3-5-haiku-latest")

Tools go out as ``input_schema`` tools, calls come back from ``tool_use`` blocks. A
``JsonSchemaConstraint`` is met the way Anthropic recommends: one forced tool whose input is
the answer. Streamed with tools, text deltas are handed over as they come and each call at the
end of its ``tool_use`` block (its ``input_json_delta`` pieces joined and decoded).
"""

from __future__ import annotations

import importlib
import inspect
import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

from toolwire.dialects import WireNames, to_anthropic, to_anthropic_messages
from toolwire.dialects.anthropic import from_anthropic_content
from toolwire.dialects.calls import restore_calls
from toolwire.dialects.rewriting import DialectError
from toolwire.messages import (
    Completion,
    Constraint,
    JsonSchemaConstraint,
    Message,
    ModelSettings,
    ToolSpec,
    Usage,
)
from toolwire.models.base import Capabilities, ModelError
from toolwire.models.remote import CallSink, Outgoing, RemoteModel, status_message
from toolwire.providers.anthropic import anthropic_client

PROVIDER = "anthropic"
ANSWER_TOOL = "answer"
_FINISH = {
    "tool_use": "tool_calls",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
}


def http_flavour() -> ModuleType:
    """The HTTP package the installed SDK is built on: ``httpx``, or its fork ``httpx2``.

    An ``http_client`` passed to ``AnthropicModel`` must be that package's ``AsyncClient``.
    """
    import anthropic._base_client as base

    return importlib.import_module("httpx2" if "httpx2" in vars(base) else "httpx")


class AnthropicModel(RemoteModel):
    """A Claude model behind the Anthropic Messages API.

    ``http_client`` is an ``AsyncClient`` of the package the SDK uses (see ``http_flavour``):
    ``httpx`` for older SDKs, ``httpx2`` for newer ones.
    """

    provider = "anthropic"
    capabilities = Capabilities(tools=True, parallel=True, streams_text=True,
                                streams_tools=True)

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        http_client: Any | None = None,
        max_retries: int = 3,
        timeout: float = 60,
    ) -> None:
        try:
            import anthropic
        except ImportError as e:
            raise ImportError('Please install "toolwire[anthropic]" to use Anthropic models') from e
        self._sdk = anthropic
        create = anthropic.resources.messages.AsyncMessages.create
        # newer SDKs dropped sampling settings (newer models refuse them): send when accepted
        self._takes_temperature = "temperature" in inspect.signature(create).parameters
        super().__init__(model)
        self._client = anthropic_client(
            base_url=base_url,
            api_key=api_key,
            http_client=http_client,
            max_retries=max_retries,
            timeout=timeout,
        )

    def _wire(self, out: Outgoing, *, tools: bool, constraint: bool) -> dict[str, Any]:
        """The request for ``out`` (with its tools, its constraint, or neither)."""
        request = _request(self.model, out.messages, out.tools if tools else None,
                           out.constraint if constraint else None, out.settings, out.names)
        if not self._takes_temperature:
            request.pop("temperature")
        return request

    async def _send(self, out: Outgoing) -> dict[str, Any]:
        response = await self._client.messages.create(**self._wire(out, tools=True,
                                                                   constraint=True))
        data: dict[str, Any] = response.model_dump()
        return data

    async def _stream(self, out: Outgoing, on_text: Callable[[str], None]) -> Completion:
        """``messages.stream``: each text delta to ``on_text``, then the final message."""
        request = self._wire(out, tools=False, constraint=False)
        async with self._client.messages.stream(**request) as stream:
            async for text in stream.text_stream:
                on_text(text)
            final = await stream.get_final_message()
        return self._completion(final.model_dump(), out)

    async def _stream_tools(
        self, out: Outgoing, on_text: Callable[[str], None], on_call: CallSink
    ) -> Completion:
        """``messages.create(stream=True)`` with tools, read event by event: text deltas to
        ``on_text``; a ``tool_use`` block, its ``input_json_delta`` pieces gathered, to
        ``on_call`` at its ``content_block_stop`` (read back as ``complete`` reads it)."""
        request = self._wire(out, tools=True, constraint=False)
        blocks: dict[int, dict[str, Any]] = {}
        pieces: dict[int, list[str]] = {}  # the input JSON of each open tool_use block
        message: dict[str, Any] = {"stop_reason": None, "usage": {}}

        def close(index: int) -> None:
            block = blocks[index]
            block["input"] = self._tool_input(block, pieces.pop(index))
            for call in self._completion({"content": [block]}, out).tool_calls:
                on_call(call)

        stream = await self._client.messages.create(**request, stream=True)
        async with stream:  # the connection closed whatever happens
            async for event in stream:
                if event.type == "message_start":
                    message["usage"] = event.message.usage.model_dump()
                elif event.type == "content_block_start":
                    blocks[event.index] = event.content_block.model_dump()
                    if event.content_block.type == "tool_use":
                        pieces[event.index] = []
                elif event.type == "content_block_delta":
                    if event.delta.type == "text_delta":
                        blocks[event.index]["text"] += event.delta.text
                        on_text(event.delta.text)
                    elif event.delta.type == "input_json_delta" and event.index in pieces:
                        pieces[event.index].append(event.delta.partial_json)
                elif event.type == "content_block_stop" and event.index in pieces:
                    close(event.index)
                elif event.type == "message_delta":
                    message["stop_reason"] = event.delta.stop_reason
                    usage = {k: v for k, v in event.usage.model_dump().items() if v is not None}
                    message["usage"] = {**message["usage"], **usage}
        for index in sorted(pieces):  # a block the stream never closed
            close(index)
        message["content"] = [blocks[i] for i in sorted(blocks)]
        return self._completion(message, out)

    def _tool_input(self, block: dict[str, Any], pieces: list[str]) -> Any:
        """A ``tool_use`` block's input from its ``input_json_delta`` pieces."""
        text = "".join(pieces)
        try:
            return json.loads(text) if text.strip() else {}
        except ValueError as e:
            raise self.fail(f"malformed tool_use block {block.get('id')}: {e}") from e

    def _error(self, error: Exception) -> ModelError | None:
        if isinstance(error, self._sdk.APIStatusError):
            return ModelError(PROVIDER, status_message(error, self.name), status=error.status_code)
        if isinstance(error, self._sdk.APIError):
            return self.fail(f"{type(error).__name__}: {error}")
        return None

    def _completion(self, data: dict[str, Any], out: Outgoing) -> Completion:
        return _completion(data, out.tools, out.constraint, out.names, self.name)


def _request(
    model: str,
    messages: list[Message],
    tools: list[ToolSpec] | None,
    constraint: Constraint | None,
    settings: ModelSettings,
    names: WireNames,
) -> dict[str, Any]:
    system, wire_messages = to_anthropic_messages(messages, names=names)
    request: dict[str, Any] = {
        "model": model,
        "messages": wire_messages,
        "max_tokens": settings.max_tokens,
        "temperature": settings.temperature,
    }
    if system:
        request["system"] = system
    if isinstance(constraint, JsonSchemaConstraint):
        request["tools"] = [_answer_tool(constraint.schema)]
        request["tool_choice"] = {"type": "tool", "name": ANSWER_TOOL}
    elif constraint is not None:
        raise ModelError(PROVIDER, f"{type(constraint).__name__} needs a grammar-capable model")
    elif tools:
        request["tools"] = [to_anthropic(t, names=names) for t in tools]
        request["tool_choice"] = anthropic_tool_choice(settings.tool_choice, names)
    return request


def _answer_tool(schema: dict[str, Any]) -> dict[str, Any]:
    if schema.get("type") != "object":  # tool input must be an object: wrap the value
        schema = {"type": "object", "properties": {"value": schema}, "required": ["value"]}
    return {"name": ANSWER_TOOL, "description": "Give the answer.", "input_schema": schema}


def anthropic_tool_choice(choice: str, names: WireNames) -> dict[str, Any]:
    """toolwire's tool_choice as Anthropic's: auto, none, any (required) or a named tool."""
    if choice in ("auto", "none"):
        return {"type": choice}
    if choice == "required":
        return {"type": "any"}
    return {"type": "tool", "name": names.wire(choice)}


def _completion(
    data: dict[str, Any],
    tools: list[ToolSpec] | None,
    constraint: Constraint | None,
    names: WireNames,
    name: str,
) -> Completion:
    try:
        text, calls = from_anthropic_content(data.get("content") or [], names=names)
    except DialectError as e:
        raise ModelError(PROVIDER, f"{name}: malformed tool_use block: {e}") from e
    usage = data.get("usage") or {}
    finish = _FINISH.get(str(data.get("stop_reason")), "stop")
    if isinstance(constraint, JsonSchemaConstraint):
        answer = next((c.arguments for c in calls if c.name == ANSWER_TOOL), None)
        if answer is not None:
            value = answer if constraint.schema.get("type") == "object" else answer.get("value")
            text, calls, finish = json.dumps(value, ensure_ascii=False), [], "stop"
    return Completion(
        text=text,
        tool_calls=restore_calls(calls, tools),
        usage=Usage(
            prompt_tokens=usage.get("input_tokens") or 0,
            completion_tokens=usage.get("output_tokens") or 0,
        ),
        finish_reason="tool_calls" if calls else finish,
    )

