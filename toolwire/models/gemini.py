"""Google Gemini backend (optional extra ``toolwire[gemini]``).

    GeminiModel("gemini-2.0-flash")

Tools go out as function declarations in Gemini's OpenAPI subset (see ``dialects/gemini.py``);
calls come back from ``functionCall`` parts with their arguments coerced onto the original
schemas (JSON strings decoded, for instance). A ``JsonSchemaConstraint`` becomes
``response_json_schema`` with a JSON response type.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from toolwire.dialects import WireNames, coerce_arguments, to_gemini, to_gemini_contents
from toolwire.dialects.calls import restore_calls
from toolwire.dialects.gemini import from_gemini_parts
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
from toolwire.models.base import ModelError
from toolwire.providers.gemini import gemini_client

PROVIDER = "gemini"
_FINISH = {"STOP": "stop", "MAX_TOKENS": "length"}


class GeminiModel:
    """A Gemini model behind the Google Gen AI API."""

    supports_tools = True
    supports_grammar = False
    supports_parallel = True

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
        self.model = model
        self.name = f"gemini:{model}"
        self._client = gemini_client(
            base_url=base_url,
            api_key=api_key,
            http_client=http_client,
            max_retries=max_retries,
            timeout=timeout,
            backoff=backoff,
        )

    async def complete(
        self,
        messages: list[Message],
        *,
        tools: list[ToolSpec] | None = None,
        constraint: Constraint | None = None,
        settings: ModelSettings | None = None,
    ) -> Completion:
        """One generateContent call; vendor errors become ``ModelError``."""
        names = WireNames.build([t.name for t in tools or []], "gemini")
        system, contents = to_gemini_contents(messages, names=names)
        config = _config(system, tools, constraint, settings or ModelSettings(), names)
        try:
            response = await self._client.aio.models.generate_content(
                model=self.model,
                contents=contents,  # type: ignore[arg-type]
                config=config,  # type: ignore[arg-type]
            )
        except self._errors.APIError as e:
            message = f"{self.name}: HTTP {e.code}: {e.message or e.status}"
            raise ModelError(PROVIDER, message, status=e.code) from e
        except (httpx.HTTPError, OSError) as e:
            raise ModelError(PROVIDER, f"{self.name}: {type(e).__name__}: {e}") from e
        data = response.model_dump(mode="json", by_alias=True, exclude_none=True)
        return _completion(data, tools, constraint, names, self.name)


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
        text = _coerce_json_text(constraint.schema, text)
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


def _coerce_json_text(schema: dict[str, Any], text: str) -> str:
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if isinstance(value, dict):
        value = coerce_arguments(schema, value)
    return json.dumps(value, ensure_ascii=False)
