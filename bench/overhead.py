"""Orchestration overhead: the whole pipeline with a model that answers instantly.

    .venv/bin/python -m bench.overhead [--runs 300]

Every sentence of ``bench/bar.py`` (the bar and the others) goes through the real pipeline
over the built-in registry, with a ``ScriptedModel`` whose responder knows the right answer
and returns it at once, so what is timed is toolwire's own work: retrieval, prompts,
selection, argument filling, validation, dispatch, snippet, description. Configurations,
interleaved run by run so machine noise hits them alike:

- ``bare``: the baseline, a direct call of the tool's function plus its snippet;
- ``native/keyword``, ``native/dense``: a tool-calling model (one answer with the tool call,
  then the text), retrieval keyword-only (``ToolIndex(embedder=None)``) or hybrid (the
  shipped MiniLM embeds each query);
- ``staged/keyword``, ``staged/dense``: a grammar-capable model (``supports_grammar=True``)
  answering each ``ChoiceConstraint`` and ``GrammarConstraint`` request instantly;
- ``staged/keyword/process``: the same instant model served from a supervised model process
  (``toolwire.models.process``, as the embedded model is): the difference to
  ``staged/keyword`` is what the process boundary costs per run;
- ``native/keyword+traces``, ``staged/keyword+traces``: the keyword configurations with
  traces on (``toolwire.tracing``: the SDK's provider, a batch processor, an in-memory
  exporter) beside the same without (no endpoint: OpenTelemetry's no-op tracer), and the
  ratio of their p50s; apart, what one no-op span costs and how many a run opens.

The weather service is replaced by an ``httpx.MockTransport`` (the network edge only) and
``DISPLAY`` is unset, so every tool returns at once. Printed per configuration: p50 / p99 ms
per run, p50 without the retrieve stage, and p50 minus the bare baseline's (goal: ≤ 2 ms p50
for keyword retrieval, i.e. excluding the query embedding). The last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from bench.bar import BAR, EXTRA, Case, problems
from bench.stats import percentile, table
from toolwire.models.base import (
    ChoiceConstraint,
    Completion,
    GrammarConstraint,
    ToolCallRequest,
)
from toolwire.models.scripted import Request, ScriptedModel

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

GOAL_P50_MS = 2.0
WARMUP_RUNS = 20


# -- the instant model --------------------------------------------------------------------
_RESULT = "\n(Result: "
"""How ``toolwire.answer`` appends the calls' results to the question."""


def _question(request: Request) -> str:
    users = [m.content for m in request.messages if m.role == "user"]
    return users[-1].split(_RESULT)[0] if users else ""


def _describe_text(request: Request) -> str:
    """The describe step's answer: the function results, echoed (numbers kept)."""
    content = request.messages[-1].content
    _, _, results = content.partition(_RESULT)
    return results.removesuffix(")").strip() or "Here is a short poem about the sea."


def instant_model(cases: list[Case], *, grammar: bool) -> ScriptedModel:
    """A ``ScriptedModel`` answering each sentence of ``cases`` right, at once.

    ``grammar=False``: a tool-calling model (native tool calls, then text).
    ``grammar=True``: a grammar-capable one (choices scored, span grammars answered).
    """
    expected = {c.sentence: c.expected for c in cases}

    def native(request: Request) -> Completion:
        want = expected[_question(request)]
        if request.tools is None or want.name is None:
            return Completion(text=_describe_text(request))
        return Completion(tool_calls=[_call(want.name, dict(want.arguments))])

    def staged(request: Request) -> Completion:
        want = expected[_question(request)]
        prefill = request.messages[-1].content
        param = (re.findall(r'"(\w+)": $', prefill) or [""])[0]
        if isinstance(request.constraint, ChoiceConstraint):
            right = f'{want.name}"' if prefill.endswith('"name": "') else want.arguments.get(param)
            return _choice(request.constraint.options, right)
        if isinstance(request.constraint, GrammarConstraint):
            return Completion(text=json.dumps(want.arguments.get(param, "")))
        return Completion(text=_describe_text(request))

    return ScriptedModel(staged if grammar else native, name="instant",
                         supports_tools=not grammar, supports_grammar=grammar)


def _call(name: str, arguments: dict[str, Any]) -> ToolCallRequest:
    return ToolCallRequest(id="call_1", name=name, arguments=arguments)


def _choice(options: tuple[str, ...], right: Any) -> Completion:
    """Scores that favour the option ``right`` (a tool name + quote, or an argument value)."""

    def score(option: str) -> float:
        if option == right:
            return 0.0
        try:
            return 0.0 if json.loads(option.rstrip(",}")) == right else -10.0
        except ValueError:
            return -10.0

    scores = {o: score(o) for o in options}
    return Completion(text=max(options, key=lambda o: scores[o]), scores=scores)


# -- the configurations -------------------------------------------------------------------
@dataclass(kw_only=True)
class Config:
    name: str
    run: Callable[[Case], Any]
    """Runs one sentence; returns a ``Run`` (pipeline) or ``None`` (bare)."""
    ms: list[float] = field(default_factory=list)
    ms_after_retrieve: list[float] = field(default_factory=list)
    schemas: dict[str, Any] = field(default_factory=dict)
    right: int = 0
    """Kept runs whose calls and results were the expected ones (a check, not timed)."""
    exporter: InMemorySpanExporter | None = None
    """Where a traced configuration's spans went (counted, a check that traces were on)."""
    flush: Callable[[], object] | None = None


def engine_config(name: str, cases: list[Case], *, grammar: bool, dense: bool) -> Config:
    from toolwire.builtin import default_registry
    from toolwire.engine import Engine
    from toolwire.retrieval import ToolIndex

    registry = default_registry()
    registry.use_index(ToolIndex() if dense else ToolIndex(embedder=None))
    engine = Engine(registry, model=instant_model(cases, grammar=grammar))
    schemas = {t.name: t.parameters for t in registry}
    return Config(name=name, run=lambda case: engine.arun(case.sentence), schemas=schemas)


def traced_config(name: str, cases: list[Case], *, grammar: bool) -> Config:
    """``engine_config``'s keyword configuration, each run with traces on: toolwire's spans
    to the SDK (a batch processor, as an export has, into an in-memory exporter)."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from toolwire import tracing

    config = engine_config(name, cases, grammar=grammar, dense=False)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    untraced = config.run

    async def run(case: Case) -> Any:
        tracing.use(provider)
        try:
            return await untraced(case)
        finally:
            tracing.use(None)

    config.run = run
    config.exporter = exporter
    config.flush = provider.force_flush
    return config


def noop_span_us(spans: int = 100_000) -> float:
    """Microseconds one span takes with no tracer configured (OpenTelemetry's no-op)."""
    from toolwire import tracing

    started = time.perf_counter()
    for _ in range(spans):
        with tracing.span("noop"):
            pass
    return (time.perf_counter() - started) / spans * 1e6


def process_instant_model() -> ScriptedModel:
    """The staged instant model, built inside the model process (``ModelProcess`` factory)."""
    return instant_model([*BAR, *EXTRA], grammar=True)


def process_config(name: str) -> Config:
    from toolwire.builtin import default_registry
    from toolwire.engine import Engine
    from toolwire.models.process import ModelProcess
    from toolwire.retrieval import ToolIndex

    registry = default_registry()
    registry.use_index(ToolIndex(embedder=None))
    model = ModelProcess("bench.overhead:process_instant_model", name="instant-process")
    model.load()
    engine = Engine(registry, model=model)
    schemas = {t.name: t.parameters for t in registry}
    return Config(name=name, run=lambda case: engine.arun(case.sentence), schemas=schemas)


def bare_config() -> Config:
    """A direct call of the expected tool's function, then its snippet."""
    from toolwire.builtin import default_registry
    from toolwire.tools.dispatch import coerce_arguments
    from toolwire.tools.snippets import snippet_for

    registry = default_registry()

    async def bare(case: Case) -> None:
        want = case.expected
        if want.name is None:
            return
        tool = registry.get(want.name)
        assert tool.handler is not None
        arguments = dict(want.arguments)
        with contextlib.suppress(Exception):  # a tool's error is its result, as in the pipeline
            tool.handler(**coerce_arguments(tool.handler, arguments))
        snippet_for(tool, arguments)

    return Config(name="bare", run=bare)


# -- the network edge ---------------------------------------------------------------------
def weather_transport() -> httpx.MockTransport:
    """Open-Meteo's geocoding and forecast answers, canned."""

    def handle(request: httpx.Request) -> httpx.Response:
        if "search" in request.url.path:
            return httpx.Response(200, json={"results": [
                {"name": request.url.params.get("name"), "country": "Somewhere",
                 "latitude": 48.85, "longitude": 2.35}]})
        return httpx.Response(200, json={"timezone": "UTC", "current": {
            "time": "2025-01-01T12:00", "temperature_2m": 21.5, "apparent_temperature": 21.0,
            "relative_humidity_2m": 50, "weather_code": 1, "wind_speed_10m": 10.0}})

    return httpx.MockTransport(handle)


# -- measuring ----------------------------------------------------------------------------
async def one(config: Config, case: Case, keep: bool) -> None:
    started = time.perf_counter()
    run = await config.run(case)
    elapsed = (time.perf_counter() - started) * 1000
    if not keep:
        return
    config.ms.append(elapsed)
    if run is not None:
        config.ms_after_retrieve.append(elapsed - run.timings_ms.get("retrieve", 0.0))
        calls = [c.to_dict() for c in run.calls]
        config.right += not problems(case.expected, calls, config.schemas, outcome=False)


async def measure(configs: list[Config], cases: list[Case], runs: int) -> None:
    """``runs`` kept runs per configuration (after a warm-up), interleaved."""
    for i in range(WARMUP_RUNS + runs):
        case = cases[i % len(cases)]
        for config in configs:
            await one(config, case, keep=i >= WARMUP_RUNS)


def report(configs: list[Config], runs: int) -> dict[str, Any]:
    bare = percentile(configs[0].ms, 50)
    rows: dict[str, Any] = {}
    for c in configs:
        p50 = percentile(c.ms, 50)
        rows[c.name] = {
            "p50_ms": round(p50, 4),
            "p99_ms": round(percentile(c.ms, 99), 4),
            "p50_without_retrieve_ms": round(percentile(c.ms_after_retrieve, 50), 4)
            if c.ms_after_retrieve else None,
            "overhead_p50_ms": round(p50 - bare, 4),
            "ratio_to_bare": round(p50 / bare, 1) if bare > 0 else None,
            "right_runs": c.right if c.schemas else None,
        }
    keyword = [rows[n]["p50_ms"] for n in rows if n.endswith("/keyword")]
    boundary = rows["staged/keyword/process"]["p50_ms"] - rows["staged/keyword"]["p50_ms"]
    return {"bench": "overhead", "runs_per_config": runs, "goal_p50_ms": GOAL_P50_MS,
            "keyword_p50_max_ms": max(keyword), "goal_met": max(keyword) <= GOAL_P50_MS,
            "process_boundary_p50_ms": round(boundary, 4), "configs": rows,
            "traces": traces_report(configs, rows, runs)}


def traces_report(configs: list[Config], rows: dict[str, Any], runs: int) -> dict[str, Any]:
    """Each traced configuration's p50 beside the same without traces, their ratio, the
    spans a run opened, and what that many no-op spans cost (traces off)."""
    noop_us = noop_span_us()
    compared: dict[str, Any] = {}
    for c in configs:
        if c.exporter is None or c.flush is None:
            continue
        c.flush()
        off = rows[c.name.removesuffix("+traces")]["p50_ms"]
        on = rows[c.name]["p50_ms"]
        per_run = len(c.exporter.get_finished_spans()) / (WARMUP_RUNS + runs)
        compared[c.name.removesuffix("+traces")] = {
            "off_p50_ms": off, "on_p50_ms": on, "ratio": round(on / off, 3) if off else None,
            "spans_per_run": round(per_run, 1),
            "noop_spans_ms_per_run": round(per_run * noop_us / 1000, 4)}
    return {"noop_span_us": round(noop_us, 3), "configs": compared}


def print_report(data: dict[str, Any]) -> None:
    rows = [[name, r["p50_ms"], r["p99_ms"],
             "" if r["p50_without_retrieve_ms"] is None else r["p50_without_retrieve_ms"],
             r["overhead_p50_ms"], "" if r["ratio_to_bare"] is None else r["ratio_to_bare"],
             "" if r["right_runs"] is None else r["right_runs"]]
            for name, r in data["configs"].items()]
    print(f"orchestration overhead, instant scripted model, {data['runs_per_config']} runs per "
          "configuration over the bar sentences (ms)")
    print(table(["config", "p50", "p99", "p50 w/o retrieve", "p50 - bare", "× bare", "right"],
                rows))
    print(f"keyword retrieval p50: {data['keyword_p50_max_ms']:.3f} ms at most "
          f"(goal ≤ {GOAL_P50_MS} ms)")
    print(f"model process boundary: +{data['process_boundary_p50_ms']:.3f} ms p50 per run "
          "(staged/keyword/process - staged/keyword)")
    traces = data["traces"]
    for name, t in traces["configs"].items():
        print(f"traces, {name}: off {t['off_p50_ms']:.3f} ms, on (SDK, in-memory exporter) "
              f"{t['on_p50_ms']:.3f} ms p50: × {t['ratio']}; {t['spans_per_run']} spans a run, "
              f"{t['noop_spans_ms_per_run']:.4f} ms of them with traces off "
              f"({traces['noop_span_us']:.2f} µs a no-op span)")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300, help="kept runs per configuration")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        os.environ.pop(name, None)
    from toolwire.builtin import weather

    cases = [*BAR, *EXTRA]
    previous = weather.set_transport(weather_transport())
    try:
        configs = [
            bare_config(),
            engine_config("native/keyword", cases, grammar=False, dense=False),
            engine_config("staged/keyword", cases, grammar=True, dense=False),
            engine_config("native/dense", cases, grammar=False, dense=True),
            engine_config("staged/dense", cases, grammar=True, dense=True),
            process_config("staged/keyword/process"),
            traced_config("native/keyword+traces", cases, grammar=False),
            traced_config("staged/keyword+traces", cases, grammar=True),
        ]
        asyncio.run(measure(configs, cases, args.runs))
    finally:
        weather.set_transport(previous)
    data = report(configs, args.runs)
    print_report(data)
    print(json.dumps(data))
    return data


if __name__ == "__main__":
    main()
