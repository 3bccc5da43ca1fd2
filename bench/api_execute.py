"""``POST /execute`` throughput and latency next to a bare FastAPI endpoint doing the same writes.

    .venv/bin/python -m bench.api_execute [--requests 600] [--concurrency 8] [--databases sqlite,postgresql]

For each database, real uvicorn servers run side by side on loopback ports, all on the
scripted model (so no model time is counted); the client sends them alternating batches so
that load swings on a shared machine hit every server alike:

- ``bare``: :func:`bare_app`, one FastAPI endpoint that converts the currency directly and
  stores the same rows with the same promises: the prompt committed before the work
  (interaction + user message), the tool call journaled ``running`` before it runs (reply +
  call rows: at most once, as toolwire's journal does), then the outcome in a third
  transaction.
- ``toolwire``: :func:`keyword_app`, toolwire's app with keyword-only retrieval: the whole
  pipeline (retrieve, select, validate, execute ``convert_currency``, snippet, describe) and
  the stored interaction, prompt, reply and tool call. The ratio to ``bare`` is the goal.
- ``toolwire+dense``: the default app, whose retrieval also embeds the query (MiniLM, CPU).

An httpx client sends ``--requests`` requests per server (after a warm-up, in ``--rounds``
batches) with ``--concurrency`` in flight and prints requests/s, p50 and p99 per server and the ratio toolwire/bare (goal ≥ 0.8).
PostgreSQL runs on a throwaway database on ``TOOLWIRE_TEST_POSTGRES`` (default the local server).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[1]
PROMPT = "I want to exchange 42 US dollars to Canadian dollars"
POSTGRES_ADMIN_URL = os.environ.get(
    "TOOLWIRE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


# -- the two servers ------------------------------------------------------------------------
def currency_model() -> Any:
    """The scripted model for the toolwire server: reads amount and currencies off the prompt."""
    from toolwire.models.base import Completion, ToolCallRequest
    from toolwire.models.scripted import Request, ScriptedModel

    codes = {"us dollars": "USD", "canadian dollars": "CAD", "euros": "EUR"}

    def answer(request: Request) -> Completion:
        prompt = request.messages[-1].content
        if not request.tools:
            returned = re.search(r"returned (\S+?)\.?$", prompt, re.M)
            return Completion(text=f"That is {returned.group(1) if returned else '?'}.")
        lowered = prompt.lower()
        found = sorted((lowered.find(n), c) for n, c in codes.items() if n in lowered)
        amount = float(re.findall(r"\d+(?:\.\d+)?", prompt)[0])
        arguments = {"amount": amount, "from_currency": found[0][1], "to_currency": found[1][1]}
        return Completion(
            tool_calls=[ToolCallRequest(id="", name="convert_currency", arguments=arguments)]
        )

    return ScriptedModel(answer, name="scripted-bench")


class Body(BaseModel):
    prompt: str


def bare_app() -> Any:
    """A minimal FastAPI app: convert directly, insert the same rows, answer."""
    from fastapi import FastAPI
    from sqlalchemy import insert, update

    from toolwire.builtin.currency import convert_currency
    from toolwire.config import get_settings
    from toolwire.store.db import Database
    from toolwire.store.tables import Interaction, Message, ToolCall
    from toolwire.store.types import utcnow

    database = Database(get_settings().resolved_database_url)
    app = FastAPI()

    @app.post("/execute")
    def execute(body: Body) -> dict[str, Any]:
        now = utcnow()
        ids = {name: uuid.uuid4() for name in ("interaction", "message", "reply", "call")}
        with database.write_session() as session:  # the prompt, stored before the work
            session.execute(insert(Interaction).values(
                id=ids["interaction"], settings={}, created=now, updated=now))
            session.execute(insert(Message).values(
                id=ids["message"], interaction_id=ids["interaction"], role="user",
                content=body.prompt, status="running", created=now, updated=now))
        arguments = {"amount": 42.0, "from_currency": "USD", "to_currency": "CAD"}
        with database.write_session() as session:  # the call, journaled before it runs
            session.execute(insert(Message).values(
                id=ids["reply"], interaction_id=ids["interaction"], role="assistant",
                content="", status="running", reply_to_id=ids["message"],
                created=now, updated=now))
            session.execute(insert(ToolCall).values(
                id=ids["call"], message_id=ids["reply"], call_id="call_1",
                name="convert_currency", arguments=arguments, attempts=[], status="running",
                started=now, created=now))
        result = convert_currency(**arguments)  # type: ignore[arg-type]
        with database.write_session() as session:  # the outcome
            session.execute(update(Message).where(Message.id == ids["message"]).values(
                status="done", updated=utcnow()))
            session.execute(update(Message).where(Message.id == ids["reply"]).values(
                content=f"That is {result}.", status="done", updated=utcnow()))
            session.execute(update(ToolCall).where(ToolCall.id == ids["call"]).values(
                status="ok", result=result, finished=utcnow(), duration_ms=0.0))
        return {"interaction_id": str(ids["interaction"]), "answer": f"That is {result}.",
                "calls": [{"name": "convert_currency", "arguments": arguments, "result": result}]}

    return app


def keyword_app() -> Any:
    """The toolwire app with keyword-only retrieval (no query embedding): the service's own cost."""
    from toolwire.api.app import create_app
    from toolwire.builtin import default_registry
    from toolwire.retrieval import ToolIndex

    registry = default_registry()
    registry.use_index(ToolIndex(embedder=None))
    return create_app(registry=registry)


SERVERS = {
    "bare": [sys.executable, "-m", "uvicorn", "--factory", "bench.api_execute:bare_app",
             "--log-level", "warning", "--no-access-log"],
    "toolwire": [sys.executable, "-m", "uvicorn", "--factory", "bench.api_execute:keyword_app",
                 "--log-level", "warning", "--no-access-log"],
    "toolwire+dense": [sys.executable, "-m", "uvicorn", "--factory",
                       "toolwire.api.app:create_app", "--log-level", "warning", "--no-access-log"],
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(kind: str, database_url: str, home: Path) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "TOOLWIRE_HOME": str(home),
        "TOOLWIRE_DATABASE_URL": database_url,
        "TOOLWIRE_MODEL": "scripted:bench.api_execute:currency_model",
        "TOOLWIRE_AUTH": "off",  # loopback, no keys (uvicorn --factory does not say its host)
        "PYTHONPATH": str(ROOT),
    }
    command = [*SERVERS[kind], "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base, process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            httpx.get(f"{base}/openapi.json", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("server did not start")


# -- load -----------------------------------------------------------------------------------
@dataclass(kw_only=True)
class Result:
    database: str
    server: str
    requests: int
    concurrency: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float


async def _load(base: str, requests: int, concurrency: int) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    queue = iter(range(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:

        async def worker() -> None:
            nonlocal errors
            for _ in queue:
                start = time.perf_counter()
                response = await client.post("/execute", json={"prompt": PROMPT})
                latencies.append((time.perf_counter() - start) * 1000)
                if response.status_code != 200 or "131.95" not in response.text:
                    errors += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return latencies, errors, time.perf_counter() - began


def measure(database: str, url: str, home: Path, args: argparse.Namespace) -> list[Result]:
    """All servers up at once; batches alternate between them so load swings hit all alike."""
    kinds = args.servers.split(",")
    batch = max(1, args.requests // args.rounds)
    latencies: dict[str, list[float]] = {k: [] for k in kinds}
    elapsed = dict.fromkeys(kinds, 0.0)
    errors = dict.fromkeys(kinds, 0)
    with ExitStack() as stack:
        bases = {k: stack.enter_context(running(k, url, home)) for k in kinds}
        for kind in kinds:
            asyncio.run(_load(bases[kind], args.warmup, args.concurrency))
        for round_ in range(args.rounds):
            for kind in kinds[round_ % len(kinds):] + kinds[: round_ % len(kinds)]:
                got, failed, seconds = asyncio.run(_load(bases[kind], batch, args.concurrency))
                latencies[kind] += got
                errors[kind] += failed
                elapsed[kind] += seconds
    results = []
    for kind in kinds:
        cuts = statistics.quantiles(latencies[kind], n=100)
        results.append(Result(
            database=database, server=kind, requests=len(latencies[kind]),
            concurrency=args.concurrency, errors=errors[kind],
            rps=len(latencies[kind]) / elapsed[kind], p50_ms=cuts[49], p99_ms=cuts[98]))
    return results


# -- databases ------------------------------------------------------------------------------
@contextmanager
def database_url(kind: str, home: Path) -> Iterator[str]:
    """A fresh, migrated database of ``kind``."""
    from toolwire.store.db import Database
    from toolwire.store.migrate import upgrade

    if kind == "sqlite":
        url = f"sqlite:///{home / 'bench.db'}"
        _migrate(Database(url), upgrade)
        yield url
        return
    import psycopg
    from sqlalchemy import make_url

    name = f"toolwire_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql+psycopg", database=name)
            rendered = url.render_as_string(hide_password=False)
            _migrate(Database(rendered), upgrade)
            yield rendered
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _migrate(database: Any, upgrade: Any) -> None:
    upgrade(database)
    database.dispose()


def _table(results: list[Result]) -> str:
    lines = ["| database | server | requests | conc. | errors | req/s | p50 ms | p99 ms | ratio |",
             "|---|---|---|---|---|---|---|---|---|"]
    bare = {r.database: r.rps for r in results if r.server == "bare"}
    for r in results:
        ratio = f"{r.rps / bare[r.database]:.2f}×" if r.database in bare else ""
        lines.append(f"| {r.database} | {r.server} | {r.requests} | {r.concurrency} | {r.errors} "
                     f"| {r.rps:.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {ratio} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=600, help="per server")
    parser.add_argument("--rounds", type=int, default=6, help="alternating batches per server")
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--servers", default="bare,toolwire,toolwire+dense")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "api_execute.json")
    args = parser.parse_args(argv)
    results: list[Result] = []
    for kind in args.databases.split(","):
        with tempfile.TemporaryDirectory() as tmp, database_url(kind, Path(tmp)) as url:
            for done in measure(kind, url, Path(tmp), args):
                results.append(done)
                print(f"  {kind:10} {done.server:14} {done.rps:7.0f} req/s  {done.errors} errors",
                      file=sys.stderr)
    print(_table(results))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))


if __name__ == "__main__":
    main()
