"""Google Gemini backend (optional extra ``toolwire[gemini]``).

    GeminiModel("gemini-2.0-flash")

Tools go out as function declarations in Gemini's OpenAPI subset (see ``dialects/gemini.py``);
calls come back from ``functionCall`` parts with their arguments coerced onto the original
schemas (JSON strings decoded, for instance). A ``JsonSchemaConstraint`` becomes
``response_json_schema`` with a JSON response type. Streamed with tools, text is handed over
as it comes and each call with the chunk that brings it (Gemini sends a call whole).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from toolwire.dialects import WireNames, to_gemini, to_gemini_contents
from toolwire.dialects.calls import restore_calls
from toolwire.dialects.gemini import from_gemini_parts
from toolwire.dialects.rewriting import DialectError
from toolwire.messages import (
    Completion,
    Constraint,
    JsonSchemaConstraint,
    ModelSettings,
    ToolSpec,
    Usage,
)
from toolwire.models.base import Capabilities, ModelError
from toolwire.models.remote import CallSink, Outgoing, RemoteModel, json_text
from toolwire.providers.gemini import gemini_client

PROVIDER = "gemini"
_FINISH = {"STOP": "stop", "MAX_TOKENS": "length"}


class GeminiModel(RemoteModel):
    """A Gemini model behind the Google Gen AI API."""

    provider = "gemini"
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
        backoff: float = 1.0,
    ) -> None:
        try:
            from google.genai import errors
        except ImportError as e:
            raise ImportError('Please install "toolwire[gemini]" to use Gemini models') from e
        self._errors = errors
        super().__init__(model)
        self._client = gemini_client(
            base_url=base_url,
            api_key=api_key,
            http_client=http_client,
            max_retries=max_retries,
            timeout=timeout,
            backoff=backoff,
        )

    async def _send(self, out: Outgoing) -> dict[str, Any]:
        system, contents = to_gemini_contents(out.messages, names=out.names)
        response = await self._client.aio.models.generate_content(
            model=self.model,
            contents=contents,  # type: ignore[arg-type]
            config=_config(  # type: ignore[arg-type]
                system, out.tools, out.constraint, out.settings, out.names
            ),
        )
        data: dict[str, Any] = response.model_dump(mode="json", by_alias=True, exclude_none=True)
        return data

    async def _stream(self, out: Outgoing, on_text: Callable[[str], None]) -> Completion:
        """``generate_content_stream``: each chunk's text to ``on_text``; the last chunk's
        finish reason and usage."""
        system, contents = to_gemini_contents(out.messages, names=out.names)
        stream = await self._client.aio.models.generate_content_stream(
            model=self.model,
            contents=contents,  # type: ignore[arg-type]
            config=_config(system, None, None, out.settings, out.names),  # type: ignore[arg-type]
        )
        parts: list[str] = []
        last: dict[str, Any] = {}
        async for chunk in stream:
            if chunk.text:
                parts.append(chunk.text)
                on_text(chunk.text)
            last = chunk.model_dump(mode="json", by_alias=True, exclude_none=True)
        final = self._completion(last, out) if last else Completion()
        return Completion(text="".join(parts), finish_reason=final.finish_reason,
                          usage=final.usage)

    async def _stream_tools(
        self, out: Outgoing, on_text: Callable[[str], None], on_call: CallSink
    ) -> Completion:
        """``generate_content_stream`` with tools: Gemini sends each ``functionCall`` part
        whole, so each call goes to ``on_call`` with the chunk that holds it, text to
        ``on_text`` as it comes. The parts so far are read as ``complete`` reads an answer
        (names, ids and coercion alike); the last finish reason and usage are kept."""
        system, contents = to_gemini_contents(out.messages, names=out.names)
        stream = await self._client.aio.models.generate_content_stream(
            model=self.model,
            contents=contents,  # type: ignore[arg-type]
            config=_config(  # type: ignore[arg-type]
                system, out.tools, None, out.settings, out.names
            ),
        )
        parts: list[dict[str, Any]] = []
        last: dict[str, Any] = {}
        finish, usage = None, None
        so_far = Completion()
        async for chunk in stream:
            last = chunk.model_dump(mode="json", by_alias=True, exclude_none=True)
            candidate = (last.get("candidates") or [{}])[0]
            parts += (candidate.get("content") or {}).get("parts") or []
            finish = candidate.get("finishReason") or finish
            usage = last.get("usageMetadata") or usage
            if not parts:
                continue
            answer = {"candidates": [{"content": {"parts": parts}, "finishReason": finish}],
                      "usageMetadata": usage}
            now = self._completion(answer, out)
            if len(now.text) > len(so_far.text):
                on_text(now.text[len(so_far.text):])
            for call in now.tool_calls[len(so_far.tool_calls):]:
                on_call(call)
            so_far = now
        if not parts:  # no answer at all: read the last chunk as complete() reads it
            return self._completion(last, out) if last else Completion()
        return so_far

    def _error(self, error: Exception) -> ModelError | None:
        if isinstance(error, self._errors.APIError):
            message = f"HTTP {error.code}: {error.message or error.status}"
            return self.fail(message, status=error.code)
        return None  # httpx's and the OS's errors: RemoteModel._vendor

    def _completion(self, data: dict[str, Any], out: Outgoing) -> Completion:
        return _completion(data, out.tools, out.constraint, out.names, self.name)


def _config(
    system: str,
    tools: list[ToolSpec] | None,
    constraint: Constraint | None,
    settings: ModelSettings,
    names: WireNames,
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "max_output_tokens": settings.max_tokens,
        "temperature": settings.temperature,
        "seed": settings.seed,
        "automatic_function_calling": {"disable": True},
    }
    if system:
        config["system_instruction"] = system
    if tools:
        try:
            declarations = [to_gemini(t, names=names) for t in tools]
        except DialectError as e:
            raise ModelError(PROVIDER, f"a tool cannot be declared to Gemini: {e}") from e
        config["tools"] = [{"function_declarations": declarations}]
        config["tool_config"] = {
            "function_calling_config": gemini_tool_choice(settings.tool_choice, names)
        }
    if isinstance(constraint, JsonSchemaConstraint):
        config["response_mime_type"] = "application/json"
        config["response_json_schema"] = constraint.schema
    elif constraint is not None:
        raise ModelError(PROVIDER, f"{type(constraint).__name__} needs a grammar-capable model")
    return config


def gemini_tool_choice(choice: str, names: WireNames) -> dict[str, Any]:
    """toolwire's tool_choice as a function-calling config: AUTO, NONE, ANY (+ one name)."""
    modes = {"auto": "AUTO", "none": "NONE", "required": "ANY"}
    if choice in modes:
        return {"mode": modes[choice]}
    return {"mode": "ANY", "allowed_function_names": [names.wire(choice)]}


def _completion(
    data: dict[str, Any],
    tools: list[ToolSpec] | None,
    constraint: Constraint | None,
    names: WireNames,
    name: str,
) -> Completion:
    candidates = data.get("candidates") or []
    if not candidates:
        reason = (data.get("promptFeedback") or {}).get("blockReason", "no candidates")
        raise ModelError(PROVIDER, f"{name}: no answer ({reason})")
    candidate = candidates[0]
    parts = (candidate.get("content") or {}).get("parts") or []
    try:
        text, calls = from_gemini_parts(parts, names=names)
    except DialectError as e:
        raise ModelError(PROVIDER, f"{name}: malformed function call: {e}") from e
    if isinstance(constraint, JsonSchemaConstraint) and text:
        text = json_text(constraint.schema, text)
    usage = data.get("usageMetadata") or {}
    finish = _FINISH.get(str(candidate.get("finishReason")), "stop")
    return Completion(
        text=text,
        tool_calls=restore_calls(calls, tools),
        usage=Usage(
            prompt_tokens=usage.get("promptTokenCount") or 0,
            completion_tokens=usage.get("candidatesTokenCount") or 0,
        ),
        finish_reason="tool_calls" if calls else finish,
    )

