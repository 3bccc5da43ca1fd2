"""Prometheus metrics: HTTP requests (count and latency by route) and tool calls by status.

Each app gets its own ``CollectorRegistry`` so several apps (tests) never collide.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Metrics:
    """The counters and histograms toolwire exports at ``GET /metrics``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "toolwire_http_requests",
            "HTTP requests by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "toolwire_http_request_duration_seconds",
            "HTTP request latency by method and route template.",
            ["method", "route"],
            registry=self.registry,
        )
        self.tool_calls = Counter(
            "toolwire_tool_calls",
            "Tool calls by tool name and status (ok, error, timeout, invalid...).",
            ["tool", "status"],
            registry=self.registry,
        )
        self.messages = Counter(
            "toolwire_messages",
            "Processed prompts by final status (done or failed).",
            ["status"],
            registry=self.registry,
        )

        self.registry.register(_ToolPoolCollector())

    def render(self) -> bytes:
        """The exposition text for a scrape."""
        return generate_latest(self.registry)


class _ToolPoolCollector(Collector):
    """The tool pool's figures, read at scrape time."""

    def collect(self) -> Iterator[Metric]:
        from toolwire.tools.pool import tool_pool

        stats = tool_pool().stats()
        for name, value, doc in (
            ("toolwire_tool_threads_limit", stats.limit, "Tool calls that may run at once."),
            ("toolwire_tool_threads_active", stats.active, "Tool calls running now."),
            ("toolwire_tool_threads_abandoned", stats.abandoned,
             "Threads of timed-out tool calls still running (they hold no slot)."),
            ("toolwire_tool_pool_saturated", int(stats.saturated),
             "1 when every tool slot is taken (new calls wait)."),
        ):
            yield GaugeMetricFamily(name, doc, value=value)
        yield CounterMetricFamily(
            "toolwire_tool_timeouts", "Tool calls stopped at their timeout.", value=stats.timeouts
        )


def _route(scope: Scope) -> str:
    route: Any = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


class MetricsMiddleware:
    """Pure ASGI middleware (no per-request task) counting requests and timing them."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        start = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route, method = _route(scope), scope["method"]
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - start)
