"""End-to-end time, accuracy and memory of the engine on the embedded default model.

    .venv/bin/python -m bench.engine_e2e [--repeat 3] [--model local:smollm2-135m]

One warm engine (built-in tools, the embedded SmolLM2-135M on llama.cpp, hybrid retrieval):
the model load and the first search (which loads the embedder and embeds the tools) are timed
apart. Then every sentence of the bar (issue 2) and a few others runs ``--repeat`` times; the
first run of each is a warm-up and is dropped. Printed:

- per sentence: p50 / p90 end-to-end seconds (goal ≤ 1.5 s p50) and whether the call is right
  (name, arguments, result; see ``bench/bar.py``), with what the engine called when it is not;
- per stage (``Run.timings_ms``): p50 over all kept runs;
- accuracy on the bar (goal ≥ 9/10) and peak RSS (goal ≤ 600 MB): the service process
  plus the model process it supervises;
- generation and prompt throughput of the model (tokens/s), measured through the model
  process;
- with ``--boundary``: every run repeated on llama.cpp loaded in this process
  (``LlamaModel``), interleaved, so the model-process boundary's cost is a ratio of one run
  (goal: < 5 % of the end-to-end p50).

The weather service is pointed at a dead port and ``DISPLAY`` is unset, so the outcome of the
weather and ``open_app`` calls is the same error on every machine; the calls are still scored.
The last line is the whole report as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any

from bench.bar import BAR, EXTRA, PASS_MARK, Case, offline_env, problems
from bench.stats import peak_rss_mb, percentile, process_peak_rss_mb, table

GOAL_P50_S = 1.5
GOAL_RSS_MB = 600.0


@dataclass(kw_only=True)
class Outcome:
    """The kept runs of one sentence."""

    case: Case
    bar: bool
    seconds: list[float] = field(default_factory=list)
    stages_ms: list[dict[str, float]] = field(default_factory=list)
    problems: list[list[str]] = field(default_factory=list)
    calls: list[list[dict[str, Any]]] = field(default_factory=list)
    answer: str = ""
    """The last kept run's answer."""
    candidates: list[str] = field(default_factory=list)
    """The last kept run's retrieved tools, best first."""

    @property
    def right(self) -> bool:
        """Right in every kept run."""
        return all(not p for p in self.problems)

    def summary(self) -> dict[str, Any]:
        return {
            "sentence": self.case.sentence,
            "bar": self.bar,
            "p50_s": round(percentile(self.seconds, 50), 4),
            "p90_s": round(percentile(self.seconds, 90), 4),
            "right": self.right,
            "problems": sorted({p for run in self.problems for p in run}),
            "calls": [{"name": c["name"], "arguments": c["arguments"]} for c in self.calls[-1]],
            "candidates": self.candidates,
            "answer": self.answer[:160],
        }


@dataclass(kw_only=True)
class Setup:
    engine: Any
    load_s: float
    index_s: float
    in_process: Any = None
    """An engine on llama.cpp in this process (``--boundary``), same registry."""


_THROUGHPUT_PROMPT = "Write a long story about a lighthouse keeper and the sea. " * 4


async def throughput(model: Any) -> dict[str, float]:
    """Tokens per second of generation (128 tokens) and of a ~250-token prompt."""
    from toolwire.models.base import Message, Settings

    await model.complete([Message(role="user", content="hi")], settings=Settings(max_tokens=4))
    started = time.perf_counter()
    out = await model.complete([Message(role="user", content=_THROUGHPUT_PROMPT)],
                               settings=Settings(max_tokens=128, stop=("\u0000",)))
    generation_s = time.perf_counter() - started
    started = time.perf_counter()
    prompt = await model.complete(
        [Message(role="user", content=_THROUGHPUT_PROMPT * 4)], settings=Settings(max_tokens=1)
    )
    prompt_s = time.perf_counter() - started
    return {
        "generated_tokens": out.usage.completion_tokens,
        "generation_tok_s": round(out.usage.completion_tokens / generation_s, 1),
        "prompt_tokens": prompt.usage.prompt_tokens,
        "prompt_tok_s": round(prompt.usage.prompt_tokens / prompt_s, 1),
    }


def make_engine(model: str | None, *, boundary: bool = False) -> Setup:
    """A warm engine: the model loaded and the tools indexed (each timed)."""
    os.environ.update(offline_env())
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        os.environ.pop(name, None)
    from toolwire.config import get_settings
    from toolwire.engine import Engine

    get_settings.cache_clear()
    engine = Engine(model=model)
    started = time.perf_counter()
    engine.model.load()
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    engine.registry.search("warm up the index", 1)
    index_s = time.perf_counter() - started
    in_process = None
    if boundary:
        from toolwire.models.llama import LlamaModel

        local = LlamaModel(getattr(engine.model, "path", "smollm2-135m"))
        local.load()
        in_process = Engine(engine.registry, model=local)
    return Setup(engine=engine, load_s=load_s, index_s=index_s, in_process=in_process)


async def measure(
    engine: Any, case: Case, *, bar: bool, repeat: int, beside: Any = None,
    beside_seconds: list[float] | None = None,
) -> Outcome:
    """``repeat`` runs of one sentence; the first is a warm-up and is not kept. With
    ``beside``, each run is repeated on that engine too (timed into ``beside_seconds``)."""
    schemas = {t.name: t.parameters for t in engine.registry}
    outcome = Outcome(case=case, bar=bar)
    for i in range(repeat):
        if beside is not None and i % 2:  # alternate which engine goes first
            await _beside(beside, case, keep=i > 0, seconds=beside_seconds)
        started = time.perf_counter()
        run = await engine.arun(case.sentence)
        elapsed = time.perf_counter() - started
        if beside is not None and not i % 2:
            await _beside(beside, case, keep=i > 0 or repeat == 1, seconds=beside_seconds)
        if i == 0 and repeat > 1:
            continue
        calls = [c.to_dict() for c in run.calls]
        outcome.seconds.append(elapsed)
        outcome.stages_ms.append(dict(run.timings_ms))
        outcome.calls.append(calls)
        outcome.problems.append(problems(case.expected, calls, schemas))
        outcome.answer, outcome.candidates = run.answer, list(run.candidates)
    return outcome


async def _beside(engine: Any, case: Case, *, keep: bool, seconds: list[float] | None) -> None:
    started = time.perf_counter()
    await engine.arun(case.sentence)
    if keep and seconds is not None:
        seconds.append(time.perf_counter() - started)


async def measure_all(
    setup: Setup, repeat: int, beside_seconds: list[float]
) -> tuple[list[Outcome], dict[str, float]]:
    cases = [(c, True) for c in BAR] + [(c, False) for c in EXTRA]
    outcomes = [
        await measure(setup.engine, c, bar=b, repeat=repeat, beside=setup.in_process,
                      beside_seconds=beside_seconds)
        for c, b in cases
    ]
    return outcomes, await throughput(setup.engine.model)


def stage_p50(outcomes: list[Outcome]) -> dict[str, float]:
    """p50 of each stage over every kept run of every sentence, in ms."""
    by_stage: dict[str, list[float]] = {}
    for outcome in outcomes:
        for stages in outcome.stages_ms:
            for name, ms in stages.items():
                by_stage.setdefault(name, []).append(ms)
    return {name: round(percentile(v, 50), 2) for name, v in by_stage.items()}


def report(
    setup: Setup,
    outcomes: list[Outcome],
    repeat: int,
    tokens: dict[str, float],
    in_process_seconds: list[float],
) -> dict[str, Any]:
    every = [s for o in outcomes for s in o.seconds]
    bar = [o for o in outcomes if o.bar]
    child_pid = setup.engine.model.health().detail().get("pid")
    boundary: dict[str, Any] = {}
    if in_process_seconds:
        inside = percentile(in_process_seconds, 50)
        boundary = {
            "in_process_p50_s": round(inside, 4),
            "process_over_in_process": round(percentile(every, 50) / inside, 3),
        }
    return {
        "bench": "engine_e2e",
        "model": setup.engine.model.name,
        "repeat": repeat,
        "kept_runs_per_sentence": max(repeat - 1, 1),
        "load_s": round(setup.load_s, 3),
        "index_warm_s": round(setup.index_s, 3),
        "p50_s": round(percentile(every, 50), 4),
        "p90_s": round(percentile(every, 90), 4),
        "sentence_p50_max_s": round(max(percentile(o.seconds, 50) for o in outcomes), 4),
        "sentences_within_goal": sum(percentile(o.seconds, 50) <= GOAL_P50_S for o in outcomes),
        "sentences": len(outcomes),
        "stages_p50_ms": stage_p50(outcomes),
        "bar_right": sum(o.right for o in bar),
        "bar_total": len(bar),
        "bar_pass": sum(o.right for o in bar) >= PASS_MARK,
        "extra_right": sum(o.right for o in outcomes if not o.bar),
        "extra_total": sum(not o.bar for o in outcomes),
        "peak_rss_mb": round(peak_rss_mb() + process_peak_rss_mb(child_pid), 1),
        "model_process_peak_rss_mb": round(process_peak_rss_mb(child_pid), 1),
        "throughput": tokens,
        "boundary": boundary,
        "goals": {"p50_s": GOAL_P50_S, "bar_right": PASS_MARK, "peak_rss_mb": GOAL_RSS_MB},
        "per_sentence": [o.summary() for o in outcomes],
    }


def print_report(data: dict[str, Any]) -> None:
    rows = [
        [("bar " if s["bar"] else "    ") + s["sentence"][:52], s["p50_s"], s["p90_s"],
         "yes" if s["right"] else "NO", "" if s["right"] else "; ".join(s["problems"])[:90]]
        for s in data["per_sentence"]
    ]
    print(f"engine end to end: {data['model']}, {data['repeat']} runs per sentence "
          f"(first dropped); load {data['load_s']:.2f} s, index warm-up {data['index_warm_s']:.2f} s")
    print(table(["sentence", "p50 s", "p90 s", "right", "what went wrong"], rows))
    print()
    print(table(["stage", "p50 ms"], list(data["stages_p50_ms"].items())))
    print()
    print(f"all sentences: p50 {data['p50_s']:.3f} s, p90 {data['p90_s']:.3f} s; "
          f"{data['sentences_within_goal']}/{data['sentences']} sentences with p50 ≤ {GOAL_P50_S} s")
    print(f"bar accuracy: {data['bar_right']}/{data['bar_total']} (goal ≥ {PASS_MARK}); "
          f"others {data['extra_right']}/{data['extra_total']}")
    print(f"peak RSS: {data['peak_rss_mb']:.0f} MB, of which the model process "
          f"{data['model_process_peak_rss_mb']:.0f} MB (goal ≤ {GOAL_RSS_MB:.0f} MB)")
    t = data["throughput"]
    print(f"model throughput: generation {t['generation_tok_s']} tok/s "
          f"({t['generated_tokens']} tokens), prompt {t['prompt_tok_s']} tok/s "
          f"({t['prompt_tokens']} tokens)")
    if data["boundary"]:
        b = data["boundary"]
        print(f"model process boundary: p50 {data['p50_s']:.3f} s vs {b['in_process_p50_s']:.3f} s "
              f"in process: x{b['process_over_in_process']} (goal < 1.05)")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per sentence (first dropped)")
    parser.add_argument("--model", default=None, help="model string (default: the embedded one)")
    parser.add_argument("--boundary", action="store_true",
                        help="also run each sentence on llama.cpp in this process, interleaved")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    setup = make_engine(args.model, boundary=args.boundary)
    in_process_seconds: list[float] = []
    outcomes, tokens = asyncio.run(measure_all(setup, args.repeat, in_process_seconds))
    data = report(setup, outcomes, args.repeat, tokens, in_process_seconds)
    print_report(data)
    print(json.dumps(data))
    return data


if __name__ == "__main__":
    main()
