"""Execution: the one seam every tool call goes through.

    result = await dispatch(registry, "convert_currency", {"amount": 42, "from_currency": "USD",
                                                           "to_currency": "CAD"})

``dispatch`` checks, in order, that the tool exists, that the arguments validate against its
JSON Schema, that it has a handler and that it needs no pending approval; then an ``Executor``
runs it:

- ``InProcessExecutor`` (the default): async handlers awaited on the loop and cancelled after
  ``tool.timeout`` seconds; sync ones in a thread of the tool pool (``toolwire.tools.pool``, never
  the default executor), interrupted after the timeout. A tool that ignored an interruption
  runs from then on in a process that is killed at its timeout.
- ``SubprocessExecutor`` (tools with ``sandbox=True``, ``sandbox.py``): the handler, imported
  by ``tool.import_path``, in a fresh Python process with memory, CPU, process and file-size
  limits and no network, killed on timeout. Arguments and result travel as JSON.

Executors never raise for a failing tool: failures come back as an ``ExecutionResult`` with a
status and a structured ``error`` (``{"type": ..., "message": ...}``). Other executors (a Celery
worker, a remote sandbox) plug in by implementing ``Executor.run``.

What a call is (``ExecutionResult``, ``Executor``, ``coerce_arguments``) lives in ``calls.py``.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from toolwire.tools.calls import (
    ArgumentError,
    ExecutionResult,
    Executor,
    coerce_arguments,
    error_info,
    exception_info,
    invalid_result,
    not_executable,
    timeout_result,
    to_json_value,
)
from toolwire.tools.pool import PoolSaturated, ToolPool, tool_pool
from toolwire.tools.registry import Registry, Tool
from toolwire.tools.sandbox import SandboxLimits, SubprocessExecutor

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
    """The handler's value within ``tool.timeout`` seconds in all. A sync handler's wait for a
    thread and its run are timed by the pool alone, so a call that found no free thread ends
    as :class:`PoolSaturated`, never as a plain timeout racing it."""
    handler = tool.handler
    assert handler is not None
    deadline = asyncio.get_running_loop().time() + tool.timeout
    try:
        if inspect.iscoroutinefunction(handler):
            async with asyncio.timeout_at(deadline):
                return await handler(**kwargs)
        value = await pool.call(tool.name, partial(_no_exit, handler, kwargs), tool.timeout)
        if inspect.isawaitable(value):  # a sync callable that hands back a coroutine
            async with asyncio.timeout_at(deadline):
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
            return not_executable(tool)
        if self.pool.uncancellable(tool.name):
            return await self._run_killable(tool, arguments)
        try:
            kwargs = coerce_arguments(tool.handler, arguments)
        except ArgumentError as e:
            return invalid_result(e.errors)
        try:
            value = await _call(tool, kwargs, self.pool)
        except PoolSaturated as e:
            message = f"{tool.name} could not start within {tool.timeout:g} s: {e}"
            return ExecutionResult(status="timeout", error=error_info("pool_saturated", message))
        except TimeoutError:
            return timeout_result(tool)
        except Exception as e:
            return ExecutionResult(status="error", error=exception_info(e))
        return ExecutionResult(status="ok", result=to_json_value(value))

    async def _run_killable(self, tool: Tool, arguments: dict[str, Any]) -> ExecutionResult:
        if tool.import_path is None:
            message = (
                f"{tool.name} ignored its last timeout and cannot be stopped in a thread; "
                "register it as a module-level function so it runs in a killable process"
            )
            return ExecutionResult(status="error", error=error_info("uncancellable", message))
        return await (self._killable or _KILLABLE).run(tool, arguments)


# -- the seam -------------------------------------------------------------------------------
_IN_PROCESS = InProcessExecutor()
_SANDBOX = SubprocessExecutor()
"""Tools with ``sandbox=True``: under bubblewrap, or refused where it cannot run (unless
``TOOLWIRE_SANDBOX_MODE=weak``)."""
_KILLABLE = SubprocessExecutor(
    SandboxLimits(memory_mb=4096, max_processes=None, file_size_mb=1024, open_files=1024,
                  network=True),
    keep_environment=True,
    isolation=False,
)
"""Where a tool that ignored an interruption runs: a process killed at the timeout, with the
limits of an ordinary tool (network, environment and subprocesses allowed), not the sandbox's;
never under bubblewrap, so it needs none."""


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
        return invalid_result(errors)
    if not tool.executable:
        return not_executable(tool)
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
    call_key: str = "",
) -> ExecutionResult:
    """Run the registered tool ``name`` with ``arguments`` (a dict, or a JSON object string).

    Never raises for a bad call: unknown tools, invalid arguments, schema-only tools, calls
    awaiting approval, failures and timeouts all come back as an ``ExecutionResult``. Sandboxed
    tools run in ``sandbox_executor`` (default: a ``SubprocessExecutor``), the others in
    ``executor`` (default: an ``InProcessExecutor``). A handler with a ``call_key`` parameter
    gets ``call_key`` there (the call's idempotency key; a fresh one when empty).
    """
    started = time.perf_counter()
    if name not in registry:
        message = f"no tool named {name!r} is registered"
        result = ExecutionResult(status="error", error=error_info("unknown_tool", message))
    else:
        tool = registry.get(name)
        try:
            parsed = tool.normalized(_parse_arguments(arguments))
        except ValueError as e:
            result = invalid_result([f"(arguments): not valid JSON: {e}"])
        else:
            result = _refusal(tool, parsed, approved) or await (
                (sandbox_executor or _SANDBOX) if tool.sandbox else (executor or _IN_PROCESS)
            ).run(tool, tool.handler_arguments(parsed, call_key))
    if not result.duration_ms:
        result.duration_ms = (time.perf_counter() - started) * 1000
    return result
