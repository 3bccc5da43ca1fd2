"""The sandboxed subprocess executor: limits hit, isolation, and routing of sandbox tools.

The handlers live at module level so the child process can import them by path.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from toolwire import Registry
from toolwire.tools.dispatch import SandboxLimits, SubprocessExecutor, dispatch

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX resource limits")


def add(a: int, b: int) -> int:
    """Add, chattily."""
    print("this goes to stderr, not into the reply")
    return a + b


def allocate(megabytes: int) -> int:
    """Allocate memory."""
    return len(bytearray(megabytes * 1024 * 1024))


def sleep(seconds: float) -> float:
    """Sleep."""
    time.sleep(seconds)
    return seconds


def stubborn_sleep(seconds: float) -> float:
    """Sleep, ignoring the alarm the sandbox sets."""
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    time.sleep(seconds)
    return seconds


def spin() -> None:
    """Burn CPU forever."""
    while True:
        pass


def connect() -> str:
    """Open a TCP connection."""
    with socket.create_connection(("127.0.0.1", 9), timeout=2):
        return "connected"


def spawn() -> int:
    """Start a process."""
    return subprocess.run(["true"], check=False).returncode


def secret() -> list[str | None]:
    """Read credentials and a plain setting from the environment."""
    names = ("OPENAI_API_KEY", "TOOLWIRE_DATABASE_URL", "TOOLWIRE_API_KEY", "TOOLWIRE_MODEL")
    return [os.environ.get(name) for name in names]


def whoami() -> int:
    """The process id."""
    return os.getpid()


@pytest.fixture
def registry() -> Registry:
    r = Registry()
    for fn in (add, allocate, sleep, stubborn_sleep, spin, connect, spawn, secret, whoami):
        r.register(fn, sandbox=True, timeout=1.5)
    return r


async def test_result_comes_back_as_json_despite_prints(registry: Registry) -> None:
    result = await dispatch(registry, "add", {"a": 2, "b": 3})
    assert result.status == "ok" and result.result == 5


async def test_sandboxed_tools_run_in_another_process(registry: Registry) -> None:
    result = await dispatch(registry, "whoami", {})
    assert result.status == "ok" and result.result != os.getpid()


async def test_memory_limit(registry: Registry) -> None:
    executor = SubprocessExecutor(SandboxLimits(memory_mb=256))
    result = await dispatch(registry, "allocate", {"megabytes": 512}, sandbox_executor=executor)
    assert result.status == "error"
    assert result.error == {
        "type": "memory_limit",
        "message": "the tool exceeded the sandbox memory limit of 256 MB",
    }
    small = await dispatch(registry, "allocate", {"megabytes": 8}, sandbox_executor=executor)
    assert small.result == 8 * 1024 * 1024


@pytest.mark.parametrize("name", ["sleep", "spin"])
async def test_time_limit(registry: Registry, name: str) -> None:
    arguments = {"seconds": 30} if name == "sleep" else {}
    result = await dispatch(registry, name, arguments)
    assert result.status == "timeout"
    assert result.error == {"type": "timeout", "message": f"{name} did not finish within 1.5 s"}


async def test_a_child_that_ignores_the_alarm_is_killed(registry: Registry) -> None:
    executor = SubprocessExecutor(SandboxLimits(startup_s=1.0))
    started = time.perf_counter()
    result = await dispatch(registry, "stubborn_sleep", {"seconds": 30}, sandbox_executor=executor)
    assert result.status == "timeout"
    assert time.perf_counter() - started < 20


async def test_network_is_refused(registry: Registry) -> None:
    result = await dispatch(registry, "connect", {})
    assert result.status == "error"
    assert result.error == {
        "type": "PermissionError",
        "message": "network access is disabled in the sandbox",
    }


async def test_starting_processes_is_refused(registry: Registry) -> None:
    result = await dispatch(registry, "spawn", {})
    assert result.status == "error"
    assert result.error is not None and "starting processes is disabled" in result.error["message"]


async def test_secrets_are_not_passed_to_the_child(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    monkeypatch.setenv("TOOLWIRE_DATABASE_URL", "postgresql://user:pw@db/toolwire")
    monkeypatch.setenv("TOOLWIRE_API_KEY", "tw-secret")
    monkeypatch.setenv("TOOLWIRE_MODEL", "local:smollm2-135m")
    result = await dispatch(registry, "secret", {})
    assert result.status == "ok" and result.result == [None, None, None, "local:smollm2-135m"]


async def test_invalid_arguments_are_refused_before_spawning(registry: Registry) -> None:
    result = await dispatch(registry, "add", {"a": "two"})
    assert result.status == "invalid"


async def test_a_handler_without_import_path_cannot_be_sandboxed() -> None:
    r = Registry()

    @r.tool(sandbox=True)
    def local() -> int:
        """Defined inside a function."""
        return 1

    result = await dispatch(r, "local", {})
    assert result.status == "error"
    assert result.error is not None and result.error["type"] == "not_sandboxable"
