"""A normal ``POST /execute`` beside 20 tool calls that never return, next to it alone.

    .venv/bin/python -m bench.hung_tools [--requests 100] [--hung 20]

toolwire's app (in process, over httpx's ASGI transport, SQLite in a temporary folder) on a
scripted model that asks for ``add`` with the prompt's two numbers, or for ``hang`` (blocked
in C code, never returning within the bench) when the prompt says "wait". First ``--requests``
normal requests are timed alone; then ``--hung`` requests for ``hang`` are put in flight and the
same normal requests are timed again while they wait. Printed: p50 and p90 of each phase and
their ratio (goal: the normal request within 2x its usual time).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.stats import percentile, table

RELEASE = threading.Event()
GOAL_RATIO = 2.0


def add(a: int, b: int) -> int:
    """Add two whole numbers.

    Args:
        a: the first number
        b: the second number
    """
    return a + b


def hang(seconds: float) -> str:
    """Wait until the bench ends.

    Args:
        seconds: how long to wait
    """
    RELEASE.wait()
    return "released"


def _answer(request: Any) -> Any:
    from toolwire.models.base import Completion, ToolCallRequest

    last = request.messages[-1].content
    if not request.tools:
        found = re.search(r"\(Result: (\S+?)\)", last)
        return Completion(text=f"It is {found.group(1)}." if found else "Done.")
    if "wait" in last:
        call = ToolCallRequest(id=uuid.uuid4().hex, name="hang", arguments={"seconds": 1e6})
    else:
        a, b = (int(n) for n in re.findall(r"\d+", last)[:2])
        call = ToolCallRequest(id=uuid.uuid4().hex, name="add", arguments={"a": a, "b": b})
    return Completion(tool_calls=[call])


async def _timed(client: httpx.AsyncClient, n: int) -> list[float]:
    seconds = []
    for i in range(n):
        started = time.perf_counter()
        response = await client.post("/execute", json={"prompt": f"add {i} and 2"})
        seconds.append(time.perf_counter() - started)
        assert response.status_code == 200 and response.json()["answer"] == f"It is {i + 2}."
    return seconds


async def run(requests: int, hung: int, home: Path) -> dict[str, Any]:
    from toolwire.api.app import create_app
    from toolwire.config import Settings
    from toolwire.engine import Engine
    from toolwire.models.scripted import ScriptedModel
    from toolwire.retrieval import ToolIndex
    from toolwire.tools import Registry

    registry = Registry()
    registry.use_index(ToolIndex(embedder=None))
    registry.register(add, answer="It is {result}.")  # the model sentence drops the inputs
    registry.register(hang, timeout=600)
    settings = Settings(home=home, model="scripted", shutdown_grace=0, auth="off")
    engine = Engine(registry, model=ScriptedModel(_answer), settings=settings)
    app = create_app(engine=engine, settings=settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            await _timed(client, 10)  # warm-up
            alone = await _timed(client, requests)
            waiting = [asyncio.create_task(client.post("/execute", json={"prompt": "wait"}))
                       for _ in range(hung)]
            await asyncio.sleep(0.5)
            health = (await client.get("/healthz")).json()["components"]["tools"]
            beside = await _timed(client, requests)
            assert not any(task.done() for task in waiting)
            RELEASE.set()
            await asyncio.gather(*waiting)
    ratio = percentile(beside, 50) / percentile(alone, 50)
    return {
        "bench": "hung_tools",
        "requests": requests,
        "hung": hung,
        "alone_p50_ms": round(percentile(alone, 50) * 1000, 3),
        "alone_p90_ms": round(percentile(alone, 90) * 1000, 3),
        "beside_hung_p50_ms": round(percentile(beside, 50) * 1000, 3),
        "beside_hung_p90_ms": round(percentile(beside, 90) * 1000, 3),
        "ratio_p50": round(ratio, 3),
        "goal_ratio": GOAL_RATIO,
        "goal_met": ratio <= GOAL_RATIO,
        "tool_pool_during": health,
        "alone_mean_ms": round(statistics.mean(alone) * 1000, 3),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--hung", type=int, default=20)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="toolwire-bench-") as home:
        data = asyncio.run(run(args.requests, args.hung, Path(home)))
    print(f"POST /execute, scripted model, {data['requests']} requests per phase (ms)")
    print(table(["phase", "p50", "p90"], [
        ["alone", data["alone_p50_ms"], data["alone_p90_ms"]],
        [f"beside {data['hung']} hung tools", data["beside_hung_p50_ms"],
         data["beside_hung_p90_ms"]],
    ]))
    print(f"ratio p50: {data['ratio_p50']} (goal ≤ {GOAL_RATIO}); tool pool meanwhile: "
          f"{data['tool_pool_during']['state']}, {data['tool_pool_during']['detail']['active']} active")
    print(json.dumps(data))
    return data


if __name__ == "__main__":
    main()
