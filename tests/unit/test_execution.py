"""dispatch and the in-process executor: refusals, coercion, failures, timeouts, approvals."""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import sys
import threading
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import pytest
from pydantic import AfterValidator, BaseModel

from toolwire import Registry
from toolwire.tools import Tool
from toolwire.tools.dispatch import (
    ExecutionResult,
    InProcessExecutor,
    coerce_arguments,
    dispatch,
    to_json_value,
)


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Point(BaseModel):
    x: int
    y: int


@dataclass
class Box:
    width: float
    label: str


def divide(a: float, b: float) -> float:
    """Divide a by b."""
    return a / b


@pytest.fixture
def registry() -> Registry:
    r = Registry()
    r.register(divide)
    return r


async def test_ok_result_and_duration(registry: Registry) -> None:
    result = await dispatch(registry, "divide", {"a": 1, "b": 4})
    assert result == ExecutionResult(status="ok", result=0.25, duration_ms=result.duration_ms)
    assert result.ok and result.duration_ms > 0


async def test_unknown_tool_is_refused(registry: Registry) -> None:
    result = await dispatch(registry, "rm_rf", {})
    assert result.status == "error"
    assert result.error is not None and result.error["type"] == "unknown_tool"
    assert "rm_rf" in result.error["message"]


async def test_invalid_arguments_are_not_executed(registry: Registry) -> None:
    result = await dispatch(registry, "divide", {"a": "one", "c": 2})
    assert result.status == "invalid"
    assert result.error is not None and result.error["type"] == "invalid_arguments"
    errors = result.error["errors"]
    assert any(e.startswith("a:") for e in errors)
    assert any("'b' is a required property" in e for e in errors)
    assert any("'c' was unexpected" in e for e in errors)


async def test_arguments_as_json_text(registry: Registry) -> None:
    assert (await dispatch(registry, "divide", '{"a": 9, "b": 3}')).result == 3.0
    bad = await dispatch(registry, "divide", '{"a": 9, ')
    assert bad.status == "invalid" and "not valid JSON" in bad.error["message"]  # type: ignore[index]


async def test_none_arguments_mean_no_arguments() -> None:
    r = Registry()

    @r.tool
    def ping() -> str:
        """Answer pong."""
        return "pong"

    assert (await dispatch(r, "ping", None)).result == "pong"


async def test_exception_is_captured_as_structured_error(registry: Registry) -> None:
    result = await dispatch(registry, "divide", {"a": 1, "b": 0})
    assert result.status == "error"
    assert result.error == {"type": "ZeroDivisionError", "message": "float division by zero"}


async def test_system_exit_in_a_handler_does_not_escape() -> None:
    r = Registry()

    @r.tool
    def quit_now() -> None:
        """Exit."""
        sys.exit(3)

    result = await dispatch(r, "quit_now", {})
    assert result.status == "error" and result.error is not None
    assert result.error == {"type": "HandlerExit", "message": "the tool called sys.exit(3)"}


async def test_slow_sync_handler_times_out() -> None:
    release = threading.Event()
    r = Registry()

    @r.tool(timeout=0.2)
    def wait_forever() -> str:
        """Block until released."""
        release.wait(10)
        return "late"

    try:
        result = await dispatch(r, "wait_forever", {})
    finally:
        release.set()
    assert result.status == "timeout"
    assert result.error == {
        "type": "timeout",
        "message": "wait_forever did not finish within 0.2 s",
    }
    assert result.duration_ms < 5000


async def test_slow_async_handler_is_cancelled_on_timeout() -> None:
    cancelled = asyncio.Event()
    r = Registry()

    @r.tool(timeout=0.1)
    async def sleepy() -> str:
        """Sleep long."""
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "late"

    result = await dispatch(r, "sleepy", {})
    assert result.status == "timeout"
    await asyncio.wait_for(cancelled.wait(), 5)


async def test_async_handler_is_awaited() -> None:
    r = Registry()

    @r.tool
    async def double(n: int) -> int:
        """Double n."""
        await asyncio.sleep(0)
        return 2 * n

    assert (await dispatch(r, "double", {"n": 21})).result == 42


async def test_approval_required_is_pending_until_approved() -> None:
    calls: list[str] = []
    r = Registry()

    @r.tool(requires_approval=True)
    def delete_file(path: str) -> str:
        """Delete a file."""
        calls.append(path)
        return f"deleted {path}"

    pending = await dispatch(r, "delete_file", {"path": "/tmp/x"})
    assert pending.status == "pending_approval" and calls == []
    invalid = await dispatch(r, "delete_file", {})
    assert invalid.status == "invalid" and calls == []
    done = await dispatch(r, "delete_file", {"path": "/tmp/x"}, approved=True)
    assert done.result == "deleted /tmp/x" and calls == ["/tmp/x"]


async def test_schema_only_tool_is_not_executable() -> None:
    r = Registry()
    r.add_schema({"name": "get_stock", "parameters": {"type": "object", "properties": {}}})
    result = await dispatch(r, "get_stock", {})
    assert result.status == "not_executable"
    assert result.error is not None and "schema-only" in result.error["message"]


async def test_json_values_become_annotated_types() -> None:
    seen: dict[str, Any] = {}
    r = Registry()

    @r.tool
    def paint(color: Color, at: Point, when: dt.date, mode: Literal["fill", "line"]) -> Box:
        """Paint."""
        seen.update(color=color, at=at, when=when, mode=mode)
        return Box(width=2.5, label=f"{color.value} at {at.x},{at.y}")

    args = {"color": "green", "at": {"x": 1, "y": 2}, "when": "2024-05-01", "mode": "line"}
    result = await dispatch(r, "paint", args)
    assert result.status == "ok", result.error
    assert seen == {
        "color": Color.GREEN,
        "at": Point(x=1, y=2),
        "when": dt.date(2024, 5, 1),
        "mode": "line",
    }
    assert result.result == {"width": 2.5, "label": "green at 1,2"}


def must_be_even(n: int) -> int:
    if n % 2:
        raise ValueError("must be even")
    return n


async def test_values_the_schema_cannot_check_are_invalid_not_errors() -> None:
    r = Registry()

    @r.tool
    def halve(n: Annotated[int, AfterValidator(must_be_even)]) -> int:
        """Halve an even number."""
        return n // 2

    result = await dispatch(r, "halve", {"n": 3})
    assert result.status == "invalid"
    assert result.error is not None and result.error["errors"] == ["n: Value error, must be even"]
    assert (await dispatch(r, "halve", {"n": 4})).result == 2


async def test_non_object_arguments_are_invalid() -> None:
    r = Registry([Tool(name="loose", description="", parameters={}, handler=lambda: 1)])
    result = await dispatch(r, "loose", [1, 2])
    assert result.status == "invalid"


async def test_given_executor_runs_non_sandboxed_tools(registry: Registry) -> None:
    class Recording(InProcessExecutor):
        def __init__(self) -> None:
            super().__init__()
            self.names: list[str] = []

        async def run(self, tool: Tool, arguments: dict[str, Any]) -> ExecutionResult:
            self.names.append(tool.name)
            return await super().run(tool, arguments)

    executor = Recording()
    sandbox = Recording()
    registry.register(divide, name="safe_divide", sandbox=True)
    await dispatch(
        registry, "divide", {"a": 1, "b": 2}, executor=executor, sandbox_executor=sandbox
    )
    await dispatch(
        registry, "safe_divide", {"a": 1, "b": 2}, executor=executor, sandbox_executor=sandbox
    )
    assert executor.names == ["divide"] and sandbox.names == ["safe_divide"]


def test_coerce_arguments_passes_unannotated_values_through() -> None:
    def f(a, b: int):  # type: ignore[no-untyped-def]
        return a, b

    assert coerce_arguments(f, {"a": "x", "b": "3"}) == {"a": "x", "b": 3}


def test_to_json_value_handles_rich_types() -> None:
    value = {"c": Color.RED, "p": Point(x=1, y=2), "d": dt.date(2024, 1, 2), "s": {1}}
    assert to_json_value(value) == {"c": "red", "p": {"x": 1, "y": 2}, "d": "2024-01-02", "s": [1]}
