"""The shared base of the hosted backends (OpenAI-compatible, Anthropic, Gemini).

One ``complete()`` flow for all of them: map the tool names to the vendor's rules, send one
request, turn the vendor's errors into ``ModelError`` (status and message kept), and read the
answer back. A backend supplies the three vendor parts; its SDK does the retries (client
setup lives in ``toolwire.providers``). ``stream_complete`` (a plain answer) and
``stream_tools`` (an answer with tools) hand the answer over as it comes, where the backend's
SDK streams it (``_stream``, ``_stream_tools``), else in one piece.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import httpx

from toolwire.dialects import WireNames, onto_schema
from toolwire.dialects.names import Dialect
from toolwire.messages import (
    Completion,
    Constraint,
    Message,
    ModelSettings,
    ToolSpec,
)
from toolwire.models.base import CallSink, Capabilities, Model, ModelError, TextSink

__all__ = ["CallSink", "Outgoing", "RemoteModel", "json_text", "status_message"]

T = TypeVar("T")


@dataclass(kw_only=True, frozen=True)
class Outgoing:
    """One request on its way to a vendor: what ``complete`` was asked, and the wire names."""

    messages: list[Message]
    tools: list[ToolSpec] | None
    constraint: Constraint | None
    settings: ModelSettings
    names: WireNames


class RemoteModel(Model):
    """A model behind a vendor's HTTP API, with native tool calling; a backend whose SDK
    streams (``_stream``, ``_stream_tools``) declares so in its ``capabilities``."""

    provider: ClassVar[Dialect]
    capabilities = Capabilities(tools=True, parallel=True)

    def __init__(self, model: str, *, name: str | None = None) -> None:
        self.model = model
        self.name = name or f"{self.provider}:{model}"

    async def complete(
        self,
        messages: list[Message],
        *,
        tools: list[ToolSpec] | None = None,
        constraint: Constraint | None = None,
        settings: ModelSettings | None = None,
    ) -> Completion:
        """One request to the vendor; its errors become ``ModelError``."""
        out = Outgoing(
            messages=messages,
            tools=tools,
            constraint=constraint,
            settings=settings or ModelSettings(),
            names=WireNames.build([t.name for t in tools or []], self.provider),
        )
        return self._completion(await self._vendor(self._send(out)), out)

    async def stream_complete(
        self, messages: list[Message], *, settings: ModelSettings, on_text: TextSink
    ) -> Completion:
        """A plain answer (no tools) streamed through the vendor's SDK, each piece of text to
        ``on_text``; its errors become ``ModelError``."""
        out = Outgoing(messages=messages, tools=None, constraint=None, settings=settings,
                       names=WireNames.build([], self.provider))
        return await self._vendor(self._stream(out, on_text))

    async def stream_tools(
        self,
        messages: list[Message],
        *,
        tools: list[ToolSpec],
        settings: ModelSettings,
        on_text: TextSink,
        on_call: CallSink,
    ) -> Completion:
        """``complete`` with ``tools``, streamed through the vendor's SDK: each piece of text
        to ``on_text``, each call (names and arguments restored) to ``on_call`` as soon as all
        of it has come; its errors become ``ModelError``."""
        out = Outgoing(messages=messages, tools=tools, constraint=None, settings=settings,
                       names=WireNames.build([t.name for t in tools], self.provider))
        return await self._vendor(self._stream_tools(out, on_text, on_call))

    async def _vendor(self, call: Awaitable[T]) -> T:
        """Await a call to the vendor; its errors become ``ModelError``."""
        try:
            return await call
        except ModelError:
            raise
        except Exception as e:
            error = self._error(e)
            if error is None and isinstance(e, httpx.HTTPError | OSError):
                # a connection dropped while a stream is read: the SDKs let httpx's own out
                error = self.fail(f"{type(e).__name__}: {e}")
            if error is None:
                raise
            raise error from e

    async def _stream(self, out: Outgoing, on_text: TextSink) -> Completion:
        """Stream ``out``; a backend whose SDK cannot hands the answer over in one piece."""
        completion = self._completion(await self._send(out), out)
        if completion.text:
            on_text(completion.text)
        return completion

    async def _stream_tools(
        self, out: Outgoing, on_text: TextSink, on_call: CallSink
    ) -> Completion:
        """Stream ``out`` with its tools; a backend whose SDK cannot hands the answer over in
        one piece: its text, then its calls."""
        completion = self._completion(await self._send(out), out)
        if completion.text:
            on_text(completion.text)
        for call in completion.tool_calls:
            on_call(call)
        return completion

    def fail(self, message: str, *, status: int | None = None) -> ModelError:
        """A ``ModelError`` of this backend, its message prefixed with the model's name."""
        return ModelError(self.provider, f"{self.name}: {message}", status=status)

    @abstractmethod
    async def _send(self, out: Outgoing) -> dict[str, Any]:
        """Send the request; the vendor's answer as plain data."""

    @abstractmethod
    def _error(self, error: Exception) -> ModelError | None:
        """The ``ModelError`` for a vendor or transport error (``None``: not the vendor's)."""

    @abstractmethod
    def _completion(self, data: dict[str, Any], out: Outgoing) -> Completion:
        """The vendor's answer as a ``Completion`` (calls restored to the original names)."""


def status_message(error: Any, name: str) -> str:
    """``<model>: HTTP <status>: <the vendor's own message>`` for an SDK status error."""
    detail = str(getattr(error, "message", error))
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            detail = str(inner["message"])
    return f"{name}: HTTP {error.status_code}: {detail}"


def json_text(schema: dict[str, Any], text: str) -> str:
    """A JSON answer with its object's values coerced onto ``schema`` (text left as it is
    when it is not JSON)."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if isinstance(value, dict):
        value = onto_schema(schema, value)
    return json.dumps(value, ensure_ascii=False)
