"""The container's health check, for whichever role the container runs: ``python -m
toolwire.healthcheck`` exits 0 when healthy, 1 otherwise (what Docker's HEALTHCHECK reads).

It finds the toolwire process among the container's processes (``/proc/*/cmdline``) and
checks what that role offers: ``toolwire serve`` answers ``GET /healthz`` on its ``--port``
(200 when ok or degraded, 503 when the database is away); ``toolwire worker`` answers
``GET /metrics`` on its ``--metrics-port`` (or ``TOOLWIRE_WORKER_METRICS_PORT``) with at
least one pool process that has its model loaded (``toolwire_worker_processes`` reported)
and, without a metrics port, is healthy while its process runs. A container running a one-shot command (``toolwire
db upgrade``) or none is healthy. Standard library only: it runs every few seconds.
"""

from __future__ import annotations

import os
import sys
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

TIMEOUT_S = 4.0
POOL_READY = b"\ntoolwire_worker_processes "
"""The worker's /metrics line that a pool process with its model loaded reports."""


def commands(proc: Path = Path("/proc")) -> Iterator[list[str]]:
    """Every process's command line, as its arguments."""
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            raw = (entry / "cmdline").read_bytes()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if raw:
            yield [part.decode(errors="replace") for part in raw.rstrip(b"\0").split(b"\0")]


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


def target(argv: Sequence[str]) -> str | None:
    """The URL that tells the role of ``argv`` healthy, or ``None`` when running is enough."""
    role = role_of(argv)
    if role == "serve":
        host = option(argv, "--host") or "127.0.0.1"
        port = option(argv, "--port") or "8000"
        return f"http://{_reachable(host)}:{port}/healthz"
    metrics = option(argv, "--metrics-port") or os.environ.get("TOOLWIRE_WORKER_METRICS_PORT")
    if role == "worker" and metrics and metrics != "0":
        host = option(argv, "--metrics-host") or "127.0.0.1"
        return f"http://{_reachable(host)}:{metrics}/metrics"
    return None


def _reachable(host: str) -> str:
    """Where to ask a server bound to ``host``: loopback for the wildcard addresses."""
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def healthy(proc: Path = Path("/proc")) -> tuple[bool, str]:
    """Whether the container's toolwire role is healthy, and why."""
    roles = [argv for argv in commands(proc) if role_of(argv)]
    if not roles:
        return True, "no serve or worker process: a one-shot command"
    url = target(roles[0])
    if url is None:
        return True, f"{role_of(roles[0])} is running"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            body = response.read()
    except Exception as e:  # refused, timed out, an HTTP error status
        return False, f"{url}: {e}"
    if url.endswith("/metrics") and POOL_READY not in body:
        return False, f"{url}: no pool process has its model loaded yet"
    return True, f"{url}: {response.status}"


def main() -> int:
    ok, why = healthy()
    print(why)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
