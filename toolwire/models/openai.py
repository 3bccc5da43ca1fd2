"""OpenAI chat-completions backend: api.openai.com or any compatible server.

    OpenAIModel("gpt-4o-mini")
    OpenAIModel("qwen2.5", base_url="http://127.0.0.1:8000/v1")   # vLLM, Ollama, LM Studio...

Tools go out in the OpenAI dialect (strict mode on request, for the tools that allow it);
calls come back with their arguments coerced onto the original schemas. A
``JsonSchemaConstraint`` becomes a ``json_schema`` response format. Streamed (``stream=True``),
text deltas are handed over as they come, and each call once its argument fragments are all
in: when the next call starts or the finish reason comes (its name is mapped back and its
arguments coerced, which needs the whole of them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from toolwire.dialects import (
    WireNames,
    can_be_strict,
    to_openai,
    to_openai_messages,
)
from toolwire.dialects.calls import restore_calls
from toolwire.dialects.openai import strict_schema, tool_calls_in
from toolwire.dialects.rewriting import DialectError
from toolwire.messages import (
    Completion,
    Constraint,
    JsonSchemaConstraint,
    Message,
    ModelSettings,
    ToolCallRequest,
    ToolSpec,
    Usage,
)
from toolwire.models.base import Capabilities, ModelError
from toolwire.models.remote import CallSink, Outgoing, RemoteModel, json_text, status_message
from toolwire.providers.openai import openai_client

try:
    import openai
except ImportError as e:  # pragma: no cover - openai is a core dependency
    raise ImportError('Please install "toolwire[openai]" to use OpenAI models') from e

PROVIDER = "openai"


class OpenAIModel(RemoteModel):
    """A model behind the OpenAI chat-completions API."""

    provider = "openai"
    capabilities = Capabilities(tools=True, parallel=True, streams_text=True,
                                streams_tools=True)

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        max_retries: int = 3,
        timeout: float = 60,
        strict: bool = False,
    ) -> None:
        super().__init__(model, name=f"openai:{model}" + (f"@{base_url}" if base_url else ""))
        self.base_url = base_url
        self.strict = strict
        self._client = openai_client(
            base_url=base_url,
            api_key=api_key,
            http_client=http_client,
            max_retries=max_retries,
            timeout=timeout,
        )

    async def _send(self, out: Outgoing) -> dict[str, Any]:
        request = self._request(out.messages, out.tools, out.constraint, out.settings, out.names)
        response = await self._client.chat.completions.create(**request)
        data: dict[str, Any] = response.model_dump()
        return data

    def _error(self, error: Exception) -> ModelError | None:
        if isinstance(error, openai.APIStatusError):
            return ModelError(PROVIDER, status_message(error, self.name),
                              status=error.status_code)
        if isinstance(error, openai.APIError):  # connection errors and timeouts
            return self.fail(f"{type(error).__name__}: {error}")
        return None

    async def _stream(self, out: Outgoing, on_text: Callable[[str], None]) -> Completion:
        """``stream=True``: each content delta to ``on_text``; usage from the last chunk."""
        request = self._request(out.messages, None, None, out.settings, out.names)
        parts: list[str] = []
        finish, usage = "stop", Usage()
        stream = await self._client.chat.completions.create(
            **request, stream=True, stream_options={"include_usage": True})
        async for chunk in stream:
            if chunk.usage is not None:
                usage = Usage(prompt_tokens=chunk.usage.prompt_tokens,
                              completion_tokens=chunk.usage.completion_tokens)
            for choice in chunk.choices:
                if choice.delta.content:
                    parts.append(choice.delta.content)
                    on_text(choice.delta.content)
                finish = choice.finish_reason or finish
        return Completion(text="".join(parts), finish_reason=finish, usage=usage)

    async def _stream_tools(
        self, out: Outgoing, on_text: Callable[[str], None], on_call: CallSink
    ) -> Completion:
        """``stream=True`` with tools: content deltas to ``on_text``; each call, gathered from
        its deltas, to ``on_call`` once the next one starts or the finish reason comes."""
        request = self._request(out.messages, out.tools, None, out.settings, out.names)
        answer = _Gathering(lambda raw: self._calls(raw, out), on_call)
        stream = await self._client.chat.completions.create(
            **request, stream=True, stream_options={"include_usage": True})
        async for chunk in stream:
            if chunk.usage is not None:
                answer.usage = Usage(prompt_tokens=chunk.usage.prompt_tokens,
                                     completion_tokens=chunk.usage.completion_tokens)
            for choice in chunk.choices:
                if choice.delta.content:
                    answer.text.append(choice.delta.content)
                    on_text(choice.delta.content)
                for delta in choice.delta.tool_calls or []:
                    answer.add(delta)
                if choice.finish_reason:
                    answer.finished(choice.finish_reason)
        return answer.completion()

    def _request(
        self,
        messages: list[Message],
        tools: list[ToolSpec] | None,
        constraint: Constraint | None,
        settings: ModelSettings,
        names: WireNames,
    ) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self.model,
            "messages": to_openai_messages(messages, names=names),
            "max_tokens": settings.max_tokens,
            "temperature": settings.temperature,
            "seed": settings.seed,
        }
        if tools:
            request["tools"] = [self._tool(t, names) for t in tools]
            request["tool_choice"] = openai_tool_choice(settings.tool_choice, names)
        if constraint is not None:
            request["response_format"] = _response_format(constraint)
        return request

    def _tool(self, spec: ToolSpec, names: WireNames) -> dict[str, Any]:
        strict = self.strict and can_be_strict(spec.parameters)
        return to_openai(spec, strict=strict, names=names)

    def _completion(self, data: dict[str, Any], out: Outgoing) -> Completion:
        constraint = out.constraint
        if not data.get("choices"):
            raise self.fail("the response has no choices")
        choice = data["choices"][0]
        message = choice.get("message") or {}
        calls = self._calls(message.get("tool_calls") or [], out)
        text = message.get("content") or ""
        if isinstance(constraint, JsonSchemaConstraint) and text:
            text = json_text(constraint.schema, text)
        usage = data.get("usage") or {}
        return Completion(
            text=text,
            tool_calls=calls,
            usage=Usage(
                prompt_tokens=usage.get("prompt_tokens") or 0,
                completion_tokens=usage.get("completion_tokens") or 0,
            ),
            finish_reason="tool_calls" if calls else choice.get("finish_reason") or "stop",
        )


    def _calls(self, raw: list[Any], out: Outgoing) -> list[ToolCallRequest]:
        """OpenAI ``tool_calls`` as calls of the original tools (names and arguments)."""
        try:
            calls = tool_calls_in(raw, "tool_calls", out.names)
        except DialectError as e:
            raise self.fail(f"malformed tool call: {e}") from e
        return restore_calls(calls, out.tools)


@dataclass
class _Gathering:
    """A streamed answer being put together: its text, and its calls from their deltas (the
    first of a call holds its index, id and name; the next ones pieces of its arguments)."""

    restore: Callable[[list[Any]], list[ToolCallRequest]]
    """OpenAI ``tool_calls`` as calls of the original tools."""
    on_call: CallSink
    text: list[str] = field(default_factory=list)
    open: dict[int, dict[str, Any]] = field(default_factory=dict)
    """The calls still coming in, by index, as OpenAI ``tool_calls`` entries."""
    calls: list[ToolCallRequest] = field(default_factory=list)
    finish: str = "stop"
    usage: Usage = field(default_factory=Usage)

    def add(self, delta: Any) -> None:
        if delta.index not in self.open:
            self._hand_over(below=delta.index)  # a new call: the ones before it are complete
            self.open[delta.index] = {"id": delta.id or f"call_{delta.index}", "type": "function",
                                      "function": {"name": "", "arguments": ""}}
        function = self.open[delta.index]["function"]
        if delta.function is not None:
            function["name"] += delta.function.name or ""
            function["arguments"] += delta.function.arguments or ""

    def finished(self, reason: str) -> None:
        """The vendor says the answer is complete: its calls go out (the usage may follow)."""
        self.finish = reason
        self._hand_over()

    def _hand_over(self, below: int | None = None) -> None:
        done = sorted(i for i in self.open if below is None or i < below)
        for call in self.restore([self.open.pop(i) for i in done]):
            self.calls.append(call)
            self.on_call(call)

    def completion(self) -> Completion:
        self._hand_over()
        return Completion(text="".join(self.text), tool_calls=self.calls, usage=self.usage,
                          finish_reason="tool_calls" if self.calls else self.finish)


def openai_tool_choice(choice: str, names: WireNames) -> Any:
    """``auto`` / ``none`` / ``required`` as they are; a tool name as a named function."""
    if choice in ("auto", "none", "required"):
        return choice
    return {"type": "function", "function": {"name": names.wire(choice)}}


def _response_format(constraint: Constraint) -> dict[str, Any]:
    if not isinstance(constraint, JsonSchemaConstraint):
        raise ModelError(PROVIDER, f"{type(constraint).__name__} needs a grammar-capable model")
    schema = constraint.schema
    strict = schema.get("type") == "object" and can_be_strict(schema)
    return {
        "type": "json_schema",
        "json_schema": {
            "name": "answer",
            "schema": strict_schema(schema) if strict else schema,
            "strict": strict,
        },
    }


