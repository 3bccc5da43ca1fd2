"""The child side of a sandboxed call: what runs inside the fresh process, and only there.

``SubprocessExecutor`` (``sandbox.py``) starts ``python -c ENTRY``, under bubblewrap or not, and
writes one JSON request on its stdin: the tool's import path, its arguments, its timeout, the
limits and whether the call is isolated. ``main`` sets the POSIX rlimits, imports and runs the
handler under an interval timer, and writes one JSON reply to the real stdout (whatever the
tool prints goes to stderr). In weak mode (not isolated) it also refuses sockets and new
processes at the Python level: a courtesy a hostile tool gets around, not a sandbox.

``describe_module`` is the handler of a discovery call (``SubprocessExecutor.describe``): it
imports an untrusted module here, where its top-level code is confined, and describes the tools
it declares as JSON, so the server registers them without ever importing the module.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from toolwire.tools.calls import (
    ArgumentError,
    coerce_arguments,
    error_info,
    exception_info,
    invalid_result,
    to_json_value,
)
from toolwire.tools.registry import Registry, Tool, declared_tools
from toolwire.tools.sandbox_limits import MB

__all__ = ["DESCRIBE", "ENTRY", "describe_module", "main"]

ENTRY = "from toolwire.tools.sandbox_child import main; main()"
"""The child's ``python -c`` program."""

DESCRIBE = "toolwire.tools.sandbox_child:describe_module"
"""The import path of the discovery handler."""


class _HandlerTimeout(BaseException):
    """Raised in the child by the interval timer; a BaseException so handlers don't swallow it."""


def main() -> None:
    """Entry point of the sandboxed process: JSON request on stdin, JSON reply on stdout."""
    reply_fd = os.dup(1)
    os.dup2(2, 1)  # whatever the tool prints goes to stderr, never into the reply
    request = json.loads(sys.stdin.buffer.read())
    limits = request["limits"]
    weak = not request.get("isolated", False)
    if weak and not limits["network"]:
        _isolate_network()
    _apply_limits(limits)
    if weak and limits["max_processes"] == 0:
        _forbid_processes()
    reply = _run(request)
    with os.fdopen(reply_fd, "w") as out:
        out.write(json.dumps(reply, default=str))


def _run(request: dict[str, Any]) -> dict[str, Any]:
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


def describe_module(module: str) -> list[dict[str, Any]]:
    """Import ``module`` and describe each tool it (or a submodule) declares with
    ``@toolwire.tool``: name, description, JSON Schema, import path and the options that are
    data. Functions (``normalize=``, an ``answer=`` function) are left out: they would run in
    the server."""
    import importlib

    importlib.import_module(module)
    described = []
    for fn, options in declared_tools():
        if within_module(getattr(fn, "__module__", None) or "", module):
            described.append(_description(Registry().register(fn, **options)))
    return described


def within_module(name: str, module: str) -> bool:
    """Whether ``name`` is ``module`` or one of its submodules."""
    return name == module or name.startswith(module + ".")


def _description(tool: Tool) -> dict[str, Any]:
    return {
        "name": tool.name,
        "description": tool.description,
        "parameters": tool.parameters,
        "import_path": tool.import_path,
        "coroutine": inspect.iscoroutinefunction(tool.handler),
        "keywords": list(tool.keywords),
        "timeout": tool.timeout,
        "requires_approval": tool.requires_approval,
        "idempotent": tool.idempotent,
        "takes_call_key": tool.takes_call_key,
        "answer": tool.answer if isinstance(tool.answer, str) else None,
    }


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

    wanted = {
        resource.RLIMIT_AS: limits["memory_mb"] * MB,
        resource.RLIMIT_CPU: limits["cpu_seconds"],
        resource.RLIMIT_FSIZE: limits["file_size_mb"] * MB,
        resource.RLIMIT_NOFILE: limits["open_files"],
    }
    if limits["max_processes"] is not None:
        wanted[resource.RLIMIT_NPROC] = limits["max_processes"]
    for which, value in wanted.items():
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value if which != resource.RLIMIT_CPU else value + 1))


# -- weak mode only: Python-level refusals, which a hostile tool gets around ----------------
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
