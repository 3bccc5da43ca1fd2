"""Traces (``toolwire.tracing``) recorded by the SDK's in-memory exporter: the span tree of one
``/execute``, tool arguments only with the setting, the context crossing Celery (a real worker
thread on an in-memory broker) and reaching an imported HTTP tool's server."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Coroutine, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI, Request
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanContext, SpanKind, StatusCode

from tests.conftest import sqlite_url
from tests.petshop import serving
from tests.unit.test_api import make_registry, settings_for, start
from toolwire import tracing
from toolwire.api.app import create_app
from toolwire.engine import Engine
from toolwire.messages import Completion, ToolCallRequest, Usage
from toolwire.models.scripted import Request as ModelRequest
from toolwire.models.scripted import ScriptedModel
from toolwire.retrieval import ToolIndex
from toolwire.sources import add_openapi
from toolwire.tools import Registry
from toolwire.worker.runtime import Processed


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """toolwire's spans go to an SDK provider with an in-memory exporter for the test."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use(provider)
    yield exporter
    tracing.use(None, arguments=False)


def adder_with_usage(request: ModelRequest) -> Completion:
    """Calls ``add`` on the prompt's two numbers, reporting the tokens it used."""
    numbers = [int(n) for n in re.findall(r"-?\d+", request.messages[-1].content)]
    call = ToolCallRequest(id="call_1", name="add", arguments={"a": numbers[0], "b": numbers[1]})
    return Completion(tool_calls=[call], usage=Usage(prompt_tokens=31, completion_tokens=7),
                      finish_reason="tool_calls")


async def execute(tmp_path: Path, prompt: str, **settings: Any) -> dict[str, Any]:
    config = settings_for(tmp_path, **settings)
    engine = Engine(make_registry(), model=ScriptedModel(adder_with_usage), settings=config)
    app = create_app(engine=engine, database_url=sqlite_url(tmp_path), settings=config)
    async for client in start(app):
        response = await client.post("/execute", json={"prompt": prompt})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body
    raise AssertionError("the app did not start")


def tree(finished: tuple[ReadableSpan, ...]) -> dict[str, list[str]]:
    """Each span's name -> its children's names, in the order they started."""
    names = {s.context.span_id: s.name for s in finished}
    children: dict[str, list[str]] = {s.name: [] for s in finished}
    for s in sorted(finished, key=lambda s: s.start_time or 0):
        if s.parent is not None and s.parent.span_id in names:
            children[names[s.parent.span_id]].append(s.name)
    return children


def named(finished: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    [found] = [s for s in finished if s.name == name]
    return found


async def test_one_execute_is_one_trace_with_every_step(
    spans: InMemorySpanExporter, tmp_path: Path
) -> None:
    body = await execute(tmp_path, "add 2 and 40")
    finished = spans.get_finished_spans()
    request = named(finished, "POST /execute")
    assert {s.context.trace_id for s in finished} == {request.context.trace_id}
    assert request.kind == SpanKind.SERVER and request.parent is None
    assert (request.attributes or {})["http.route"] == "/execute"

    shape = tree(finished)
    assert shape["POST /execute"] == ["message"]
    assert shape["message"] == ["retrieve", "propose", "validate", "execute_tool add", "answer"]
    assert shape["propose"] == ["chat scripted"]

    message = named(finished, "message").attributes or {}
    assert message["toolwire.message.id"] == body["message_id"]
    assert message["toolwire.interaction.id"] == body["interaction_id"]
    assert message["toolwire.message.attempt"] == 1

    model = named(finished, "chat scripted")
    assert model.kind == SpanKind.CLIENT
    assert (model.attributes or {})["gen_ai.usage.input_tokens"] == 31
    assert (model.attributes or {})["gen_ai.usage.output_tokens"] == 7

    tool = named(finished, "execute_tool add")
    attributes = tool.attributes or {}
    assert (attributes["gen_ai.tool.name"], attributes["toolwire.tool.status"]) == ("add", "ok")
    assert attributes["toolwire.tool.duration_ms"] >= 0
    assert "gen_ai.tool.call.arguments" not in attributes  # not without the setting
    assert (named(finished, "retrieve").attributes or {})["toolwire.candidates"] == ("add",)
    assert (named(finished, "answer").attributes or {})["toolwire.outcome"] == "calls"


async def test_tool_arguments_are_recorded_only_with_the_setting(
    spans: InMemorySpanExporter, tmp_path: Path
) -> None:
    await execute(tmp_path, "add 2 and 40", trace_arguments=True)
    tool = named(spans.get_finished_spans(), "execute_tool add").attributes or {}
    assert json.loads(str(tool["gen_ai.tool.call.arguments"])) == {"a": 2, "b": 40}


def failing(a: int, b: int) -> int:
    """Add two numbers, badly.

    Args:
        a: the first number
        b: the second number
    """
    raise ValueError("out of order")


async def test_a_failing_tool_marks_its_span_an_error(spans: InMemorySpanExporter) -> None:
    registry = Registry()
    registry.use_index(ToolIndex(embedder=None))
    registry.register(failing)
    call = ToolCallRequest(id="call_1", name="failing", arguments={"a": 1, "b": 2})
    engine = Engine(registry, model=ScriptedModel([Completion(tool_calls=[call]),
                                                   Completion(text="It failed.")]))
    await engine.arun("add 1 and 2 with failing")
    tool = named(spans.get_finished_spans(), "execute_tool failing")
    assert tool.status.status_code == StatusCode.ERROR
    assert (tool.attributes or {})["toolwire.tool.status"] == "error"


# -- across Celery --------------------------------------------------------------------------
class LoopRuntime:
    """The worker's runtime as far as a task sees it: coroutines run on an event loop of its
    own thread (which does not inherit the task thread's context); ``process`` notes the span
    current there and finds nothing to do."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.seen: list[SpanContext] = []

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    async def process(self, message_id: uuid.UUID) -> Processed:
        self.seen.append(trace.get_current_span().get_span_context())
        return Processed("gone")

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


def test_the_trace_context_crosses_celery_to_the_task(
    spans: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API's ``TaskQueue.enqueue`` puts the context in the task's headers; a real worker
    (a thread, on an in-memory broker) runs the real ``process_message``, whose run on the
    runtime's loop continues the sender's trace."""
    from celery.contrib.testing.worker import start_worker

    from toolwire.service.queue import TaskQueue
    from toolwire.worker import tasks

    runtime = LoopRuntime()
    monkeypatch.setattr(tasks, "_runtime", runtime)
    queue = TaskQueue("memory://")
    try:
        with start_worker(queue.app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
            with tracing.span("POST /execute") as sender:
                queue.enqueue(uuid.uuid4(), request_id="r-1")
            for _ in range(200):
                if runtime.seen:
                    break
                time.sleep(0.05)
    finally:
        runtime.close()
    [parent] = runtime.seen
    assert (parent.trace_id, parent.span_id) == (sender.get_span_context().trace_id,
                                                 sender.get_span_context().span_id)
    assert parent.is_remote


def test_a_task_without_trace_headers_starts_no_trace() -> None:
    from toolwire.worker.tasks import trace_parent

    request = SimpleNamespace(headers=None, toolwire_request_id="r-1")
    assert not trace.get_current_span(trace_parent(request)).get_span_context().is_valid


# -- to an imported HTTP tool ---------------------------------------------------------------
def echo_app(headers: list[dict[str, str]]) -> FastAPI:
    app = FastAPI(title="Echo", version="1.0")

    @app.get("/echo/{word}", operation_id="echo_word", summary="Say a word back")
    def echo(word: str, request: Request) -> dict[str, str]:
        headers.append(dict(request.headers))
        return {"word": word}

    return app


async def test_an_imported_http_tool_call_carries_the_trace_to_its_server(
    spans: InMemorySpanExporter,
) -> None:
    headers: list[dict[str, str]] = []
    with serving(echo_app(headers)) as url:
        registry = Registry()
        registry.use_index(ToolIndex(embedder=None))
        add_openapi(registry, f"{url}/openapi.json", base_url=url, allow_private=True)
        call = ToolCallRequest(id="call_1", name="echo_word", arguments={"word": "hello"})
        engine = Engine(registry, model=ScriptedModel([Completion(tool_calls=[call]),
                                                       Completion(text="It said hello.")]))
        run = await engine.arun("echo the word hello")
    assert run.calls[0].status == "ok", run.calls[0].error
    tool = named(spans.get_finished_spans(), "execute_tool echo_word").context
    [sent] = headers
    version, trace_id, parent_id, _flags = sent["traceparent"].split("-")
    assert (version, trace_id, parent_id) == ("00", f"{tool.trace_id:032x}", f"{tool.span_id:016x}")


# -- nothing paid without an endpoint -------------------------------------------------------
def test_without_an_endpoint_nothing_is_set_up(tmp_path: Path) -> None:
    """No ``OTEL_EXPORTER_OTLP_ENDPOINT``: the app serves with OpenTelemetry's no-op tracer,
    the SDK never imported and no request instrumented."""
    script = f"""
import sys
from pathlib import Path
from toolwire import tracing
from toolwire.api.app import create_app
from tests.unit.test_api import settings_for
app = create_app(settings=settings_for(Path({str(tmp_path)!r})))
assert not tracing.enabled() and not tracing.exporting()
assert "opentelemetry.sdk" not in sys.modules, "the SDK was imported"
assert not getattr(app, "_is_instrumented_by_opentelemetry", False)
print("ok")
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, cwd=Path(__file__).parents[2], timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
