"""toolwire next to pydantic-ai, the OpenAI Agents SDK and LangGraph: orchestration cost per run.

    make bench-peers                           # sets up the peers' virtualenv, then runs
    .venv/bin/python -m bench.peers --setup    # the same two steps by hand
    .venv/bin/python -m bench.peers [--rounds 8] [--batch 15]

Each framework runs the same agent: one sentence in, a model that answers at once with a call
of ``get_weather(city="Paris")``, the tool runs, the model answers at once with a sentence. So
what is timed is each framework's own work per run (preparing the tools for the model,
validating and dispatching the call, the second turn), never a model. Every framework gets its
own instant model written against its public model interface (pydantic-ai's ``FunctionModel``,
an Agents SDK ``Model``, a langchain-core ``BaseChatModel`` with ``bind_tools`` under
LangGraph's ``create_react_agent``, toolwire's ``ScriptedModel``), all async, and the same
plain ``def get_weather(city: str) -> str``. Scenarios:

- ``1 tool``: ``get_weather`` alone;
- ``1,000 tools``: ``get_weather`` and 999 other tools (invoices, flights, playlists...), the
  same sentence every run;
- ``1,000 tools, new sentences``: the same, a sentence never seen before on every run (what
  toolwire's query-vector cache cannot help with).

toolwire runs with its defaults (``Engine(registry, model=...)``: hybrid retrieval with the
shipped MiniLM, k = 5, the native strategy for a tool-calling model). The peers are installed
from PyPI in their own virtualenv (``bench/.peers-venv``, pinned in
``bench/peers-requirements.txt``): toolwire runs in this process, the peers in a child process
of that virtualenv, both kept alive. They take turns batch by batch (toolwire, then each peer,
the order rotated every round), so machine noise hits them alike; while one side runs the
other waits on a pipe. The first round is a warm-up and is not kept. Printed: p50 / p99 ms per
run for each framework and scenario, and toolwire's p50 over the fastest peer's (goal ≤ 0.5).
The last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.stats import percentile, table

HERE = Path(__file__).resolve().parent
VENV = HERE / ".peers-venv"
REQUIREMENTS = HERE / "peers-requirements.txt"
STAMP = VENV / ".installed"
"""Written by ``--setup`` once the pinned packages are in."""
GOAL_RATIO = 0.5
PEERS = ("pydantic-ai", "openai-agents", "langgraph")
QUESTION = "What is the weather in Paris?"
ANSWER = "It is sunny in Paris."


@dataclass(frozen=True)
class Scenario:
    name: str
    tools: int
    fresh: bool
    """A sentence never seen before on every run (else the same one)."""


SCENARIOS = (
    Scenario("1 tool", 1, False),
    Scenario("1,000 tools", 1000, False),
    Scenario("1,000 tools, new sentences", 1000, True),
)

Runner = Callable[[str], Awaitable[bool]]
"""Runs one sentence through a framework; whether the tool ran and the answer came back."""


# -- what every framework gets ------------------------------------------------------------
CALLS = [0]
"""``get_weather`` calls so far (each run must make exactly one)."""


def get_weather(city: str) -> str:
    """Current weather in a city.

    Args:
        city: the city name
    """
    CALLS[0] += 1
    return f"sunny in {city}"


def other_tool(**arguments: Any) -> str:
    """What the 999 other tools do when called (they never are)."""
    return "done"


_VERBS = ("get", "list", "create", "update", "delete", "search", "send", "cancel", "book",
          "export")
_OBJECTS = ("invoice", "order", "ticket", "customer", "flight", "hotel room", "playlist",
            "reminder", "stock quote", "translation", "shipment", "payment", "calendar event",
            "document", "recipe", "vehicle", "course", "subscription", "expense report",
            "support case")
_AREAS = ("billing", "travel", "music", "office", "logistics")


def other_specs(n: int) -> list[dict[str, Any]]:
    """``n`` (at most 1,000) distinct, plausible tool specs, none about the weather."""
    specs = []
    for area in _AREAS:
        for obj in _OBJECTS:
            for verb in _VERBS:
                words = obj.replace(" ", "_")
                specs.append({
                    "name": f"{area}_{verb}_{words}",
                    "description": f"{verb.capitalize()} a {obj} in the {area} system.",
                    "parameters": {
                        "type": "object",
                        "properties": {
                            f"{words}_id": {"type": "string", "description": f"the {obj} id"},
                            "note": {"type": "string", "description": "free text"},
                        },
                        "required": [f"{words}_id"],
                    },
                })
    return specs[:n]


_CITIES = ("Paris", "London", "Tokyo", "Lima", "Oslo", "Cairo", "Sydney", "Toronto", "Madrid",
           "Nairobi", "Seoul", "Lisbon", "Dublin", "Prague", "Vienna", "Athens", "Havana",
           "Quito", "Hanoi", "Dakar")
_TEMPLATES = ("What is the weather in {}?", "How warm is it in {} right now?",
              "Tell me the current weather in {}.", "Is it raining in {} today?",
              "What's the forecast for {}?", "Weather report for {}, please.",
              "What temperature is it in {} now?", "How cold is it in {} at the moment?")


def questions(fresh: bool) -> Iterator[str]:
    """The sentences of one framework's runs: the same one, or a new one every time."""
    n = 0
    while True:
        if not fresh:
            yield QUESTION
            continue
        template = _TEMPLATES[n % len(_TEMPLATES)]
        city = _CITIES[(n // len(_TEMPLATES)) % len(_CITIES)]
        cycle = n // (len(_TEMPLATES) * len(_CITIES))
        yield template.format(city) + (f" (request {cycle})" if cycle else "")
        n += 1


# -- toolwire (this process, .venv) -------------------------------------------------------
def toolwire_runner(tools: int) -> Runner:
    """toolwire's ``Engine`` with its defaults over ``get_weather`` and ``tools - 1`` others."""
    from toolwire import Registry
    from toolwire.engine import Engine
    from toolwire.messages import Completion, ToolCallRequest
    from toolwire.models.scripted import Request, ScriptedModel

    registry = Registry(index_dir=HERE / "results" / "peers-index")
    registry.register(get_weather)
    for spec in other_specs(tools - 1):
        registry.add_schema(spec, other_tool)

    def instant(request: Request) -> Completion:
        if request.tools:  # the first turn: the tool call
            return Completion(tool_calls=[
                ToolCallRequest(id="call_1", name="get_weather", arguments={"city": "Paris"})])
        return Completion(text=ANSWER)

    engine = Engine(registry, model=ScriptedModel(instant, name="instant"))

    async def run(question: str) -> bool:
        result = await engine.arun(question)
        return [c.status for c in result.calls] == ["ok"] and result.answer == ANSWER

    return run


# -- the peers (child process, bench/.peers-venv) -----------------------------------------
def pydantic_ai_runner(tools: int) -> Runner:
    from pydantic_ai import Agent, Tool
    from pydantic_ai.messages import (
        ModelMessage,
        ModelResponse,
        TextPart,
        ToolCallPart,
        ToolReturnPart,
    )
    from pydantic_ai.models.function import AgentInfo, FunctionModel

    async def instant(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        if any(isinstance(p, ToolReturnPart) for p in messages[-1].parts):
            return ModelResponse(parts=[TextPart(ANSWER)])
        return ModelResponse(parts=[ToolCallPart("get_weather", {"city": "Paris"})])

    others = [Tool.from_schema(other_tool, s["name"], s["description"], s["parameters"])
              for s in other_specs(tools - 1)]
    agent = Agent(FunctionModel(instant), tools=[get_weather, *others])

    async def run(question: str) -> bool:
        return (await agent.run(question)).output == ANSWER

    return run


def openai_agents_runner(tools: int) -> Runner:
    from agents import (
        Agent,
        FunctionTool,
        Model,
        ModelResponse,
        Usage,
        function_tool,
        set_tracing_disabled,
    )
    from agents import Runner as AgentRunner
    from openai.types.responses import (
        ResponseFunctionToolCall,
        ResponseOutputMessage,
        ResponseOutputText,
    )

    set_tracing_disabled(True)  # it would export traces to OpenAI's servers

    class InstantModel(Model):
        async def get_response(self, system_instructions: Any, input: Any, *args: Any,
                               **kwargs: Any) -> ModelResponse:
            answered = isinstance(input, list) and any(
                _field(item, "type") == "function_call_output" for item in input)
            output: list[Any] = [ResponseOutputMessage(
                id="msg_1", type="message", role="assistant", status="completed",
                content=[ResponseOutputText(type="output_text", text=ANSWER, annotations=[])],
            )] if answered else [ResponseFunctionToolCall(
                type="function_call", call_id="call_1", name="get_weather",
                arguments='{"city": "Paris"}',
            )]
            return ModelResponse(output=output, usage=Usage(), response_id=None)

        def stream_response(self, *args: Any, **kwargs: Any) -> Any:
            raise NotImplementedError

    async def invoke_other(context: Any, arguments: str) -> str:
        return other_tool()

    others = [FunctionTool(name=s["name"], description=s["description"],
                           params_json_schema=s["parameters"], on_invoke_tool=invoke_other,
                           strict_json_schema=False)
              for s in other_specs(tools - 1)]
    agent = Agent(name="bench", model=InstantModel(), tools=[function_tool(get_weather), *others])

    async def run(question: str) -> bool:
        return (await AgentRunner.run(agent, question)).final_output == ANSWER

    return run


def _field(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


def langgraph_runner(tools: int) -> Runner:
    import warnings

    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
    from langchain_core.outputs import ChatGeneration, ChatResult
    from langchain_core.tools import StructuredTool
    from langchain_core.utils.function_calling import convert_to_openai_tool

    with warnings.catch_warnings():  # deprecated for langchain's create_agent (not installed)
        warnings.simplefilter("ignore")
        from langgraph.prebuilt import create_react_agent

    class InstantChatModel(BaseChatModel):
        @property
        def _llm_type(self) -> str:
            return "instant"

        def _generate(self, messages: list[BaseMessage], stop: Any = None,
                      run_manager: Any = None, **kwargs: Any) -> ChatResult:
            if isinstance(messages[-1], ToolMessage):
                message = AIMessage(content=ANSWER)
            else:
                message = AIMessage(content="", tool_calls=[
                    {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1"}])
            return ChatResult(generations=[ChatGeneration(message=message)])

        async def _agenerate(self, messages: list[BaseMessage], stop: Any = None,
                             run_manager: Any = None, **kwargs: Any) -> ChatResult:
            return self._generate(messages, stop)

        def bind_tools(self, tools: Any, **kwargs: Any) -> Any:  # as ChatOpenAI does
            return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)

    others = [StructuredTool(name=s["name"], description=s["description"],
                             args_schema=s["parameters"], func=other_tool)
              for s in other_specs(tools - 1)]
    weather = StructuredTool.from_function(get_weather)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = create_react_agent(InstantChatModel(), [weather, *others])

    async def run(question: str) -> bool:
        state = await graph.ainvoke({"messages": [("user", question)]})
        return state["messages"][-1].content == ANSWER

    return run


BUILDERS: dict[str, Callable[[int], Runner]] = {
    "toolwire": toolwire_runner,
    "pydantic-ai": pydantic_ai_runner,
    "openai-agents": openai_agents_runner,
    "langgraph": langgraph_runner,
}
DISTRIBUTIONS = {"toolwire": "toolwire", "pydantic-ai": "pydantic-ai-slim",
                 "openai-agents": "openai-agents", "langgraph": "langgraph"}


# -- running batches (either process) -----------------------------------------------------
class Side:
    """The frameworks one process runs, each built once per tool count, and their sentences."""

    def __init__(self, frameworks: list[str]) -> None:
        self.frameworks = frameworks
        self.runners: dict[tuple[str, int], Runner] = {}
        self.sentences: dict[tuple[str, str], Iterator[str]] = {}
        self.loop = asyncio.new_event_loop()

    def build(self, tools: list[int]) -> dict[str, str]:
        """Build every framework for every tool count; the versions installed."""
        from importlib.metadata import version

        for name in self.frameworks:
            for n in tools:
                self.runners[name, n] = BUILDERS[name](n)
        return {name: version(DISTRIBUTIONS[name]) for name in self.frameworks}

    def batch(self, name: str, scenario: Scenario, runs: int) -> dict[str, Any]:
        """``runs`` timed runs of ``name`` in ``scenario``: ms per run, and how many were right."""
        run = self.runners[name, scenario.tools]
        sentences = self.sentences.setdefault(
            (name, scenario.name), questions(scenario.fresh))
        ms: list[float] = []
        right = 0
        for _ in range(runs):
            question = next(sentences)
            calls = CALLS[0]
            started = time.perf_counter()
            ok = self.loop.run_until_complete(run(question))
            ms.append((time.perf_counter() - started) * 1000)
            right += ok and CALLS[0] == calls + 1
        return {"ms": ms, "right": right}


def worker() -> None:
    """The peers' side: answers JSON requests on stdin, one per line, until stdin closes."""
    side = Side(list(PEERS))
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "build":
            reply: dict[str, Any] = {"versions": side.build(request["tools"])}
        else:
            scenario = next(s for s in SCENARIOS if s.name == request["scenario"])
            reply = side.batch(request["framework"], scenario, request["runs"])
        print(json.dumps(reply), flush=True)


class Peers:
    """The child process running the peers (``bench/.peers-venv``)."""

    def __init__(self) -> None:
        python = VENV / "bin" / "python"
        env = {**os.environ, "OPENAI_AGENTS_DISABLE_TRACING": "1", "PYTHONWARNINGS": "ignore"}
        env.pop("LANGSMITH_TRACING", None)
        env.pop("LANGCHAIN_TRACING_V2", None)
        self.process = subprocess.Popen(
            [str(python), "-m", "bench.peers", "--worker"], cwd=HERE.parent, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the peers' process ended (exit {self.process.wait()})")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)


# -- measuring ----------------------------------------------------------------------------
@dataclass
class Cell:
    ms: list[float] = field(default_factory=list)
    right: int = 0


def measure(rounds: int, batch: int) -> tuple[dict[tuple[str, str], Cell], dict[str, str]]:
    """``rounds`` kept rounds (after one warm-up round) of ``batch`` runs per framework and
    scenario, the frameworks taking turns."""
    tools = sorted({s.tools for s in SCENARIOS})
    mine = Side(["toolwire"])
    peers = Peers()
    try:
        versions = {**peers.ask({"op": "build", "tools": tools})["versions"],
                    **mine.build(tools)}
        names = ["toolwire", *PEERS]
        cells = {(n, s.name): Cell() for n in names for s in SCENARIOS}
        for number in range(rounds + 1):
            order = names[number % len(names):] + names[:number % len(names)]
            for scenario in SCENARIOS:
                for name in order:
                    if name == "toolwire":
                        reply = mine.batch(name, scenario, batch)
                    else:
                        reply = peers.ask({"op": "batch", "framework": name,
                                           "scenario": scenario.name, "runs": batch})
                    if number:  # round 0 warms up
                        cell = cells[name, scenario.name]
                        cell.ms += reply["ms"]
                        cell.right += reply["right"]
            print(f"round {number}/{rounds} done", file=sys.stderr, flush=True)
    finally:
        peers.close()
    return cells, versions


def report(cells: dict[tuple[str, str], Cell], versions: dict[str, str], rounds: int,
           batch: int) -> dict[str, Any]:
    scenarios: dict[str, Any] = {}
    for s in SCENARIOS:
        rows = {name: {"p50_ms": round(percentile(c.ms, 50), 3),
                       "p99_ms": round(percentile(c.ms, 99), 3),
                       "runs": len(c.ms), "right_runs": c.right}
                for (name, scenario), c in cells.items() if scenario == s.name}
        fastest = min(PEERS, key=lambda n: rows[n]["p50_ms"])
        ratio = rows["toolwire"]["p50_ms"] / rows[fastest]["p50_ms"]
        scenarios[s.name] = {"frameworks": rows, "fastest_peer": fastest,
                             "ratio_to_fastest_peer": round(ratio, 3),
                             "goal_met": ratio <= GOAL_RATIO}
    return {"bench": "peers", "rounds": rounds, "batch": batch, "goal_ratio": GOAL_RATIO,
            "versions": versions, "python": sys.version.split()[0], "scenarios": scenarios,
            "goal_met": all(s["goal_met"] for s in scenarios.values())}


def print_report(data: dict[str, Any]) -> None:
    runs = data["rounds"] * data["batch"]
    print(f"ms per run, instant model, one tool call then text; {runs} runs per framework and "
          "scenario, interleaved")
    rows = []
    for name, s in data["scenarios"].items():
        for framework, r in s["frameworks"].items():
            rows.append([name, f"{framework} {data['versions'][framework]}", r["p50_ms"],
                         r["p99_ms"], f"{r['right_runs']}/{r['runs']}"])
    print(table(["scenario", "framework", "p50", "p99", "right"], rows))
    for name, s in data["scenarios"].items():
        verdict = "met" if s["goal_met"] else "missed"
        print(f"{name}: toolwire / {s['fastest_peer']} (fastest peer) = "
              f"{s['ratio_to_fastest_peer']:.2f} (goal ≤ {GOAL_RATIO}: {verdict})")


# -- setting up the peers' virtualenv ------------------------------------------------------
def setup() -> None:
    """Create ``bench/.peers-venv`` and install the pinned peers into it."""
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [str(python), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True)
    STAMP.touch()


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setup", action="store_true",
                        help="create bench/.peers-venv with bench/peers-requirements.txt, then exit")
    parser.add_argument("--rounds", type=int, default=8, help="kept rounds (after a warm-up)")
    parser.add_argument("--batch", type=int, default=15,
                        help="runs per framework and scenario in a round")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker()
        return None
    if args.setup:
        setup()
        return None
    if args.rounds < 1 or args.batch < 1:
        parser.error("--rounds and --batch must be at least 1")
    if not STAMP.exists():
        parser.error("the peers are not installed: run 'make bench-peers' or "
                     "'.venv/bin/python -m bench.peers --setup' first")
    cells, versions = measure(args.rounds, args.batch)
    data = report(cells, versions, args.rounds, args.batch)
    print_report(data)
    print(json.dumps(data))
    return data


if __name__ == "__main__":
    main()
