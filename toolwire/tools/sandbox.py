"""Sandboxed execution: a tool in a fresh, resource-limited process, isolated by bubblewrap.

``SubprocessExecutor`` runs ``tool.import_path`` in a child Python process; arguments and result
travel as JSON on its stdin and stdout (``sandbox_child.py`` is the child side). Three ways to
start that child:

- isolated (tools with ``sandbox=True``): under ``bwrap`` (``bwrap.py``) with every namespace
  unshared (an empty network, its own pids, ipc and hostname), a private ``/tmp``, an
  allowlisted environment (of the ``TOOLWIRE_*`` settings only ``TOOL_SETTINGS``), read-only
  binds of only the interpreter, the code on ``sys.path`` and ``/usr`` (never ``/etc``,
  ``$HOME`` nor the toolwire home and database) and a seccomp filter
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
the executor, the child's environment and the reading of its reply, and ``discover_tools``:
the tools of an untrusted module (``TOOLWIRE_SANDBOX_MODULES``) described by a sandboxed child
that imports it, registered here as proxies that only ever run in the sandbox.
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
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from typing import Any, Literal, NoReturn, TypeVar

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from toolwire.tools.bwrap import (
    bwrap_command,
    code_paths,
    isolation_problem,
    kill_group,
    sandbox_sys_path,
)
from toolwire.tools.calls import ExecutionResult, error_info, timeout_result
from toolwire.tools.registry import Tool, check_answer
from toolwire.tools.sandbox_child import DESCRIBE, ENTRY, within_module
from toolwire.tools.sandbox_limits import SandboxLimits
from toolwire.tools.schema import ToolError
from toolwire.tools.seccomp import seccomp_pipe

__all__ = [
    "TOOL_SETTINGS",
    "SandboxLimits",
    "SandboxMode",
    "SubprocessExecutor",
    "bwrap_command",
    "discover_tools",
]

log = logging.getLogger(__name__)

SandboxMode = Literal["isolated", "weak"]
T = TypeVar("T")


# -- the child's environment: an allowlist ---------------------------------------------------
_PASSED = frozenset({"PATH", "LANG", "LANGUAGE", "TZ", "SYSTEMROOT", "PYTHONHOME", "PYTHONUTF8"})
"""What a child gets of this process's environment: locale and time zone (``LC_*`` too) and
what the interpreter needs to start. Never the rest: a variable's name says nothing of what it
holds (``TOOLWIRE_CREDENTIALS`` holds bearer tokens)."""

TOOL_SETTINGS = ("TOOLWIRE_CURRENCY_RATES", "TOOLWIRE_WEATHER_URL", "TOOLWIRE_GEOCODING_URL")
"""The only settings a tool reads in the child: the built-in ``convert_currency`` and
``get_weather`` read them at each call (``get_settings()``); no other ``TOOLWIRE_*`` passes."""


def _passed(name: str) -> bool:
    return name in _PASSED or name in TOOL_SETTINGS or name.startswith("LC_")


def _allowed_environ() -> dict[str, str]:
    """This process's variables a child may see (``_PASSED``, ``LC_*``, ``TOOL_SETTINGS``)."""
    return {k: v for k, v in os.environ.items() if _passed(k)}


def _python_env(python_path: list[str]) -> dict[str, str]:
    """What the child interpreter needs to import the tool: its ``sys.path``, no bytecode."""
    return {"PYTHONPATH": os.pathsep.join(python_path), "PYTHONDONTWRITEBYTECODE": "1"}


def _host_sys_path() -> list[str]:
    paths = [p or os.getcwd() for p in sys.path]
    return [p for p in paths if os.path.isdir(p)]


def _child_env(workdir: str) -> dict[str, str]:
    """Environment of an un-isolated child: the allowlist, ``HOME`` and ``TMPDIR`` in its own
    temporary directory (not the service's home) and this process's ``sys.path``."""
    env = _allowed_environ()
    env.update(HOME=workdir, TMPDIR=workdir, **_python_env(_host_sys_path()))
    return env


_ONE_THREAD = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _sandbox_env(python_path: list[str]) -> dict[str, str]:
    """Environment inside bubblewrap: the allowlist, HOME and TMPDIR on the private /tmp (the
    real home is not there), and numeric libraries without thread pools: numpy, imported with
    toolwire, would start threads before the tool runs, which the seccomp filter refuses."""
    env = _allowed_environ()
    env.update(PATH="/usr/local/bin:/usr/bin:/bin", HOME="/tmp", TMPDIR="/tmp",
               **_python_env(python_path))
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

    async def describe(self, module: str, timeout: float = 60.0) -> ExecutionResult:
        """The tools ``module`` declares, as JSON (``sandbox_child.describe_module``): the
        module is imported in a child, isolated and limited like any sandboxed call (and
        refused like one where the sandbox is unavailable), never in this process."""
        describer = Tool(name=f"the discovery of {module}", description="",
                         parameters={"type": "object"}, import_path=DESCRIBE, timeout=timeout,
                         sandbox=True)
        return await self._run(describer, {"module": module}, modules=(module,))

    async def _run(
        self, tool: Tool, arguments: dict[str, Any], modules: tuple[str, ...] = ()
    ) -> ExecutionResult:
        if tool.import_path is None:
            message = f"{tool.name} cannot run sandboxed: its handler has no import path"
            return ExecutionResult(status="error", error=error_info("not_sandboxable", message))
        isolated = await self._isolated(tool)
        if isinstance(isolated, ExecutionResult):
            return isolated
        with contextlib.ExitStack() as cleanup:
            start = (
                self._start_isolated(tool, modules) if isolated else self._start_plain(cleanup)
            )
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
            env=(
                {**os.environ, **_python_env(_host_sys_path())}
                if self.keep_environment
                else _child_env(workdir)
            ),
            start_new_session=True,
        )

    async def _start_isolated(
        self, tool: Tool, modules: tuple[str, ...] = ()
    ) -> asyncio.subprocess.Process:
        """``bwrap`` with the seccomp filter on a pipe; bubblewrap itself gets the allowlisted
        environment too, as the sandbox can read its ``/proc/1/environ``. ``modules``: more
        packages to bind (the module a discovery imports)."""
        python_path = sandbox_sys_path()
        env = _sandbox_env(python_path)
        filter_fd = seccomp_pipe(forbid_processes=self.limits.max_processes == 0)
        try:
            command = bwrap_command(
                bwrap=shutil.which(self.bwrap) or self.bwrap,
                python=self.python,
                limits=self.limits,
                binds=code_paths(tool, self.python, modules),
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


# -- the tools of untrusted modules: discovered in the sandbox, run there ----------------------
class _Described(BaseModel):
    """One tool as the child describes it (``sandbox_child.describe_module``): untrusted."""

    name: str
    description: str
    parameters: dict[str, Any]
    import_path: str
    coroutine: bool = False
    keywords: list[str] = Field(default_factory=list)
    timeout: float = Field(default=10.0, gt=0, allow_inf_nan=False)
    requires_approval: bool = False
    idempotent: bool = False
    takes_call_key: bool = False
    answer: str | None = None


def discover_tools(
    module: str, executor: SubprocessExecutor | None = None, *, timeout: float = 60.0
) -> list[Tool]:
    """The tools ``module`` declares with ``@toolwire.tool``, found by importing it in a
    sandboxed child (its top-level code never runs in this process), as proxies whose calls
    always go to the sandbox. Blocks; callable from an event loop's thread too.

    A proxy keeps what is data: name, description, schema, keywords, timeout, approval,
    idempotence, whether it takes a ``call_key`` and a ``str.format`` answer template. It drops what is code, as that would run in this process:
    a ``normalize`` function and an ``answer`` function.

    Raises:
        ToolError: the sandbox is unavailable (and ``TOOLWIRE_SANDBOX_MODE`` is not ``weak``),
            the import failed, or the description is not valid.
    """
    result = _blocking((executor or SubprocessExecutor()).describe(module, timeout))
    if result.status != "ok":
        message = (result.error or {}).get("message") or result.status
        raise ToolError(f"the tools of {module} cannot be discovered: {message}")
    try:
        described = TypeAdapter(list[_Described]).validate_python(result.result)
    except ValidationError as e:
        raise ToolError(f"{module} described its tools wrongly: {e}") from None
    return [_proxy(d, module) for d in described]


def _proxy(described: _Described, module: str) -> Tool:
    """A tool of ``module`` that is only ever run in the sandbox, by its import path."""
    if not within_module(described.import_path.partition(":")[0], module):
        raise ToolError(f"{described.name}: {described.import_path!r} is not in {module}")
    return Tool(
        name=described.name,
        description=described.description,
        parameters=described.parameters,
        handler=_sandbox_only_async if described.coroutine else _sandbox_only,
        keywords=tuple(described.keywords),
        timeout=described.timeout,
        sandbox=True,
        requires_approval=described.requires_approval,
        idempotent=described.idempotent,
        takes_call_key=described.takes_call_key,
        import_path=described.import_path,
        answer=check_answer(described.answer, described.parameters),
    )


def _sandbox_only(**arguments: Any) -> NoReturn:
    """The handler of a discovered tool: its code is not in this process, and never will be."""
    raise RuntimeError("a tool of TOOLWIRE_SANDBOX_MODULES runs only in the sandbox")


async def _sandbox_only_async(**arguments: Any) -> NoReturn:
    """``_sandbox_only`` for a coroutine tool (so its snippet awaits it)."""
    _sandbox_only()


def _blocking(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to its end from synchronous code, on a thread of its own: the
    registry is built at start-up, sometimes on an event loop's thread."""
    with ThreadPoolExecutor(1, thread_name_prefix="toolwire-discovery") as pool:
        return pool.submit(asyncio.run, coroutine).result()
