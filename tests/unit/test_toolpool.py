"""Tool timeouts that hold: the tool pool, interruption, and killable processes for tools that
ignore it. Real threads and processes; no timing assertions (ordering and states instead)."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import pytest

from toolwire import Registry
from toolwire.tools.dispatch import InProcessExecutor, dispatch
from toolwire.tools.pool import ToolPool

RELEASE = threading.Event()
"""Set at the end of a test to let blocked tool threads go."""


def spin(n: int) -> int:
    """Spin forever in Python code.

    Args:
        n: ignored
    """
    while True:
        n += 1


def stubborn(hang: bool) -> list[object]:
    """Block in C code when asked (immune to interruption); else say which process ran it and
    what it sees of the environment.

    Args:
        hang: whether to block
    """
    if hang:
        threading.Event().wait()
    return [os.getpid(), os.environ.get("TOOLPOOL_TEST_API_KEY")]


def blocked(seconds: float) -> str:
    """Block until the test lets go.

    Args:
        seconds: ignored
    """
    RELEASE.wait()
    return "released"


def quick(x: int) -> int:
    """Double a number.

    Args:
        x: the number
    """
    return 2 * x


@pytest.fixture
def pool() -> ToolPool:
    RELEASE.clear()
    yield ToolPool(limit=4, grace=0.2)
    RELEASE.set()


def _registry(timeout: float) -> Registry:
    registry = Registry()
    for fn in (spin, stubborn, blocked, quick):
        registry.register(fn, timeout=timeout)
    return registry


async def test_a_spinning_tool_is_stopped_not_left_running(pool: ToolPool) -> None:
    executor = InProcessExecutor(pool=pool)
    result = await dispatch(_registry(0.2), "spin", {"n": 0}, executor=executor)
    assert result.status == "timeout"
    for _ in range(100):  # the interrupted thread ends shortly after
        if pool.stats().abandoned == 0:
            break
        await asyncio.sleep(0.02)
    stats = pool.stats()
    assert stats.abandoned == 0 and stats.active == 0 and stats.timeouts == 1
    assert not pool.uncancellable("spin")


async def test_hung_tools_never_take_the_capacity_of_others(pool: ToolPool) -> None:
    """Calls that hang past their timeout give their slot back although their threads stay
    blocked: a full pool's worth of them, then a full pool's worth of normal calls, all run."""
    registry, executor = _registry(0.3), InProcessExecutor(pool=pool)
    hung = await asyncio.gather(*(
        dispatch(registry, "blocked", {"seconds": 1}, executor=executor)
        for _ in range(pool.limit)
    ))
    assert {r.status for r in hung} == {"timeout"}
    stats = pool.stats()
    assert stats.abandoned == pool.limit and stats.active == 0 and not stats.saturated
    normal = await asyncio.gather(*(
        dispatch(registry, "quick", {"x": i}, executor=executor) for i in range(pool.limit)
    ))
    assert [r.result for r in normal] == [2 * i for i in range(pool.limit)]


async def test_a_normal_call_is_served_beside_hung_ones(pool: ToolPool) -> None:
    registry, executor = _registry(1.5), InProcessExecutor(pool=pool)
    hung = [asyncio.create_task(dispatch(registry, "blocked", {"seconds": 1}, executor=executor))
            for _ in range(pool.limit - 1)]
    await asyncio.sleep(0.05)
    normal = await dispatch(registry, "quick", {"x": 21}, executor=executor)
    assert normal.status == "ok" and normal.result == 42
    assert not any(task.done() for task in hung)  # it did not wait them out
    assert {r.status for r in await asyncio.gather(*hung)} == {"timeout"}


async def test_a_tool_that_ignores_interruption_runs_in_a_killable_process(
    pool: ToolPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOOLPOOL_TEST_API_KEY", "an ordinary tool keeps its environment")
    registry, executor = _registry(0.5), InProcessExecutor(pool=pool)
    first = await dispatch(registry, "stubborn", {"hang": True}, executor=executor)
    assert first.status == "timeout"
    await asyncio.sleep(pool.grace + 0.1)
    assert pool.uncancellable("stubborn")
    elsewhere = await dispatch(registry, "stubborn", {"hang": False}, executor=executor)
    assert elsewhere.status == "ok" and elsewhere.result[0] != os.getpid()
    assert elsewhere.result[1] == "an ordinary tool keeps its environment"
    started = time.monotonic()
    killed = await dispatch(registry, "stubborn", {"hang": True}, executor=executor)
    assert killed.status == "timeout"
    assert time.monotonic() - started < 30  # killed, not waited for forever


async def test_an_uncancellable_closure_is_refused_with_the_reason(pool: ToolPool) -> None:
    registry = Registry()

    def local_hang(hang: bool) -> bool:
        """Hang when asked.

        Args:
            hang: whether to block
        """
        if hang:
            threading.Event().wait()
        return True

    registry.register(local_hang, timeout=0.3)
    executor = InProcessExecutor(pool=pool)
    assert (await dispatch(registry, "local_hang", {"hang": True}, executor=executor)).status == "timeout"
    await asyncio.sleep(pool.grace + 0.1)
    refused = await dispatch(registry, "local_hang", {"hang": False}, executor=executor)
    assert refused.status == "error" and refused.error is not None
    assert refused.error["type"] == "uncancellable" and "module-level" in refused.error["message"]


async def test_a_call_that_finds_no_free_thread_times_out_clearly(pool: ToolPool) -> None:
    """The only thread is held past the whole of the waiting call's timeout: it must end as
    ``pool_saturated`` (it never started), however slowly the machine runs."""
    small = ToolPool(limit=1, grace=0.2)
    registry, executor = Registry(), InProcessExecutor(pool=small)
    registry.register(blocked, timeout=5.0)
    registry.register(quick, timeout=0.3)
    hung = asyncio.create_task(dispatch(registry, "blocked", {"seconds": 0}, executor=executor))
    while small.stats().active == 0:  # the blocked call holds the thread
        await asyncio.sleep(0.005)
    waiting = await dispatch(registry, "quick", {"x": 1}, executor=executor)
    RELEASE.set()
    assert waiting.status == "timeout" and waiting.error is not None
    assert waiting.error["type"] == "pool_saturated", waiting.error
    assert (await hung).status == "ok"


def test_tools_never_use_the_default_executor(pool: ToolPool) -> None:
    names: list[str] = []

    def where(x: int) -> int:
        """Record the thread.

        Args:
            x: ignored
        """
        names.append(threading.current_thread().name)
        return x

    registry = Registry()
    registry.register(where)
    asyncio.run(dispatch(registry, "where", {"x": 1}, executor=InProcessExecutor(pool=pool)))
    assert names and names[0].startswith("toolwire-tool-where")
