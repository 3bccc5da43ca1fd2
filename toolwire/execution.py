"""Execution: the one seam every tool call goes through.

    result = await dispatch(registry, "convert_currency", {"amount": 42, "from_currency": "USD",
                                                           "to_currency": "CAD"})

``dispatch`` checks, in order, that the tool exists, that the arguments validate against its
JSON Schema, that it has a handler and that it needs no pending approval; then an ``Executor``
runs it:

- ``InProcessExecutor`` (the default): async handlers awaited on the loop and cancelled after
  ``tool.timeout`` seconds; sync ones in a thread of the tool pool (``toolwire.toolpool``, never
  the default executor), interrupted after the timeout. A tool that ignored an interruption
  runs from then on in a process that is killed at its timeout.
- ``SubprocessExecutor`` (tools with ``sandbox=True``): the handler, imported by
  ``tool.import_path``, in a fresh Python process with memory, CPU, process and file-size
  limits and no network, killed on timeout. Arguments and result travel as JSON.

Executors never raise for a failing tool: failures come back as an ``ExecutionResult`` with a
status and a structured ``error`` (``{"type": ..., "message": ...}``). Other executors (a Celery
worker, a remote sandbox) plug in by implementing ``Executor.run``.

JSON arguments are turned into the handler's annotated types (enums, ``Literal``, nested
models, dates) by pydantic, one ``TypeAdapter`` per parameter; no text is ever evaluated.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import json
import math
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any, Protocol, get_type_hints

from pydantic import TypeAdapter, ValidationError
from pydantic_core import to_jsonable_python

from toolwire.results import CallStatus
from toolwire.toolpool import PoolSaturated, ToolPool, tool_pool
from toolwire.tools import Registry, Tool

__all__ = [
    "ArgumentError",
    "ExecutionResult",
    "Executor",
    "HandlerExit",
    "InProcessExecutor",
    "SandboxLimits",
    "SubprocessExecutor",
    "coerce_arguments",
    "dispatch",
    "to_json_value",
]


@dataclass(kw_only=True)
class ExecutionResult:
    """What running (or refusing to run) one tool call produced."""

    status: CallStatus
    result: Any = None
    """The handler's return value as JSON-serialisable data (``ok`` only)."""
    error: dict[str, Any] | None = None
    """``{"type": ..., "message": ...}`` when the call was refused or failed."""
    duration_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Executor(Protocol):
    """Runs a validated call of an executable tool; never raises for a failing tool."""

    async def run(self, tool: Tool, arguments: dict[str, Any]) -> ExecutionResult: ...


class ArgumentError(ValueError):
    """JSON arguments that do not convert to the handler's annotated types."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def _error(kind: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "message": message, **extra}


def _exception_error(exc: BaseException) -> dict[str, Any]:
    return _error(type(exc).__name__, str(exc) or type(exc).__name__)


def _invalid(errors: list[str]) -> ExecutionResult:
    message = "invalid arguments: " + "; ".join(errors)
    return ExecutionResult(
        status="invalid", error=_error("invalid_arguments", message, errors=errors)
    )


# -- arguments in, result out ---------------------------------------------------------------
def _build_adapters(fn: Callable[..., Any]) -> dict[str, TypeAdapter[Any]]:
    try:
        hints = get_type_hints(fn, include_extras=True)
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError, NameError):
        return {}
    return {n: TypeAdapter(hints[n]) for n in params if n in hints and hints[n] is not Any}


_cached_adapters = functools.lru_cache(maxsize=512)(_build_adapters)


def _adapters(fn: Callable[..., Any]) -> dict[str, TypeAdapter[Any]]:
    try:
        return _cached_adapters(fn)
    except TypeError:  # an unhashable callable
        return _build_adapters(fn)


def coerce_arguments(fn: Callable[..., Any], arguments: Mapping[str, Any]) -> dict[str, Any]:
    """``arguments`` (JSON values) converted to ``fn``'s annotated parameter types.

    Raises:
        ArgumentError: a value does not convert (each error as ``name.path: message``).
    """
    adapters = _adapters(fn)
    coerced: dict[str, Any] = {}
    errors: list[str] = []
    for name, value in arguments.items():
        adapter = adapters.get(name)
        if adapter is None:
            coerced[name] = value
            continue
        try:
            coerced[name] = adapter.validate_python(value)
        except ValidationError as e:
            for err in e.errors():
                where = ".".join(str(p) for p in (name, *err["loc"]))
                errors.append(f"{where}: {err['msg']}")
    if errors:
        raise ArgumentError(errors)
    return coerced


def to_json_value(value: Any) -> Any:
    """``value`` as JSON-serialisable data (models and dataclasses as objects, enums as values)."""
    return to_jsonable_python(value, fallback=str)


# -- in process -----------------------------------------------------------------------------
class HandlerExit(Exception):
    """A handler called ``sys.exit``: turned into an error so it cannot stop the event loop."""

    def __init__(self, code: object) -> None:
        super().__init__(f"the tool called sys.exit({code!r})")


def _no_exit(handler: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    try:
        return handler(**kwargs)
    except SystemExit as e:
        raise HandlerExit(e.code) from None


async def _call(tool: Tool, kwargs: dict[str, Any], pool: ToolPool) -> Any:
    handler = tool.handler
    assert handler is not None
    try:
        async with asyncio.timeout(tool.timeout):
            if inspect.iscoroutinefunction(handler):
                return await handler(**kwargs)
            value = await pool.call(tool.name, partial(_no_exit, handler, kwargs), tool.timeout)
            if inspect.isawaitable(value):  # a sync callable that hands back a coroutine
                value = await value
            return value
    except SystemExit as e:
        raise HandlerExit(e.code) from None


class InProcessExecutor:
    """Runs handlers in this process: sync ones in the tool pool, async ones on the loop.

    A sync handler past its timeout is interrupted and its thread no longer counts against
    the pool; one that ignores the interruption (blocked in C code) makes its tool run in a
    killable process from then on (``killable``), or be refused when it has no import path.
    """

    def __init__(self, pool: ToolPool | None = None, killable: Executor | None = None) -> None:
        self._pool = pool
        self._killable = killable

    @property
    def pool(self) -> ToolPool:
        return self._pool or tool_pool()

    async def run(self, tool: Tool, arguments: dict[str, Any]) -> ExecutionResult:
        started = time.perf_counter()
        result = await self._run(tool, arguments)
        result.duration_ms = (time.perf_counter() - started) * 1000
        return result

    async def _run(self, tool: Tool, arguments: dict[str, Any]) -> ExecutionResult:
        if tool.handler is None:
            return _not_executable(tool)
        if self.pool.uncancellable(tool.name):
            return await self._run_killable(tool, arguments)
        try:
            kwargs = coerce_arguments(tool.handler, arguments)
        except ArgumentError as e:
            return _invalid(e.errors)
        try:
            value = await _call(tool, kwargs, self.pool)
        except PoolSaturated as e:
            message = f"{tool.name} could not start within {tool.timeout:g} s: {e}"
            return ExecutionResult(status="timeout", error=_error("pool_saturated", message))
        except TimeoutError:
            return _timeout(tool)
        except Exception as e:
            return ExecutionResult(status="error", error=_exception_error(e))
        return ExecutionResult(status="ok", result=to_json_value(value))

    async def _run_killable(self, tool: Tool, arguments: dict[str, Any]) -> ExecutionResult:
        if tool.import_path is None:
            message = (
                f"{tool.name} ignored its last timeout and cannot be stopped in a thread; "
                "register it as a module-level function so it runs in a killable process"
            )
            return ExecutionResult(status="error", error=_error("uncancellable", message))
        return await (self._killable or _KILLABLE).run(tool, arguments)


def _timeout(tool: Tool) -> ExecutionResult:
    message = f"{tool.name} did not finish within {tool.timeout:g} s"
    return ExecutionResult(status="timeout", error=_error("timeout", message))


def _not_executable(tool: Tool) -> ExecutionResult:
    message = f"{tool.name} is a schema-only tool: toolwire has no handler to run it"
    return ExecutionResult(status="not_executable", error=_error("not_executable", message))


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


_CHILD = "from toolwire.execution import _child_main; _child_main()"
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
            return ExecutionResult(status="error", error=_error("not_sandboxable", message))
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
                return _timeout(tool)
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
        return _timeout(tool)
    return ExecutionResult(status=status, result=reply.get("result"), error=reply.get("error"))


def _crashed(tool: Tool, returncode: int | None, err: bytes) -> ExecutionResult:
    stderr = err.decode(errors="replace").strip()[-2000:]
    if returncode is not None and returncode < 0:
        name = _signal_name(-returncode)
        if -returncode == signal.SIGXCPU:
            message = f"{tool.name} exceeded its CPU-time limit"
            return ExecutionResult(status="timeout", error=_error("cpu_limit", message))
        message = f"the sandboxed process of {tool.name} was killed by {name}"
    else:
        message = f"the sandboxed process of {tool.name} exited with status {returncode}"
    return ExecutionResult(status="error", error=_error("sandbox_crashed", message, stderr=stderr))


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
        return asdict(_invalid(e.errors))
    except MemoryError:
        message = f"the tool exceeded the sandbox memory limit of {memory_mb} MB"
        return {"status": "error", "error": _error("memory_limit", message)}
    except (Exception, SystemExit) as e:
        return {"status": "error", "error": _exception_error(e)}


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


# -- the seam -------------------------------------------------------------------------------
_IN_PROCESS = InProcessExecutor()
_SANDBOX = SubprocessExecutor()
_KILLABLE = SubprocessExecutor(
    SandboxLimits(memory_mb=4096, max_processes=None, file_size_mb=1024, open_files=1024,
                  network=True),
    keep_environment=True,
)
"""Where a tool that ignored an interruption runs: a process killed at the timeout, with the
limits of an ordinary tool (network and subprocesses allowed), not the sandbox's."""


def _parse_arguments(arguments: Any) -> Any:
    if arguments is None:
        return {}
    if isinstance(arguments, str | bytes):
        return json.loads(arguments or "{}")
    return arguments


def _refusal(tool: Tool, arguments: Any, approved: bool) -> ExecutionResult | None:
    """Why the call must not run (invalid, schema-only, awaiting approval), or ``None``."""
    errors = tool.validate(arguments)
    if not errors and not isinstance(arguments, dict):
        errors = [f"(arguments): {arguments!r} is not a JSON object"]
    if errors:
        return _invalid(errors)
    if not tool.executable:
        return _not_executable(tool)
    if tool.requires_approval and not approved:
        return ExecutionResult(status="pending_approval")
    return None


async def dispatch(
    registry: Registry,
    name: str,
    arguments: Any,
    *,
    executor: Executor | None = None,
    approved: bool = False,
    sandbox_executor: Executor | None = None,
) -> ExecutionResult:
    """Run the registered tool ``name`` with ``arguments`` (a dict, or a JSON object string).

    Never raises for a bad call: unknown tools, invalid arguments, schema-only tools, calls
    awaiting approval, failures and timeouts all come back as an ``ExecutionResult``. Sandboxed
    tools run in ``sandbox_executor`` (default: a ``SubprocessExecutor``), the others in
    ``executor`` (default: an ``InProcessExecutor``).
    """
    started = time.perf_counter()
    if name not in registry:
        message = f"no tool named {name!r} is registered"
        result = ExecutionResult(status="error", error=_error("unknown_tool", message))
    else:
        tool = registry.get(name)
        try:
            parsed = _parse_arguments(arguments)
        except ValueError as e:
            result = _invalid([f"(arguments): not valid JSON: {e}"])
        else:
            result = _refusal(tool, parsed, approved) or await (
                (sandbox_executor or _SANDBOX) if tool.sandbox else (executor or _IN_PROCESS)
            ).run(tool, parsed)
    if not result.duration_ms:
        result.duration_ms = (time.perf_counter() - started) * 1000
    return result
