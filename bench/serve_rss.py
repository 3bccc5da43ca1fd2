"""Resident memory of the real ``toolwire serve`` under a mixed load of everyday sentences.

    .venv/bin/python -m bench.serve_rss [--clients 4] [--seconds 420] [--warmup 30]
    .venv/bin/python -m bench.serve_rss --quick            # 90 s, for a first look
    .venv/bin/python -m bench.serve_rss --env TOOLWIRE_MALLOC_TUNING=false   # glibc's defaults

Starts ``python -m toolwire serve`` on a free loopback port (the embedded default model, a
temp SQLite database and ``TOOLWIRE_HOME``; the weather and geocoding services pointed at a
dead port and no display, as ``bench/engine_e2e.py`` runs offline). Once ``/healthz``
answers, ``--clients`` httpx clients (asyncio, one process) keep one ``POST /execute`` each
in flight for ``--seconds``: each picks, at random (seeded), one of the everyday sentences of
``bench/everyday_sentences.py`` (calls and no-call ones, both voices), a conversation of it
(its turns sent in order on one interaction), or a sentence of ``bench/bar.py``. Only the
status is read: no answer is scored here (``bench/everyday.py`` and ``bench/bar.py`` do that).

Every second the resident memory of the server's whole process tree (the API process, the
model process it supervises, any tool sandbox) is sampled (psutil where installed, else
``/proc``). Printed: the peak of the tree and of each process, the p50 after ``--warmup``
seconds, the curve at a few points, requests, errors (non-200 or transport failures) and the
request latency p50/p90; the last line is the whole report as JSON (goal: peak ≤ 600 MB).

``--env NAME=VALUE`` (repeatable) sets a variable in the server's environment, and
``--env NAME=`` removes it, so a setting's before and after run in one session, e.g. the
malloc tuning ``toolwire serve`` applies (``toolwire.memory``) turned off with
``--env TOOLWIRE_MALLOC_TUNING=false``. RSS is memory, not time: a CPU shared with other work
slows the requests (fewer of them in the window) but hardly moves the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.bar import BAR, EXTRA, offline_env
from bench.everyday_sentences import CONVERSATIONS, SENTENCES
from bench.stats import percentile, table

ROOT = Path(__file__).resolve().parents[1]
GOAL_RSS_MB = 600.0
STARTUP_SECONDS = 180.0
CURVE_AT_S = (5, 15, 30, 60, 120, 240, 420, 600, 900)
"""Seconds after the load starts at which the curve is printed (those within the run)."""

Script = tuple[str, ...]
"""Sentences sent in order on one interaction (one sentence: a new interaction)."""


def scripts() -> list[Script]:
    """Every single sentence (everyday, bar, the bar's extras) and every conversation."""
    singles = [(c.sentence,) for c in SENTENCES] + [(c.sentence,) for c in (*BAR, *EXTRA)]
    talks = [tuple(t.sentence for t in c.turns) for c in CONVERSATIONS]
    return singles + talks


# -- the server ------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(home: Path, overrides: Mapping[str, str]) -> dict[str, str]:
    """The server's environment: offline, a temp home and SQLite file, ``overrides`` applied
    (an empty value removes the variable)."""
    env = offline_env()
    env.update({
        "TOOLWIRE_HOME": str(home),
        "TOOLWIRE_DATABASE_URL": f"sqlite:///{home / 'serve_rss.db'}",
        "TOOLWIRE_AUTH": "off",
        "PYTHONPATH": str(ROOT),
    })
    env.pop("TOOLWIRE_MODEL", None)  # the embedded default
    for name, value in overrides.items():
        if value:
            env[name] = value
        else:
            env.pop(name, None)
    return env


@contextmanager
def serving(home: Path, overrides: Mapping[str, str]) -> Iterator[tuple[str, int]]:
    """``toolwire serve`` running in its own process group; (base URL, pid). Stopped (the
    whole group, model process included) on the way out."""
    port = _free_port()
    command = [sys.executable, "-m", "toolwire", "serve", "--host", "127.0.0.1",
               "--port", str(port)]
    log = (home / "server.log").open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env=server_env(home, overrides),
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base, process, home / "server.log")
        yield base, process.pid
    finally:
        _stop(process)
        log.close()


def _wait(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        with suppress(httpx.TransportError):
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.25)
    raise SystemExit(f"server did not start within {STARTUP_SECONDS:g} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server (it stops its model process), SIGKILL to its group if it lingers."""
    with suppress(ProcessLookupError):
        process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


# -- sampling --------------------------------------------------------------------------------
def tree_rss_mb(pid: int) -> dict[int, float]:
    """Resident MiB of ``pid`` and each of its descendants (psutil, else ``/proc``)."""
    try:
        import psutil
    except ImportError:
        return _proc_tree_rss_mb(pid)
    try:
        root = psutil.Process(pid)
        members = [root, *root.children(recursive=True)]
    except psutil.Error:
        return {}
    found: dict[int, float] = {}
    for member in members:
        with suppress(psutil.Error):
            found[member.pid] = member.memory_info().rss / 2**20
    return found


def _proc_tree_rss_mb(pid: int) -> dict[int, float]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError, IndexError, ValueError):
                # the command name (field 2) may hold spaces: split after its closing paren
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent and p not in tree]
        tree.update(children)
        frontier.extend(children)
    page_mb = os.sysconf("SC_PAGE_SIZE") / 2**20
    found: dict[int, float] = {}
    for member in tree:
        with suppress(OSError, IndexError, ValueError):
            found[member] = int((Path("/proc") / str(member) / "statm").read_text().split()[1]) * page_mb
    return found


@dataclass(kw_only=True)
class Sampler:
    """Samples the tree's RSS every ``interval`` seconds on a thread until stopped."""

    pid: int
    interval: float = 1.0
    started: float = field(default_factory=time.monotonic)
    samples: list[tuple[float, float, dict[int, float]]] = field(default_factory=list)
    """(seconds since the load started, tree MiB, MiB per pid)."""
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self._stop.is_set():
            per_pid = tree_rss_mb(self.pid)
            self.samples.append((time.monotonic() - self.started, sum(per_pid.values()), per_pid))
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()


# -- load ------------------------------------------------------------------------------------
@dataclass(kw_only=True)
class Tally:
    requests: int = 0
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    seconds: list[float] = field(default_factory=list)

    def count(self, status: str, elapsed: float) -> None:
        self.requests += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status != "200":
            self.errors += 1
        else:
            self.seconds.append(elapsed)


async def _client(http: httpx.AsyncClient, pool: list[Script], rng: random.Random,
                  until: float, tally: Tally) -> None:
    while time.monotonic() < until:
        interaction: str | None = None
        for sentence in rng.choice(pool):
            if time.monotonic() >= until:
                return
            body: dict[str, Any] = {"prompt": sentence}
            if interaction is not None:
                body["interaction_id"] = interaction
            started = time.monotonic()
            try:
                response = await http.post("/execute", json=body)
            except httpx.HTTPError as e:
                tally.count(type(e).__name__, time.monotonic() - started)
                break
            tally.count(str(response.status_code), time.monotonic() - started)
            if response.status_code != 200:
                break
            interaction = response.json().get("interaction_id")


async def drive(base: str, clients: int, seconds: float, seed: int) -> Tally:
    """``clients`` clients, one request each in flight, for ``seconds``."""
    pool = scripts()
    tally = Tally()
    until = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as http:
        await asyncio.gather(*(_client(http, pool, random.Random(seed + i), until, tally)
                               for i in range(clients)))
    return tally


# -- report ----------------------------------------------------------------------------------
def report(sampler: Sampler, tally: Tally, args: argparse.Namespace, server_pid: int,
           overrides: Mapping[str, str]) -> dict[str, Any]:
    totals = [mb for _, mb, _ in sampler.samples]
    settled = [mb for t, mb, _ in sampler.samples if t >= args.warmup] or totals
    peaks: dict[int, float] = {}
    for _, _, per_pid in sampler.samples:
        for pid, mb in per_pid.items():
            peaks[pid] = max(peaks.get(pid, 0.0), mb)
    model_peak = max((mb for pid, mb in peaks.items() if pid != server_pid), default=0.0)
    curve = {f"{at}s": round(_at(sampler, at), 1) for at in CURVE_AT_S if at <= args.seconds}
    curve["end"] = round(totals[-1], 1) if totals else 0.0
    return {
        "bench": "serve_rss",
        "clients": args.clients,
        "seconds": args.seconds,
        "warmup_s": args.warmup,
        "env": dict(overrides),
        "samples": len(totals),
        "peak_rss_mb": round(max(totals, default=0.0), 1),
        "settled_p50_rss_mb": round(percentile(settled, 50), 1),
        "server_peak_rss_mb": round(peaks.get(server_pid, 0.0), 1),
        "model_process_peak_rss_mb": round(model_peak, 1),
        "processes_seen": len(peaks),
        "curve_mb": curve,
        "requests": tally.requests,
        "errors": tally.errors,
        "statuses": tally.statuses,
        "request_p50_s": round(percentile(tally.seconds, 50), 3),
        "request_p90_s": round(percentile(tally.seconds, 90), 3),
        "goal_peak_rss_mb": GOAL_RSS_MB,
        "within_goal": max(totals, default=0.0) <= GOAL_RSS_MB,
    }


def _at(sampler: Sampler, seconds: float) -> float:
    """The tree's RSS in the last sample taken at or before ``seconds``."""
    before = [mb for t, mb, _ in sampler.samples if t <= seconds]
    return before[-1] if before else float("nan")


def print_report(data: dict[str, Any]) -> None:
    env = " ".join(f"{k}={v}" for k, v in data["env"].items()) or "(as toolwire serve sets it)"
    print(f"toolwire serve, {data['clients']} clients for {data['seconds']:g} s; server env: {env}")
    print(table(["after", "tree RSS MB"], list(data["curve_mb"].items())))
    print(f"peak RSS {data['peak_rss_mb']:.0f} MB (goal ≤ {GOAL_RSS_MB:.0f}): API process "
          f"{data['server_peak_rss_mb']:.0f} MB, model process "
          f"{data['model_process_peak_rss_mb']:.0f} MB (peaks of each, not simultaneous)")
    print(f"p50 after the first {data['warmup_s']:g} s: {data['settled_p50_rss_mb']:.0f} MB")
    print(f"requests {data['requests']}, errors {data['errors']} {data['statuses']}; "
          f"latency p50 {data['request_p50_s']:.2f} s, p90 {data['request_p90_s']:.2f} s")


def _overrides(pairs: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise SystemExit(f"--env wants NAME=VALUE (or NAME= to remove), not {pair!r}")
        found[name] = value
    return found


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=420.0, help="load duration")
    parser.add_argument("--quick", action="store_true", help="90 s instead of --seconds")
    parser.add_argument("--warmup", type=float, default=30.0,
                        help="seconds left out of the settled p50")
    parser.add_argument("--seed", type=int, default=24)
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="set (or with an empty value remove) a variable for the server")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds = 90.0
    overrides = _overrides(args.env)
    with tempfile.TemporaryDirectory(prefix="serve_rss-") as tmp, \
            serving(Path(tmp), overrides) as (base, pid):
        sampler = Sampler(pid=pid)
        thread = threading.Thread(target=sampler.run, name="rss-sampler", daemon=True)
        thread.start()
        try:
            tally = asyncio.run(drive(base, args.clients, args.seconds, args.seed))
        finally:
            sampler.stop()
            thread.join()
    data = report(sampler, tally, args, pid, overrides)
    print_report(data)
    print(json.dumps(data))
    return data


if __name__ == "__main__":
    main()
