"""Sandboxed execution: a tool in a fresh, resource-limited Python process, killed on timeout.

``SubprocessExecutor`` runs ``tool.import_path`` in a child process with memory, CPU, process
and file-size limits and no network (``SandboxLimits``); arguments and result travel as JSON.
The child side (``_child_main``) runs in that process.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import math
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from toolwire.tools.calls import (
    ArgumentError,
    ExecutionResult,
    coerce_arguments,
    error_info,
    exception_info,
    invalid_result,
    timeout_result,
    to_json_value,
)
from toolwire.tools.registry import Tool

__all__ = ["SandboxLimits", "SubprocessExecutor"]


# -- in a sandboxed subprocess --------------------------------------------------------------
@dataclass(kw_only=True, frozen=True)
class SandboxLimits:
    """Resource limits of a sandboxed call (POSIX rlimits, set in the child before import)."""

    memory_mb: int = 512
    """Address-space limit (RLIMIT_AS); exceeding it raises MemoryError in the tool."""
    cpu_seconds: int | None = None
    """CPU-time limit (RLIMIT_CPU); default: the tool's timeout plus the startup allowance."""
    max_processes: int | None = 0
    """RLIMIT_NPROC: 0 forbids fork/threads (not enforced for a privileged user outside the
    user namespace); ``None`` leaves it alone."""
    file_size_mb: int = 16
    """Largest file the tool may write (RLIMIT_FSIZE)."""
    open_files: int = 64
    network: bool = False
    """``False``: a fresh network namespace (when the kernel allows) and sockets refused."""
    startup_s: float = 5.0
    """Wall-clock allowance for interpreter start and imports, on top of ``tool.timeout``."""


_CHILD = "from toolwire.tools.sandbox import _child_main; _child_main()"
_SECRET_WORDS = ("DATABASE", "KEY", "SECRET", "TOKEN", "PASSWORD", "BROKER")
_SAFE_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "HOME", "TMPDIR", "SYSTEMROOT")


def _plain_setting(name: str) -> bool:
    """A ``TOOLWIRE_*`` variable that cannot hold a credential (the database URL might)."""
    upper = name.upper()
    return upper.startswith("TOOLWIRE_") and not any(word in upper for word in _SECRET_WORDS)


def _child_env() -> dict[str, str]:
    """Environment of a sandboxed child: no secrets, only locale, paths and TOOLWIRE_*."""
    env = {k: v for k, v in os.environ.items() if k in _SAFE_ENV or _plain_setting(k)}
    paths = [p or os.getcwd() for p in sys.path]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if os.path.isdir(p))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


class SubprocessExecutor:
    """Runs ``tool.import_path`` in a fresh, resource-limited Python process, one per call."""

    def __init__(
        self,
        limits: SandboxLimits | None = None,
        *,
        python: str = sys.executable,
        keep_environment: bool = False,
    ):
        """``keep_environment``: the child gets this process's whole environment (an ordinary
        tool moved to a killable process), not the sandbox's secret-free one."""
        self.limits = limits or SandboxLimits()
        self.python = python
        self.keep_environment = keep_environment

    async def run(self, tool: Tool, arguments: dict[str, Any]) -> ExecutionResult:
        started = time.perf_counter()
        result = await self._run(tool, arguments)
        result.duration_ms = (time.perf_counter() - started) * 1000
        return result

    async def _run(self, tool: Tool, arguments: dict[str, Any]) -> ExecutionResult:
        if tool.import_path is None:
            message = f"{tool.name} cannot run sandboxed: its handler has no import path"
            return ExecutionResult(status="error", error=error_info("not_sandboxable", message))
        request = self._request(tool, arguments)
        with tempfile.TemporaryDirectory(prefix="toolwire-sandbox-") as workdir:
            proc = await asyncio.create_subprocess_exec(
                self.python,
                "-c",
                _CHILD,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=workdir,
                env={**os.environ, **_child_env()} if self.keep_environment else _child_env(),
                start_new_session=True,
            )
            try:
                out, err = await asyncio.wait_for(
                    proc.communicate(request), tool.timeout + self.limits.startup_s
                )
            except TimeoutError:
                await _kill(proc)
                return timeout_result(tool)
            except asyncio.CancelledError:
                await _kill(proc)
                raise
        return _child_result(tool, proc.returncode, out, err)

    def _request(self, tool: Tool, arguments: dict[str, Any]) -> bytes:
        limits = asdict(self.limits)
        if limits["cpu_seconds"] is None:
            limits["cpu_seconds"] = math.ceil(tool.timeout + self.limits.startup_s)
        payload = {
            "import_path": tool.import_path,
            "arguments": arguments,
            "timeout": tool.timeout,
            "limits": limits,
        }
        return json.dumps(payload).encode()


async def _kill(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # the whole session: children die too
    await proc.wait()


def _child_result(tool: Tool, returncode: int | None, out: bytes, err: bytes) -> ExecutionResult:
    try:
        reply = json.loads(out)
        status = reply["status"]
    except (ValueError, KeyError, TypeError):
        return _crashed(tool, returncode, err)
    if status == "timeout":
        return timeout_result(tool)
    return ExecutionResult(status=status, result=reply.get("result"), error=reply.get("error"))


def _crashed(tool: Tool, returncode: int | None, err: bytes) -> ExecutionResult:
    stderr = err.decode(errors="replace").strip()[-2000:]
    if returncode is not None and returncode < 0:
        name = _signal_name(-returncode)
        if -returncode == signal.SIGXCPU:
            message = f"{tool.name} exceeded its CPU-time limit"
            return ExecutionResult(status="timeout", error=error_info("cpu_limit", message))
        message = f"the sandboxed process of {tool.name} was killed by {name}"
    else:
        message = f"the sandboxed process of {tool.name} exited with status {returncode}"
    return ExecutionResult(status="error", error=error_info("sandbox_crashed", message, stderr=stderr))


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


# -- the child side (runs in the sandboxed process) -----------------------------------------
class _HandlerTimeout(BaseException):
    """Raised in the child by the interval timer; a BaseException so handlers don't swallow it."""


def _child_main() -> None:
    """Entry point of the sandboxed process: JSON request on stdin, JSON reply on stdout."""
    reply_fd = os.dup(1)
    os.dup2(2, 1)  # whatever the tool prints goes to stderr, never into the reply
    request = json.loads(sys.stdin.buffer.read())
    limits = request["limits"]
    if not limits["network"]:
        _isolate_network()
    _apply_limits(limits)
    if limits["max_processes"] == 0:
        _forbid_processes()
    reply = _child_run(request)
    with os.fdopen(reply_fd, "w") as out:
        out.write(json.dumps(reply, default=str))


def _child_run(request: dict[str, Any]) -> dict[str, Any]:
    memory_mb = request["limits"]["memory_mb"]
    try:
        handler = _import(request["import_path"])
        kwargs = coerce_arguments(handler, request["arguments"])
        signal.signal(signal.SIGALRM, _raise_timeout)
        signal.setitimer(signal.ITIMER_REAL, request["timeout"])
        value = handler(**kwargs)
        if inspect.isawaitable(value):
            value = asyncio.run(_awaited(value))
        signal.setitimer(signal.ITIMER_REAL, 0)
        return {"status": "ok", "result": to_json_value(value)}
    except _HandlerTimeout:
        return {"status": "timeout"}
    except ArgumentError as e:
        return asdict(invalid_result(e.errors))
    except MemoryError:
        message = f"the tool exceeded the sandbox memory limit of {memory_mb} MB"
        return {"status": "error", "error": error_info("memory_limit", message)}
    except (Exception, SystemExit) as e:
        return {"status": "error", "error": exception_info(e)}


async def _awaited(value: Any) -> Any:
    return await value


def _raise_timeout(signum: int, frame: Any) -> None:
    raise _HandlerTimeout


def _import(import_path: str) -> Callable[..., Any]:
    import importlib

    module_name, _, qualname = import_path.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part)
    if not callable(target):
        raise TypeError(f"{import_path} is not callable")
    return target  # type: ignore[no-any-return]


def _apply_limits(limits: dict[str, Any]) -> None:
    import resource

    mb = 1024 * 1024
    wanted = {
        resource.RLIMIT_AS: limits["memory_mb"] * mb,
        resource.RLIMIT_CPU: limits["cpu_seconds"],
        resource.RLIMIT_FSIZE: limits["file_size_mb"] * mb,
        resource.RLIMIT_NOFILE: limits["open_files"],
    }
    if limits["max_processes"] is not None:
        wanted[resource.RLIMIT_NPROC] = limits["max_processes"]
    for which, value in wanted.items():
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value if which != resource.RLIMIT_CPU else value + 1))


def _refuse(what: str) -> Callable[..., Any]:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(f"{what} is disabled in the sandbox")

    return refuse


def _isolate_network() -> None:
    """A new (empty) network namespace when the kernel allows; sockets refused regardless."""
    import ctypes
    import socket

    if sys.platform.startswith("linux"):
        clone_newuser, clone_newnet = 0x10000000, 0x40000000
        libc = ctypes.CDLL(None, use_errno=True)
        libc.unshare(clone_newuser | clone_newnet)  # refused inside some containers: fine
    refuse = _refuse("network access")
    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse  # type: ignore[method-assign]
    socket.getaddrinfo = refuse
    socket.create_connection = refuse


_SPAWNERS = (
    "fork",
    "forkpty",
    "system",
    "popen",
    "posix_spawn",
    "posix_spawnp",
    "execv",
    "execve",
    "execvp",
    "execvpe",
    "execl",
    "execle",
    "execlp",
    "execlpe",
    "spawnv",
    "spawnve",
    "spawnvp",
    "spawnvpe",
    "spawnl",
    "spawnle",
    "spawnlp",
    "spawnlpe",
)


def _forbid_processes() -> None:
    """Refuse new processes at the Python level too: RLIMIT_NPROC does not bind root."""
    import _posixsubprocess  # type: ignore[import-not-found]
    import subprocess

    refuse = _refuse("starting processes")
    for name in _SPAWNERS:
        if hasattr(os, name):
            setattr(os, name, refuse)
    _posixsubprocess.fork_exec = refuse
    subprocess._fork_exec = refuse  # type: ignore[attr-defined]
