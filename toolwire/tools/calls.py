"""What a tool call is at the execution seam: arguments in, result out.

``coerce_arguments`` turns JSON arguments into the handler's annotated types (enums,
``Literal``, nested models, dates) with pydantic, one ``TypeAdapter`` per parameter; no text
is ever evaluated. Executors answer with an ``ExecutionResult``, never an exception for a
failing tool: a status and a structured ``error`` (``{"type": ..., "message": ...}``).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, Protocol, get_type_hints

from pydantic import TypeAdapter, ValidationError
from pydantic_core import to_jsonable_python

from toolwire.run import ExecutionResult
from toolwire.tools.registry import Tool

__all__ = [
    "ArgumentError",
    "ExecutionResult",
    "Executor",
    "ToolFailure",
    "coerce_arguments",
    "error_info",
    "exception_info",
    "invalid_result",
    "not_executable",
    "timeout_result",
    "to_json_value",
]


class Executor(Protocol):
    """Runs a validated call of an executable tool; never raises for a failing tool."""

    async def run(self, tool: Tool, arguments: dict[str, Any]) -> ExecutionResult: ...


class ArgumentError(ValueError):
    """JSON arguments that do not convert to the handler's annotated types."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def error_info(kind: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "message": message, **extra}


class ToolFailure(Exception):
    """A failure a handler reports with structure: its ``kind`` is the error's ``type`` and
    its keyword details (an HTTP status, a response body) travel with the message."""

    kind = "tool_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.details = details


def exception_info(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, ToolFailure):
        return error_info(exc.kind, str(exc), **to_json_value(exc.details))
    return error_info(type(exc).__name__, str(exc) or type(exc).__name__)


def invalid_result(errors: list[str]) -> ExecutionResult:
    message = "invalid arguments: " + "; ".join(errors)
    return ExecutionResult(
        status="invalid", error=error_info("invalid_arguments", message, errors=errors)
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


def timeout_result(tool: Tool) -> ExecutionResult:
    message = f"{tool.name} did not finish within {tool.timeout:g} s"
    return ExecutionResult(status="timeout", error=error_info("timeout", message))


def not_executable(tool: Tool) -> ExecutionResult:
    message = f"{tool.name} is a schema-only tool: toolwire has no handler to run it"
    return ExecutionResult(status="not_executable", error=error_info("not_executable", message))
