"""Sandboxed execution: a tool in a fresh, resource-limited process, isolated by bubblewrap.

``SubprocessExecutor`` runs ``tool.import_path`` in a child Python process; arguments and result
travel as JSON on its stdin and stdout (``sandbox_child.py`` is the child side). Three ways to
start that child:

- isolated (tools with ``sandbox=True``): under ``bwrap`` (``bwrap.py``) with every namespace
  unshared (an empty network, its own pids, ipc and hostname), a private ``/tmp``, a secret-free
  environment, read-only binds of only the interpreter, the code on ``sys.path`` and ``/usr``
  (never ``/etc``, ``$HOME`` nor the toolwire home and database) and a seccomp filter
  (``seccomp.py``) that refuses new processes (``SandboxLimits.max_processes == 0``) and
  namespace or kernel-debugging system calls. The filter is what stops a fork bomb when the
  service runs as root: ``RLIMIT_NPROC`` does not bind uid 0, not even inside a user namespace
  mapped to it.
- weak (``TOOLWIRE_SANDBOX_MODE=weak`` where bubblewrap cannot run): a plain child with the same
  rlimits and Python-level refusals of sockets and ``fork``, which a hostile tool gets around.
  Logged loudly: such tools are NOT isolated.
- plain (``isolation=False``): an ordinary process, for ordinary tools that ignored a timeout
  and must be killable; it keeps the network and, with ``keep_environment``, the environment.

In every case the child has POSIX rlimits (memory, CPU, open files, file size, processes) and
is killed, with its whole process group or sandbox, at the wall-clock timeout. This module holds
the executor, the child's environment and the reading of its reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import asdict
from typing import Any, Literal

from toolwire.tools.bwrap import (
    bwrap_command,
    code_paths,
    isolation_problem,
    kill_group,
    sandbox_sys_path,
)
from toolwire.tools.calls import ExecutionResult, error_info, timeout_result
from toolwire.tools.registry import Tool
from toolwire.tools.sandbox_child import ENTRY
from toolwire.tools.sandbox_limits import SandboxLimits
from toolwire.tools.seccomp import seccomp_pipe

__all__ = ["SandboxLimits", "SandboxMode", "SubprocessExecutor", "bwrap_command"]

log = logging.getLogger(__name__)

SandboxMode = Literal["isolated", "weak"]


# -- the child's environment ----------------------------------------------------------------
_SECRET_WORDS = ("DATABASE", "KEY", "SECRET", "TOKEN", "PASSWORD", "BROKER")
_SAFE_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "HOME", "TMPDIR", "SYSTEMROOT")


def _plain_setting(name: str) -> bool:
    """A ``TOOLWIRE_*`` variable that cannot hold a credential (the database URL might)."""
    upper = name.upper()
    return upper.startswith("TOOLWIRE_") and not any(word in upper for word in _SECRET_WORDS)


def _safe_environ() -> dict[str, str]:
    """This process's variables that hold no secret: locale, paths and plain TOOLWIRE_*."""
    return {k: v for k, v in os.environ.items() if k in _SAFE_ENV or _plain_setting(k)}


def _child_env() -> dict[str, str]:
    """Environment of an un-isolated child: no secrets, and this process's ``sys.path``."""
    env = _safe_environ()
    paths = [p or os.getcwd() for p in sys.path]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if os.path.isdir(p))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


_ONE_THREAD = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _sandbox_env(python_path: list[str]) -> dict[str, str]:
    """Environment inside bubblewrap: no secrets, HOME and TMPDIR on the private /tmp (the
    real home is not there), and numeric libraries without thread pools: numpy, imported with
    toolwire, would start threads before the tool runs, which the seccomp filter refuses."""
    env = _safe_environ()
    env.update(
        PATH="/usr/local/bin:/usr/bin:/bin",
        HOME="/tmp",
        TMPDIR="/tmp",
        PYTHONPATH=os.pathsep.join(python_path),
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(dict.fromkeys(_ONE_THREAD, "1"))
    return env


# -- the executor ---------------------------------------------------------------------------
class SubprocessExecutor:
    """Runs ``tool.import_path`` in a fresh, resource-limited process, one per call."""

    def __init__(
        self,
        limits: SandboxLimits | None = None,
        *,
        python: str = sys.executable,
        keep_environment: bool = False,
        isolation: bool = True,
        mode: SandboxMode | None = None,
        bwrap: str = "bwrap",
    ):
        """``isolation=False``: an ordinary child, never under bubblewrap (an ordinary tool
        moved to a killable process); ``keep_environment`` then gives it this process's whole
        environment. ``mode``: what an isolated call does where bubblewrap cannot run,
        ``"isolated"`` refuses it and ``"weak"`` runs it un-isolated (default:
        ``TOOLWIRE_SANDBOX_MODE``, read at each call). ``bwrap``: the bubblewrap executable."""
        if keep_environment and isolation:
            raise ValueError("keep_environment=True needs isolation=False: a sandbox never "
                             "sees this process's environment")
        self.limits = limits or SandboxLimits()
        self.python = python
        self.keep_environment = keep_environment
        self.isolation = isolation
        self.mode = mode
        self.bwrap = bwrap
        self._warned = False

    async def run(self, tool: Tool, arguments: dict[str, Any]) -> ExecutionResult:
        started = time.perf_counter()
        result = await self._run(tool, arguments)
        result.duration_ms = (time.perf_counter() - started) * 1000
        return result

    async def _run(self, tool: Tool, arguments: dict[str, Any]) -> ExecutionResult:
        if tool.import_path is None:
            message = f"{tool.name} cannot run sandboxed: its handler has no import path"
            return ExecutionResult(status="error", error=error_info("not_sandboxable", message))
        isolated = await self._isolated(tool)
        if isinstance(isolated, ExecutionResult):
            return isolated
        with contextlib.ExitStack() as cleanup:
            start = self._start_isolated(tool) if isolated else self._start_plain(cleanup)
            proc = await start
            try:
                out, err = await asyncio.wait_for(
                    proc.communicate(self._request(tool, arguments, isolated)),
                    tool.timeout + self.limits.startup_s,
                )
            except TimeoutError:
                await kill_group(proc)
                return timeout_result(tool)
            except asyncio.CancelledError:
                await kill_group(proc)
                raise
        return _child_result(tool, _exit_status(proc.returncode, isolated), out, err)

    async def _isolated(self, tool: Tool) -> bool | ExecutionResult:
        """Whether this call runs under bubblewrap; a refusal when it must and cannot."""
        if not self.isolation:
            return False
        problem = await isolation_problem(self.bwrap)
        if problem is None:
            return True
        if self._mode() == "weak":
            self._warn_weak(problem)
            return False
        message = (
            f"{tool.name} must run isolated, but the sandbox is unavailable: {problem}. "
            "Install bubblewrap (apt-get install bubblewrap), or set "
            "TOOLWIRE_SANDBOX_MODE=weak to run sandboxed tools with resource limits only."
        )
        return ExecutionResult(status="error", error=error_info("sandbox_unavailable", message))

    def _mode(self) -> SandboxMode:
        if self.mode is not None:
            return self.mode
        from toolwire.config import get_settings

        return get_settings().sandbox_mode

    def _warn_weak(self, problem: str) -> None:
        """Once per executor (in practice once per process): the operator chose weak mode."""
        if not self._warned:
            self._warned = True
            log.warning(
                "SANDBOX NOT ISOLATED: %s, and the sandbox mode is 'weak' "
                "(TOOLWIRE_SANDBOX_MODE): tools with sandbox=True run with resource limits "
                "only and CAN read files, reach the network and signal other processes. "
                "Install bubblewrap to isolate them.",
                problem,
            )

    async def _start_plain(self, cleanup: contextlib.ExitStack) -> asyncio.subprocess.Process:
        workdir = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="toolwire-sandbox-"))
        return await asyncio.create_subprocess_exec(
            self.python,
            "-c",
            ENTRY,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=workdir,
            env={**os.environ, **_child_env()} if self.keep_environment else _child_env(),
            start_new_session=True,
        )

    async def _start_isolated(self, tool: Tool) -> asyncio.subprocess.Process:
        """``bwrap`` with the seccomp filter on a pipe; bubblewrap itself gets the secret-free
        environment too, as the sandbox can read its ``/proc/1/environ``."""
        python_path = sandbox_sys_path()
        env = _sandbox_env(python_path)
        filter_fd = seccomp_pipe(forbid_processes=self.limits.max_processes == 0)
        try:
            command = bwrap_command(
                bwrap=shutil.which(self.bwrap) or self.bwrap,
                python=self.python,
                limits=self.limits,
                binds=code_paths(tool, self.python),
                env=env,
                seccomp_fd=filter_fd,
            )
            return await asyncio.create_subprocess_exec(
                *command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
                pass_fds=(filter_fd,),
                start_new_session=True,
            )
        finally:
            os.close(filter_fd)

    def _request(self, tool: Tool, arguments: dict[str, Any], isolated: bool) -> bytes:
        limits = asdict(self.limits)
        if limits["cpu_seconds"] is None:
            limits["cpu_seconds"] = math.ceil(tool.timeout + self.limits.startup_s)
        payload = {
            "import_path": tool.import_path,
            "arguments": arguments,
            "timeout": tool.timeout,
            "limits": limits,
            "isolated": isolated,
        }
        return json.dumps(payload).encode()


# -- the reply ------------------------------------------------------------------------------
def _exit_status(returncode: int | None, isolated: bool) -> int | None:
    """bwrap exits with 128 + n when the child dies of signal n: report it as a signal."""
    if isolated and returncode is not None and returncode > 128:
        return -(returncode - 128)
    return returncode


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
