"""Traces exported over OTLP/HTTP by real processes: ``toolwire serve`` and a ``toolwire worker``
(Celery over a Redis of the test's own, PostgreSQL) send their spans to a receiver the test
runs, which decodes them as an OpenTelemetry collector would (``ExportTraceServiceRequest``).
One ``/execute`` through the worker is one trace: the API's request span, and under it the
worker's message, proposal, tool call and answer."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.conftest import postgres_database
from tests.integration.test_celery import post, redis_server, wait_done, worker
from tests.integration.test_server import _free_port, server

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


@dataclass(frozen=True)
class Received:
    """One span as the receiver decoded it."""

    service: str
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict[str, Any]


class Receiver:
    """A minimal OTLP/HTTP trace receiver: ``POST /v1/traces`` with a protobuf body."""

    def __init__(self) -> None:
        self.spans: list[Received] = []
        self.paths: list[str] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.take(self.path, self.headers.get("Content-Type", ""), body)
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", _free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def take(self, path: str, content_type: str, body: bytes) -> None:
        assert content_type == "application/x-protobuf"
        request = ExportTraceServiceRequest.FromString(body)
        with self._lock:
            self.paths.append(path)
            for resource_spans in request.resource_spans:
                resource = {a.key: a.value.string_value
                            for a in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        self.spans.append(Received(
                            service=resource.get("service.name", ""), name=span.name,
                            trace_id=span.trace_id.hex(), span_id=span.span_id.hex(),
                            parent_id=span.parent_span_id.hex(),
                            attributes={a.key: _value(a.value) for a in span.attributes}))

    def named(self, name: str) -> list[Received]:
        with self._lock:
            return [s for s in self.spans if s.name == name]


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


@contextmanager
def receiving() -> Iterator[Receiver]:
    receiver = Receiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


def test_one_execute_through_a_worker_is_one_trace(tmp_path: Path) -> None:
    with postgres_database() as database_url, receiving() as receiver:
        port = _free_port()
        env = {
            "TOOLWIRE_HOME": str(tmp_path),
            "TOOLWIRE_DATABASE_URL": database_url,
            "TOOLWIRE_BROKER_URL": f"redis://127.0.0.1:{port}/0",
            "TOOLWIRE_MODEL": "scripted:tests.integration.test_celery:note_model",
            "TOOLWIRE_TOOL_MODULES": '["tests.integration.celery_tools"]',
            "TOOLWIRE_TEST_NOTES": str(tmp_path / "notes.txt"),
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
            "OTEL_BSP_SCHEDULE_DELAY": "100",  # milliseconds between batches
        }
        with redis_server(port), server(database_url, tmp_path, env) as client, \
                worker(env, tmp_path / "worker.log"):
            accepted = post(client, "please note traced-1")
            wait_done(client, [accepted], 60)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not (
                    receiver.named("answer") and receiver.named("POST /execute")):
                time.sleep(0.1)

    [request] = receiver.named("POST /execute")
    [message] = receiver.named("message")
    trace = [s for s in receiver.spans if s.trace_id == request.trace_id]
    names = {s.name for s in trace}
    assert {"POST /execute", "message", "retrieve", "propose", "validate",
            "execute_tool take_note", "answer"} <= names, names
    assert any(name.startswith("chat ") for name in names), names
    assert set(receiver.paths) == {"/v1/traces"}

    assert (request.service, message.service) == ("toolwire-api", "toolwire-worker")
    assert message.trace_id == request.trace_id and message.parent_id == request.span_id
    assert message.attributes["toolwire.message.id"] == str(accepted["id"])
    assert message.attributes["toolwire.message.attempt"] == 1
    for name in ("retrieve", "propose", "validate", "execute_tool take_note", "answer"):
        [step] = [s for s in trace if s.name == name]
        assert (step.service, step.parent_id) == ("toolwire-worker", message.span_id), name
    [tool] = receiver.named("execute_tool take_note")
    assert tool.attributes["toolwire.tool.status"] == "ok"
    assert "gen_ai.tool.call.arguments" not in tool.attributes
