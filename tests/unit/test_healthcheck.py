"""The container health check follows the role and port the container runs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from toolwire import healthcheck


def fake_proc(root: Path, *commands: list[str], environ: dict[str, str] | None = None) -> Path:
    """A /proc holding one process per command line (pids 100, 101, ...), each started with
    ``environ``."""
    for pid, argv in enumerate(commands, start=100):
        (root / str(pid)).mkdir()
        (root / str(pid) / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
        pairs = [f"{k}={v}".encode() for k, v in (environ or {}).items()]
        (root / str(pid) / "environ").write_bytes(b"\0".join(pairs))
    (root / "self").mkdir()
    return root


class _Answer(BaseHTTPRequestHandler):
    status = 200

    metrics = b"# HELP x\ntoolwire_worker_processes 2.0\n"

    def do_GET(self) -> None:
        self.send_response(self.status if self.path in ("/healthz", "/metrics") else 404)
        self.end_headers()
        if self.path == "/metrics":
            self.wfile.write(self.metrics)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def test_roles_are_read_from_every_way_toolwire_is_started() -> None:
    assert healthcheck.role_of(["/opt/venv/bin/python", "/opt/venv/bin/toolwire", "serve"]) == "serve"
    assert healthcheck.role_of(["/sbin/docker-init", "--", "toolwire", "worker"]) == "worker"
    assert healthcheck.role_of(["python", "-m", "toolwire", "serve", "--port", "9"]) == "serve"
    assert healthcheck.role_of(["toolwire", "db", "upgrade"]) is None
    assert healthcheck.role_of(["toolwire"]) is None
    assert healthcheck.role_of(["postgres", "serve"]) is None


def test_serve_is_asked_on_its_own_port_and_host(tmp_path: Path, port: int) -> None:
    proc = fake_proc(tmp_path, ["toolwire", "serve", "--host", "0.0.0.0", f"--port={port}"])
    ok, why = healthcheck.healthy(proc)
    assert ok and f"127.0.0.1:{port}/healthz" in why


def test_serve_on_a_port_nobody_answers_is_unhealthy(tmp_path: Path, port: int) -> None:
    proc = fake_proc(tmp_path, ["toolwire", "serve", "--port", str(port + 1 if port < 65535 else 1)])
    assert healthcheck.healthy(proc)[0] is False


def test_a_database_away_503_is_unhealthy(tmp_path: Path, port: int) -> None:
    _Answer.status = 503
    try:
        proc = fake_proc(tmp_path, ["toolwire", "serve", "--port", str(port)])
        assert healthcheck.healthy(proc)[0] is False
    finally:
        _Answer.status = 200


def test_a_worker_is_asked_on_its_metrics_port_or_checked_alive(
    tmp_path: Path, port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOOLWIRE_WORKER_METRICS_PORT", "1")  # the checker's own: not read
    (tmp_path / "a").mkdir()
    with_port = fake_proc(tmp_path / "a", ["toolwire", "worker", "--metrics-port", str(port)])
    ok, why = healthcheck.healthy(with_port)
    assert ok and f":{port}/metrics" in why
    (tmp_path / "b").mkdir()
    alive = fake_proc(tmp_path / "b", ["toolwire", "worker", "--concurrency", "2"])
    assert healthcheck.healthy(alive) == (True, "worker is running")
    (tmp_path / "c").mkdir()  # the port the worker was started with, in its environment
    started = fake_proc(tmp_path / "c", ["toolwire", "worker"],
                        environ={"TOOLWIRE_WORKER_METRICS_PORT": str(port)})
    assert f":{port}/metrics" in healthcheck.healthy(started)[1]


def test_pid_checks_that_process_only(tmp_path: Path, port: int) -> None:
    proc = fake_proc(tmp_path, ["toolwire", "worker"], ["toolwire", "serve", "--port", str(port)],
                     ["sleep", "9"])
    assert healthcheck.healthy(proc, pid=100) == (True, "worker is running")
    assert f":{port}/healthz" in healthcheck.healthy(proc, pid=101)[1]
    assert healthcheck.healthy(proc, pid=102)[0] is False  # not a toolwire role
    assert healthcheck.healthy(proc, pid=999)[0] is False  # no such process


def test_a_worker_whose_pool_has_no_model_yet_is_not_healthy(tmp_path: Path, port: int) -> None:
    _Answer.metrics = b"# HELP x\ntoolwire_messages_total 0.0\n"
    try:
        proc = fake_proc(tmp_path, ["toolwire", "worker", "--metrics-port", str(port)])
        ok, why = healthcheck.healthy(proc)
        assert not ok and "model loaded" in why
    finally:
        _Answer.metrics = b"# HELP x\ntoolwire_worker_processes 2.0\n"


def test_a_one_shot_command_is_healthy(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, ["toolwire", "db", "upgrade"], ["sh", "-c", "sleep 1"])
    assert healthcheck.healthy(proc)[0] is True
