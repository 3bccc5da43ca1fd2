"""Prometheus metrics: HTTP requests (count and latency by route), pipeline stages, tool calls
and messages by status, the tool pool, and the broker's queue depth.

Each app gets its own ``CollectorRegistry`` so several apps (tests) never collide. With several
processes on one host (API processes, ``toolwire worker`` and its pool), set
``PROMETHEUS_MULTIPROC_DIR`` to one empty directory for all of them (before they start):
every process writes its counters there and ``GET /metrics`` reports the sum over all of
them (prometheus-client's multiprocess mode). ``toolwire worker --metrics-port`` serves the
same sum from the worker's main process (``toolwire.worker.metrics``), through
:func:`multiprocess_registry` too.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector


class Metrics:
    """The counters and histograms toolwire exports at ``GET /metrics``."""

    def __init__(self) -> None:
        prepare_multiprocess_dir()
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
        self.stages = Histogram(
            "toolwire_pipeline_stage_duration_seconds",
            "Time spent in each pipeline stage (retrieve, select, validate, execute, describe).",
            ["stage"],
            registry=self.registry,
        )
        self._live: list[Collector] = [_ToolPoolCollector()]
        """Read at scrape time in this process (not summed over processes)."""
        for collector in self._live:
            self.registry.register(collector)

    def watch(self, collector: Collector) -> None:
        """Report ``collector`` (read at scrape time) too: the queue depth, say."""
        self._live.append(collector)
        self.registry.register(collector)

    def observe_stages(self, timings_ms: dict[str, float]) -> None:
        for stage, ms in timings_ms.items():
            self.stages.labels(stage).observe(ms / 1000)

    def render(self) -> bytes:
        """The exposition text for a scrape (summed over processes in multiprocess mode)."""
        if multiprocess_dir() is None:
            return generate_latest(self.registry)
        return generate_latest(multiprocess_registry(*self._live))


def multiprocess_dir() -> str | None:
    """``PROMETHEUS_MULTIPROC_DIR``, or None when multiprocess mode is off."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def prepare_multiprocess_dir() -> None:
    """Create ``PROMETHEUS_MULTIPROC_DIR`` when it is set and missing (as ``toolwire worker``
    does), so a scrape never fails on it; one that cannot be a directory is a clear error at
    start rather than a 500 at every scrape."""
    directory = multiprocess_dir()
    if directory is None:
        return
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as e:
        raise MetricsConfigError(
            f"PROMETHEUS_MULTIPROC_DIR={directory} cannot be used as the metrics directory: {e}"
        ) from None


class MetricsConfigError(ValueError):
    """``PROMETHEUS_MULTIPROC_DIR`` names something that is not a usable directory."""


def multiprocess_registry(*live: Collector) -> CollectorRegistry:
    """A registry for a scrape in multiprocess mode: what every process wrote under
    ``PROMETHEUS_MULTIPROC_DIR`` (counters and histograms summed, gauges by their mode), plus
    ``live`` collectors read in this process at scrape time."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    for collector in live:
        registry.register(collector)
    return registry


class QueueDepthCollector(Collector):
    """``toolwire_queue_depth``: messages waiting in the broker for a worker."""

    def __init__(self, depth: Callable[[], int | None]) -> None:
        self.depth = depth

    def collect(self) -> Iterator[Metric]:
        value = self.depth()
        if value is not None:
            yield GaugeMetricFamily("toolwire_queue_depth",
                                    "Messages waiting in the broker for a worker.", value=value)


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
