"""Load: concurrent clients on the real server and worker processes, one worker vs two, one API vs two.

    .venv/bin/python -m bench.load [--seconds 60] [--clients 16] [--only sync-1api,sync-2api,...]

``--clients`` httpx clients (asyncio, one process) keep one request each in flight for
``--seconds`` per configuration (after ``--warmup`` seconds not counted), over loopback, on
the **scripted model** (:func:`currency_model` answers instantly, so the pipeline and the
infrastructure are measured, not a model), a fresh **PostgreSQL** database on
``TOOLWIRE_TEST_POSTGRES`` (default the local server; dropped at the end) and a **private
Redis** started on a free port (the machine's own Redis is never touched). Every process is
the real one, each in its own process group, all stopped at the end (Ctrl-C and errors too):

- ``sync-1api`` / ``sync-2api``: ``POST /execute`` answered synchronously by one
  ``python -m toolwire.api`` process, then by two (each client alternates between them);
- ``async-1worker`` / ``async-2workers``: ``POST /execute?async=true`` (202 at once), sent over
  Redis to one ``python -m toolwire worker --concurrency 1`` process, then to two; the client
  polls ``GET /interactions/{id}/messages/{mid}`` every ``--poll`` seconds (0.25) until it is
  ``done``, and the latency runs from the post to the poll that sees it done (so it is
  rounded up to the poll interval). One API process takes the posts and the polls: polls are
  requests too (shown as polls/s), and polling faster takes CPU from the workers here.

Printed per configuration: requests completed in the window, throughput, p50/p99 latency (end
to end), errors (non-2xx, timeouts after ``--timeout`` seconds, refused connections, messages
``failed``, wrong answers; the goal is 0), then the scaling ratios 2 workers / 1 worker and
2 API / 1 API; the last line is one JSON object.

Read the ratios, not the absolute figures: this project's machine has **2 CPU cores**, shared
by the API processes, the workers, PostgreSQL, Redis and the load generator itself, so a second
process can only add what the cores have left (the retrieval embeds every query with MiniLM on
the CPU). On a machine with spare cores the same run shows how far each tier scales out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.stats import percentile, table

ROOT = Path(__file__).resolve().parents[1]
PROMPT = "I want to exchange 42 US dollars to Canadian dollars"
EXPECTED = "131.95"  # 42 USD in CAD at the default rate (3.14159), rounded as the tool does
CURRENCIES = {"us dollars": "USD", "canadian dollars": "CAD", "euros": "EUR", "yen": "JPY"}
POSTGRES_ADMIN_URL = os.environ.get(
    "TOOLWIRE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
STARTUP_SECONDS = 90.0


# -- the scripted model the servers and workers load ---------------------------------------------
def currency_model() -> Any:
    """``TOOLWIRE_MODEL=scripted:bench.load:currency_model``: asks for ``convert_currency`` with
    the prompt's amount and currencies, then describes the result; never waits."""
    from toolwire.models.base import Completion, ToolCallRequest
    from toolwire.models.scripted import Request, ScriptedModel

    def answer(request: Request) -> Completion:
        prompt = request.messages[-1].content
        if not request.tools:
            returned = re.search(r"\(Result: (\S+?)\)", prompt)
            return Completion(text=f"That is {returned.group(1)}." if returned else "Done.")
        amount = re.search(r"\d+(?:\.\d+)?", prompt)
        lowered = prompt.lower()
        codes = sorted((lowered.find(name), code) for name, code in CURRENCIES.items()
                       if name in lowered)
        if amount is None or len(codes) < 2:
            return Completion(text="Which amount and currencies?")
        arguments = {"amount": float(amount.group()), "from_currency": codes[0][1],
                     "to_currency": codes[1][1]}
        return Completion(
            tool_calls=[ToolCallRequest(id="", name="convert_currency", arguments=arguments)])

    return ScriptedModel(answer, name="scripted-load")


# -- configurations ------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class Config:
    """One measured set-up."""

    name: str
    what: str
    """What the clients do, for the table."""
    posted: bool
    """``POST /execute?async=true`` and poll (processed by workers), else synchronous."""
    apis: int
    """API processes the clients alternate between."""
    workers: int
    """``toolwire worker --concurrency 1`` processes running."""


CONFIGS = {c.name: c for c in (
    Config(name="sync-1api", what="POST /execute, 1 API", posted=False, apis=1, workers=0),
    Config(name="sync-2api", what="POST /execute, 2 APIs", posted=False, apis=2, workers=0),
    Config(name="async-1worker", what="async + poll, 1 worker", posted=True, apis=1, workers=1),
    Config(name="async-2workers", what="async + poll, 2 workers", posted=True, apis=1, workers=2),
)}
"""In the order they run: workers are only started once the synchronous pair is measured."""
RATIOS = {
    "workers_2_vs_1": ("async-2workers", "async-1worker"),
    "api_2_vs_1": ("sync-2api", "sync-1api"),
}
"""Scaling ratios: throughput of the first configuration over the second's."""


# -- processes -----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop(process: subprocess.Popen[bytes], grace: float = 20.0) -> None:
    """SIGTERM the process's group, then SIGKILL whatever of it is left after ``grace`` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break  # the whole group is gone
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
        try:
            os.killpg(process.pid, 0)  # children (a worker's pool) outliving their parent?
        except ProcessLookupError:
            break
    process.wait()


class Processes:
    """Every process the bench starts (Redis, API processes, workers), each in its own process
    group with its own log under ``home``; ``close`` stops them all, newest first."""

    def __init__(self, home: Path, env: dict[str, str]) -> None:
        self.home = home
        self.env = env
        self.running: list[subprocess.Popen[bytes]] = []
        self.apis: list[str] = []
        self.workers: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        (self.home / name).mkdir(exist_ok=True)
        env = {**self.env, "TOOLWIRE_HOME": str(self.home / name)}  # index caches of its own
        with (self.home / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self.running.append(process)
        return process

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        self.running.remove(process)
        stop(process)

    def close(self) -> None:
        while self.running:
            self.stop(self.running[-1])

    def log_text(self, name: str) -> str:
        path = self.home / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def log_tail(self, name: str, lines: int = 30) -> str:
        return "\n".join(self.log_text(name).splitlines()[-lines:])

    def redis(self, port: int) -> None:
        """A Redis of the bench's own: no persistence, loopback only."""
        process = self.start("redis", ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                       "--save", "", "--appendonly", "no"])
        self._wait(lambda: _accepts(port), process, "redis")

    def api_bases(self, count: int) -> list[str]:
        """Base URLs of ``count`` API processes, starting those not yet running."""
        while len(self.apis) < count:
            name, port = f"api{len(self.apis) + 1}", free_port()
            process = self.start(name, [sys.executable, "-m", "toolwire.api", "--host",
                                        "127.0.0.1", "--port", str(port)])
            base = f"http://127.0.0.1:{port}"
            self._wait(lambda b=base: _healthy(b), process, name)
            _prime(base)
            self.apis.append(base)
        return self.apis[:count]

    def use_workers(self, count: int) -> None:
        """Exactly ``count`` worker processes running (started, or the newest stopped)."""
        while len(self.workers) > count:
            self.stop(self.workers.pop()[1])
        while len(self.workers) < count:
            name = f"worker{len(self.workers) + 1}"
            process = self.start(name, [sys.executable, "-m", "toolwire", "worker",
                                        "--concurrency", "1"])
            self._wait(lambda n=name: " ready." in self.log_text(n), process, name)
            self.workers.append((name, process))

    def warm_workers(self, base: str) -> None:
        """Post messages until every worker has finished one: its first task loads the query
        embedder, seconds that would otherwise land in the window as a p99."""
        deadline = time.monotonic() + STARTUP_SECONDS
        with httpx.Client(base_url=base, timeout=30) as client:
            while not all("succeeded" in self.log_text(n) for n, _ in self.workers):
                if time.monotonic() > deadline:
                    raise SystemExit(f"workers never finished a message:\n{self.log_tail('worker1')}")
                accepted = [client.post("/execute", params={"async": "true"},
                                        json={"prompt": PROMPT}).json() for _ in self.workers]
                for message in accepted:
                    url = f"/interactions/{message['interaction_id']}/messages/{message['id']}"
                    while (client.get(url).json()["status"] in ("pending", "running")
                           and time.monotonic() < deadline):
                        time.sleep(0.1)

    def _wait(self, ready: Callable[[], bool], process: subprocess.Popen[bytes], name: str) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"{name} exited with {process.returncode}:\n{self.log_tail(name)}")
            if ready():
                return
            time.sleep(0.1)
        raise SystemExit(f"{name} not ready after {STARTUP_SECONDS:.0f} s:\n{self.log_tail(name)}")


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def _healthy(base: str) -> bool:
    try:
        response = httpx.get(f"{base}/healthz", timeout=2)
    except httpx.TransportError:
        return False
    return response.status_code == 200 and (
        response.json()["components"]["database"]["state"] == "ok")


def _prime(base: str) -> None:
    """One synchronous request, so the process has loaded the query embedder before timing."""
    response = httpx.post(f"{base}/execute", json={"prompt": PROMPT}, timeout=60)
    if response.status_code != 200 or EXPECTED not in response.text:
        raise SystemExit(f"{base}: the first POST /execute answered {response.status_code}: "
                         f"{response.text[:500]}")


# -- the database --------------------------------------------------------------------------------
@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database, dropped afterwards (whatever happened)."""
    import psycopg
    from sqlalchemy import make_url

    from toolwire.store.db import Database
    from toolwire.store.migrate import upgrade

    name = f"toolwire_load_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as e:
        raise SystemExit(f"PostgreSQL unreachable at {POSTGRES_ADMIN_URL}: {e}") from e
    try:
        url = make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql+psycopg", database=name)
        rendered = url.render_as_string(hide_password=False)
        database = Database(rendered)
        upgrade(database)  # before the servers start, so two of them never race to migrate
        database.dispose()
        yield rendered
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=10) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- load ----------------------------------------------------------------------------------------
class Failure(Exception):
    """A request that did not succeed; ``str(self)`` is its kind (``http_500``, ``failed``...)."""


@dataclass(kw_only=True)
class Tally:
    """What the clients saw: latencies of the requests finished inside the window, errors."""

    start: float
    end: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    """Errors from the window's start on (those of requests still in flight at its end too)."""
    warmup_errors: Counter[str] = field(default_factory=Counter)
    polls: int = 0
    """``GET`` of a posted message inside the window."""

    def record(self, began: float, finished: float, error: str | None) -> None:
        if error is not None:
            (self.warmup_errors if finished < self.start else self.errors)[error] += 1
        elif self.start <= finished <= self.end:
            self.latencies_ms.append((finished - began) * 1000)

    def poll(self) -> None:
        if self.start <= time.perf_counter() <= self.end:
            self.polls += 1


Send = Callable[[httpx.AsyncClient, Tally], Awaitable[None]]
"""One request of a client (raises :class:`Failure` unless it succeeded)."""


def synchronous(args: argparse.Namespace) -> Send:
    async def send(client: httpx.AsyncClient, _: Tally) -> None:
        response = await client.post("/execute", json={"prompt": PROMPT})
        if response.status_code != 200:
            raise Failure(f"http_{response.status_code}")
        if EXPECTED not in response.text:
            raise Failure("wrong_answer")

    return send


def posted(args: argparse.Namespace) -> Send:
    async def send(client: httpx.AsyncClient, tally: Tally) -> None:
        began = time.perf_counter()
        response = await client.post("/execute", params={"async": "true"},
                                     json={"prompt": PROMPT})
        if response.status_code != 202:
            raise Failure(f"http_{response.status_code}")
        accepted = response.json()
        url = f"/interactions/{accepted['interaction_id']}/messages/{accepted['id']}"
        while time.perf_counter() - began < args.timeout:
            await asyncio.sleep(args.poll)
            message = await client.get(url)
            tally.poll()
            if message.status_code != 200:
                raise Failure(f"http_{message.status_code}")
            status = message.json()["status"]
            if status == "done":
                return
            if status not in ("pending", "running"):
                raise Failure(status)  # failed, awaiting_approval
        raise Failure("timeout")

    return send


async def one_client(
    n: int, clients: list[httpx.AsyncClient], send: Send, tally: Tally
) -> None:
    """Back-to-back requests until the window ends, alternating between the API processes."""
    turn = n
    while time.perf_counter() < tally.end:
        client = clients[turn % len(clients)]
        turn += 1
        began = time.perf_counter()
        error = None
        try:
            await send(client, tally)
        except Failure as e:
            error = str(e)
        except httpx.TimeoutException:
            error = "timeout"
        except httpx.TransportError as e:
            error = type(e).__name__
        tally.record(began, time.perf_counter(), error)
        if error is not None:
            await asyncio.sleep(0.05)  # a server that went away is not hammered in a tight loop


async def drive(bases: list[str], send: Send, args: argparse.Namespace) -> Tally:
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    start = time.perf_counter() + args.warmup
    tally = Tally(start=start, end=start + args.seconds)
    async with AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(
            httpx.AsyncClient(base_url=base, limits=limits, timeout=args.timeout))
            for base in bases]
        await asyncio.gather(*(one_client(n, clients, send, tally) for n in range(args.clients)))
    return tally


# -- results -------------------------------------------------------------------------------------
@dataclass(kw_only=True)
class Result:
    configuration: str
    requests: int
    """Completed successfully inside the window."""
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    error_kinds: dict[str, int]
    warmup_errors: int
    polls_per_s: float | None
    """Posted configurations: the clients' ``GET`` of their messages, per second."""


def measure(config: Config, processes: Processes, args: argparse.Namespace) -> Result:
    bases = processes.api_bases(config.apis)
    processes.use_workers(config.workers)
    if config.posted:
        processes.warm_workers(bases[0])
    send = (posted if config.posted else synchronous)(args)
    tally = asyncio.run(drive(bases, send, args))
    return Result(
        configuration=config.name,
        requests=len(tally.latencies_ms),
        rps=len(tally.latencies_ms) / args.seconds,
        p50_ms=percentile(tally.latencies_ms, 50),
        p99_ms=percentile(tally.latencies_ms, 99),
        errors=sum(tally.errors.values()),
        error_kinds=dict(tally.errors),
        warmup_errors=sum(tally.warmup_errors.values()),
        polls_per_s=tally.polls / args.seconds if config.posted else None,
    )


def ratios(results: list[Result]) -> dict[str, float]:
    rps = {r.configuration: r.rps for r in results}
    return {name: round(rps[top] / rps[bottom], 3) for name, (top, bottom) in RATIOS.items()
            if top in rps and bottom in rps and rps[bottom] > 0}


def report(results: list[Result], args: argparse.Namespace) -> str:
    rows = [[r.configuration, CONFIGS[r.configuration].what, r.requests, round(r.rps, 1),
             r.p50_ms, r.p99_ms, r.errors,
             "-" if r.polls_per_s is None else round(r.polls_per_s, 1)] for r in results]
    lines = [
        f"{os.cpu_count()} CPU cores, {args.clients} clients, {args.seconds:g} s per "
        f"configuration after {args.warmup:g} s of warm-up, posted messages polled every "
        f"{args.poll:g} s; PostgreSQL, private Redis, scripted model",
        "",
        table(["configuration", "clients do", "requests", "req/s", "p50 ms", "p99 ms", "errors",
               "polls/s"], rows),
        "",
    ]
    for name, value in ratios(results).items():
        top, bottom = RATIOS[name]
        lines.append(f"{name}: {value:.2f}x  ({top} / {bottom} throughput)")
    return "\n".join(lines)


# -- main ----------------------------------------------------------------------------------------
def _interrupted(signum: int, _: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")  # unwind: stop the processes, drop the database


def run(names: list[str], args: argparse.Namespace) -> list[Result]:
    results = []
    with tempfile.TemporaryDirectory(prefix="toolwire-load-") as tmp, ExitStack() as stack:
        url = stack.enter_context(postgres_database())
        port = free_port()
        processes = Processes(Path(tmp), {
            **os.environ,
            "TOOLWIRE_DATABASE_URL": url,
            "TOOLWIRE_BROKER_URL": f"redis://127.0.0.1:{port}/0",
            "TOOLWIRE_MODEL": "scripted:bench.load:currency_model",
            "PYTHONPATH": str(ROOT),
        })
        stack.callback(processes.close)  # before the database is dropped
        processes.redis(port)
        for name in names:
            print(f"  {name}: starting", file=sys.stderr, flush=True)
            result = measure(CONFIGS[name], processes, args)
            print(f"  {name}: {result.rps:.1f} req/s, {result.errors} errors", file=sys.stderr,
                  flush=True)
            results.append(result)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="measured, per configuration")
    parser.add_argument("--clients", type=int, default=16, help="requests in flight")
    parser.add_argument("--only", default=",".join(CONFIGS),
                        help=f"configurations, comma-separated (default all: {', '.join(CONFIGS)})")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds of load not counted")
    parser.add_argument("--poll", type=float, default=0.25, help="seconds between polls of a "
                        "posted message (each poll is a request the API serves)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds before a request "
                        "(a posted message: until done) counts as an error")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        parser.error(f"unknown configuration {', '.join(unknown)} (known: {', '.join(CONFIGS)})")
    names = [n for n in CONFIGS if n in names]  # always in the order of CONFIGS
    signal.signal(signal.SIGTERM, _interrupted)
    try:
        results = run(names, args)
    except KeyboardInterrupt:
        print("interrupted: processes stopped, database dropped", file=sys.stderr)
        return 130
    print(report(results, args))
    print(json.dumps({
        "cpus": os.cpu_count(), "clients": args.clients, "seconds": args.seconds,
        "warmup": args.warmup, "poll": args.poll, "database": "postgresql",
        "results": [asdict(r) for r in results], "ratios": ratios(results),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
