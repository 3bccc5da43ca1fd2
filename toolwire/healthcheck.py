"""The container's health check, for whichever role the container runs: ``python -m
toolwire.healthcheck`` exits 0 when healthy, 1 otherwise (what Docker's HEALTHCHECK reads).

It finds the toolwire process among the container's processes (``/proc/*/cmdline``; only
process ``PID`` with ``--pid PID``) and
checks what that role offers: ``toolwire serve`` answers ``GET /healthz`` on its ``--port``
(200 when ok or degraded, 503 when the database is away); ``toolwire worker`` answers
``GET /metrics`` on its ``--metrics-port`` (or the ``TOOLWIRE_WORKER_METRICS_PORT`` it was
started with) with at
least one pool process that has its model loaded (``toolwire_worker_processes`` reported)
and, without a metrics port, is healthy while its process runs. A container running a one-shot command (``toolwire
db upgrade``) or none is healthy. Standard library only: it runs every few seconds.
"""

from __future__ import annotations

import os
import sys
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

TIMEOUT_S = 4.0
POOL_READY = b"\ntoolwire_worker_processes "
"""The worker's /metrics line that a pool process with its model loaded reports."""


@dataclass(frozen=True)
class Process:
    """A process of the container: its id, arguments and environment."""

    pid: int
    argv: list[str]
    environ: dict[str, str]


def processes(proc: Path = Path("/proc"), pid: int | None = None) -> Iterator[Process]:
    """The processes (only ``pid`` when given) whose command line can be read."""
    for entry in sorted(proc.iterdir(), key=lambda e: e.name):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        if pid is not None and int(entry.name) != pid:
            continue
        try:
            raw = (entry / "cmdline").read_bytes()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if raw:
            yield Process(int(entry.name), _parts(raw), _environ(entry))


def _parts(raw: bytes) -> list[str]:
    return [part.decode(errors="replace") for part in raw.rstrip(b"\0").split(b"\0")]


def _environ(entry: Path) -> dict[str, str]:
    try:
        pairs = _parts((entry / "environ").read_bytes())
    except OSError:
        return {}
    return dict(p.split("=", 1) for p in pairs if "=" in p)


def option(argv: Sequence[str], name: str) -> str | None:
    """The value of ``--name VALUE`` or ``--name=VALUE`` in ``argv``."""
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def role_of(argv: Sequence[str]) -> str | None:
    """``serve`` or ``worker`` when ``argv`` runs that toolwire command (``toolwire serve``,
    ``python -m toolwire worker``, behind an init), else ``None``."""
    for i, arg in enumerate(argv[:4]):
        if Path(arg).name == "toolwire" and argv[i + 1:i + 2] in (["serve"], ["worker"]):
            return argv[i + 1]
    return None


def target(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> str | None:
    """The URL that tells the role of ``argv`` (run with ``environ``) healthy, or ``None``
    when running is enough."""
    role = role_of(argv)
    if role == "serve":
        host = option(argv, "--host") or "127.0.0.1"
        port = option(argv, "--port") or "8000"
        return f"http://{_reachable(host)}:{port}/healthz"
    metrics = option(argv, "--metrics-port") or (environ or {}).get("TOOLWIRE_WORKER_METRICS_PORT")
    if role == "worker" and metrics and metrics != "0":
        host = option(argv, "--metrics-host") or "127.0.0.1"
        return f"http://{_reachable(host)}:{metrics}/metrics"
    return None


def _reachable(host: str) -> str:
    """Where to ask a server bound to ``host``: loopback for the wildcard addresses."""
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def healthy(proc: Path = Path("/proc"), pid: int | None = None) -> tuple[bool, str]:
    """Whether the container's toolwire role (or process ``pid``'s) is healthy, and why."""
    found = next((p for p in processes(proc, pid) if role_of(p.argv)), None)
    if found is None:
        if pid is not None:
            return False, f"process {pid} runs no toolwire serve or worker"
        return True, "no serve or worker process: a one-shot command"
    url = target(found.argv, found.environ)
    if url is None:
        return True, f"{role_of(found.argv)} is running"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            body = response.read()
    except Exception as e:  # refused, timed out, an HTTP error status
        return False, f"{url}: {e}"
    if url.endswith("/metrics") and POOL_READY not in body:
        return False, f"{url}: no pool process has its model loaded yet"
    return True, f"{url}: {response.status}"


def main(argv: Sequence[str] = ()) -> int:
    """``python -m toolwire.healthcheck [--pid PID]``: 0 when healthy, else 1."""
    pid = option(argv, "--pid")
    ok, why = healthy(pid=int(pid) if pid else None)
    print(why)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
