"""Traces: OpenTelemetry spans for what toolwire does, exported over OTLP/HTTP when asked.

With ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) set,
``toolwire serve`` and each ``toolwire worker`` process send their spans there, in batches;
the SDK's other ``OTEL_*`` variables apply (``OTEL_SERVICE_NAME``,
``OTEL_EXPORTER_OTLP_HEADERS``, ``OTEL_BSP_SCHEDULE_DELAY``...). Unset, the SDK is not even
imported and no span is made (a program that embeds toolwire and set up OpenTelemetry
itself passes its provider to ``use`` to have toolwire's spans in its own traces).

One ``/execute`` through a worker is one trace::

    POST /execute                    the API's request (FastAPI's instrumentation)
    └── message                      the worker's run: message and interaction ids, lease attempt
        ├── retrieve                 the candidates offered
        ├── propose                  the strategy's calls
        │   └── chat scripted        each model call: tokens in and out when reported
        ├── validate                 the arguments checked
        │   └── repair               a repair asked of the strategy
        ├── execute_tool add         name, status, duration (arguments when allowed)
        └── answer
            └── chat scripted

The context crosses Celery in the task's headers (``carrier`` in the API, ``extract`` in the
worker) and reaches an imported HTTP tool's server as a ``traceparent`` header. A tool call's
arguments become a span attribute only with ``TOOLWIRE_TRACE_ARGUMENTS=true``: they may hold
what people typed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import (
    INVALID_SPAN,
    Span,
    SpanKind,
    Status,
    StatusCode,
    Tracer,
    TracerProvider,
)

if TYPE_CHECKING:
    from opentelemetry.context import Context

T = TypeVar("T")

NAME = "toolwire"
"""The instrumentation scope of toolwire's spans."""
ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
"""Either one set turns the export on."""
FINE = frozenset({"ok", "pending_approval", "approved"})
"""Tool call statuses that are no error of the span's."""

__all__ = [
    "ENDPOINT_VARIABLES",
    "NAME",
    "carrier",
    "configure_tracing",
    "enabled",
    "exporting",
    "extract",
    "failed",
    "fields",
    "flush",
    "instrument_app",
    "model_call",
    "model_usage",
    "span",
    "tool_call",
    "tool_outcome",
    "use",
    "within",
]


@dataclass
class _State:
    provider: TracerProvider | None = None
    """Where toolwire's spans go (the export's, a test's, an embedding program's); ``None``:
    nowhere, and no span is made."""
    tracer: Tracer | None = None
    arguments: bool = False
    """Tool call arguments are recorded as a span attribute."""
    pid: int | None = None
    """The process that configured the export (a forked child configures its own)."""


_state = _State()
_UNTRACED = nullcontext(INVALID_SPAN)


def exporting() -> bool:
    """Whether the environment asks for an OTLP export (an endpoint is set)."""
    return any(os.environ.get(name) for name in ENDPOINT_VARIABLES)


def configure_tracing(service_name: str, *, arguments: bool = False) -> bool:
    """Export this process's spans over OTLP/HTTP, batched, when an endpoint is set; returns
    whether it does. Without one nothing is set up (and nothing paid). Call it once per
    process, after any fork (a Celery pool process calls it on start); again it does nothing.
    ``OTEL_SERVICE_NAME``, when set, names the service instead of ``service_name``."""
    _state.arguments = arguments
    if not exporting():
        return False
    if _state.pid == os.getpid():
        return True
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    named = {} if os.environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: service_name}
    provider = SdkTracerProvider(resource=Resource.create(named))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)  # the libraries' spans too
    use(provider, arguments=arguments)
    _state.pid = os.getpid()
    return True


def use(provider: TracerProvider | None, *, arguments: bool | None = None) -> None:
    """Send toolwire's spans to ``provider``: a program with OpenTelemetry set up passes its
    own (``trace.get_tracer_provider()``), a test the SDK's with an in-memory exporter;
    ``None``: no spans. ``arguments``: record tool call arguments."""
    _state.provider = provider
    _state.tracer = provider.get_tracer(NAME) if provider else None
    if arguments is not None:
        _state.arguments = arguments


def enabled() -> bool:
    """Whether toolwire makes spans: an export is configured, or ``use`` gave a provider."""
    return _state.provider is not None


def flush(timeout_millis: int = 5000) -> None:
    """Send the spans still batched (a process about to exit without ``atexit``)."""
    force_flush = getattr(_state.provider, "force_flush", None)
    if force_flush is not None:
        force_flush(timeout_millis)


def instrument_app(app: Any) -> None:
    """Give every HTTP request of the FastAPI ``app`` a server span (continuing a caller's
    ``traceparent``) when toolwire traces; ``/healthz`` and ``/metrics`` are left out unless
    ``OTEL_PYTHON_FASTAPI_EXCLUDED_URLS`` says otherwise."""
    if not enabled():
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    excluded = os.environ.get("OTEL_PYTHON_FASTAPI_EXCLUDED_URLS", "healthz,metrics")
    FastAPIInstrumentor.instrument_app(app, tracer_provider=_state.provider,
                                       excluded_urls=excluded, exclude_spans=["receive", "send"])


# -- spans ----------------------------------------------------------------------------------
def span(
    name: str, attributes: Mapping[str, Any] | None = None, *, kind: SpanKind = SpanKind.INTERNAL
) -> AbstractContextManager[Span]:
    """A span around the block, the current one within it; an exception escaping it is
    recorded and sets its status to error. Without a provider (``enabled`` is false), a
    shared empty context whose span records nothing: even the API's no-op span would cost
    microseconds."""
    if _state.tracer is None:
        return _UNTRACED
    return _state.tracer.start_as_current_span(name, attributes=attributes, kind=kind)


def failed(current: Span, description: str) -> None:
    """Mark ``current`` failed with ``description`` (an error handled, not raised)."""
    current.set_status(Status(StatusCode.ERROR, description))


def tool_call(name: str, call_id: str, arguments: Mapping[str, Any]) -> AbstractContextManager[Span]:
    """The span of one tool call (OpenTelemetry's GenAI ``execute_tool`` convention); its
    arguments as JSON only when allowed (``TOOLWIRE_TRACE_ARGUMENTS``)."""
    attributes: dict[str, Any] = {"gen_ai.operation.name": "execute_tool",
                                  "gen_ai.tool.name": name, "gen_ai.tool.call.id": call_id}
    if _state.arguments:
        attributes["gen_ai.tool.call.arguments"] = json.dumps(arguments, default=str)
    return span(f"execute_tool {name}", attributes)


def tool_outcome(
    current: Span, status: str, duration_ms: float | None, error: Mapping[str, Any] | None
) -> None:
    """Record a tool call's status and duration on its span; a failure is the span's error."""
    current.set_attribute("toolwire.tool.status", status)
    if duration_ms is not None:
        current.set_attribute("toolwire.tool.duration_ms", duration_ms)
    if status not in FINE:
        kind = str((error or {}).get("type", status))
        current.set_attribute("error.type", kind)
        failed(current, str((error or {}).get("message", kind))[:500])


def model_call(model: str, operation: str = "chat") -> AbstractContextManager[Span]:
    """The span of one model call (OpenTelemetry's GenAI client convention)."""
    provider, _, _ = model.partition(":")
    return span(f"{operation} {model}", {
        "gen_ai.operation.name": operation, "gen_ai.request.model": model,
        "gen_ai.provider.name": provider}, kind=SpanKind.CLIENT)


def model_usage(current: Span, input_tokens: int, output_tokens: int, finish: str) -> None:
    """Record what a model call used, when its backend reported it (tokens above zero)."""
    if input_tokens or output_tokens:
        current.set_attribute("gen_ai.usage.input_tokens", input_tokens)
        current.set_attribute("gen_ai.usage.output_tokens", output_tokens)
    current.set_attribute("gen_ai.response.finish_reasons", [finish])


# -- propagation ----------------------------------------------------------------------------
def carrier() -> dict[str, str]:
    """The current trace context as headers (``traceparent``...; none when nothing is traced)."""
    headers: dict[str, str] = {}
    propagate.inject(headers)
    return headers


def extract(headers: Mapping[str, Any]) -> Context:
    """The trace context ``headers`` carry (a Celery task's, an HTTP request's)."""
    return propagate.extract({k: str(v) for k, v in headers.items() if v is not None})


def fields() -> frozenset[str]:
    """The header names the propagators write (``traceparent``, ``tracestate``, ``baggage``)."""
    return frozenset(propagate.get_global_textmap().fields)


async def within(parent: Context, awaitable: Awaitable[T]) -> T:
    """Await ``awaitable`` under ``parent``: a coroutine handed to another thread's event
    loop does not inherit the caller's context (a Celery worker's task)."""
    token = otel_context.attach(parent)
    try:
        return await awaitable
    finally:
        otel_context.detach(token)
