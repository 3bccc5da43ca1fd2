"""The tool threads: a bounded executor of its own for synchronous tool handlers.

Tools never run on the event loop's default thread pool (retrieval, the database and the
model client use that one), so a tool that hangs cannot starve them. Each call gets a thread
of this pool, at most ``limit`` at a time; past that, calls wait (within their timeout) and
``/healthz`` reports the pool as saturated.

A thread cannot be killed, so a call past its timeout is handled in three steps:

1. its thread is *abandoned*: the call answers ``timeout`` and its slot is freed at once, so
   the pool's capacity never shrinks;
2. ``ToolInterrupted`` is raised inside the thread (``PyThreadState_SetAsyncExc``), which stops
   Python code that spins;
3. a thread still alive ``grace`` seconds later ignored that (it is blocked in C code): the tool
   is marked *uncancellable*, and its later calls run in a process that can be killed
   (``toolwire.execution`` decides how).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["PoolSaturated", "PoolStats", "ToolInterrupted", "ToolPool", "tool_pool"]


class ToolInterrupted(BaseException):
    """Raised inside a tool's thread when its call ran past the timeout.

    A ``BaseException``, so a tool's own ``except Exception`` does not swallow it.
    """


class PoolSaturated(TimeoutError):
    """No tool thread became free within the call's timeout."""


@dataclass(kw_only=True, frozen=True)
class PoolStats:
    """The pool as ``/healthz`` and ``/metrics`` show it."""

    limit: int
    active: int
    """Calls running now (abandoned ones excluded)."""
    abandoned: int
    """Threads of timed-out calls still running (they hold no slot)."""
    uncancellable: tuple[str, ...]
    """Tools that ignored an interruption: they now run in killable processes."""
    timeouts: int

    @property
    def saturated(self) -> bool:
        return self.active >= self.limit


class _Slot:
    """One call's thread and whether its slot was already given back."""

    def __init__(self, future: asyncio.Future[Any]) -> None:
        self.future = future
        self.thread: threading.Thread | None = None
        self.released = False


class ToolPool:
    """At most ``limit`` tool handlers at once, each in a thread of its own."""

    def __init__(self, limit: int = 32, *, grace: float = 1.0) -> None:
        self.limit = limit
        self.grace = grace
        self._lock = threading.Lock()
        self._active = 0
        self._abandoned: set[threading.Thread] = set()
        self._uncancellable: set[str] = set()
        self._timeouts = 0

    def stats(self) -> PoolStats:
        with self._lock:
            self._abandoned = {t for t in self._abandoned if t.is_alive()}
            return PoolStats(
                limit=self.limit,
                active=self._active,
                abandoned=len(self._abandoned),
                uncancellable=tuple(sorted(self._uncancellable)),
                timeouts=self._timeouts,
            )

    def uncancellable(self, name: str) -> bool:
        """Whether ``name`` once ignored an interruption (then it needs a killable process)."""
        return name in self._uncancellable

    async def call(self, name: str, fn: Callable[[], Any], timeout: float) -> Any:
        """``fn()`` (the call of tool ``name``) in a pool thread; ``TimeoutError`` past
        ``timeout`` seconds, ``PoolSaturated`` if no thread came free by then."""
        deadline = time.monotonic() + timeout
        await self._acquire(deadline)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        slot = _Slot(future)
        slot.thread = threading.Thread(
            target=self._work, args=(slot, fn, loop),
            name=f"toolwire-tool-{name}", daemon=True,
        )
        slot.thread.start()
        try:
            async with asyncio.timeout_at(loop.time() + max(0.0, deadline - time.monotonic())):
                return await asyncio.shield(future)
        except (TimeoutError, asyncio.CancelledError):
            self._abandon(name, slot, loop)
            raise

    async def _acquire(self, deadline: float) -> None:
        delay = 0.001
        while True:
            with self._lock:
                if self._active < self.limit:
                    self._active += 1
                    return
            if time.monotonic() >= deadline:
                raise PoolSaturated(f"all {self.limit} tool threads are busy")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)

    def _release(self, slot: _Slot) -> None:
        with self._lock:
            if not slot.released:
                slot.released = True
                self._active -= 1

    def _work(
        self,
        slot: _Slot,
        fn: Callable[[], Any],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        try:
            outcome: tuple[bool, Any] = (True, fn())
        except Exception as e:
            outcome = (False, e)
        except BaseException as e:  # ToolInterrupted too: the thread must end quietly
            outcome = (False, RuntimeError(f"the tool was stopped by {type(e).__name__}"))
        finally:
            self._release(slot)
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            loop.call_soon_threadsafe(_settle, slot.future, outcome)

    def _abandon(self, name: str, slot: _Slot, loop: asyncio.AbstractEventLoop) -> None:
        thread = slot.thread
        assert thread is not None
        slot.future.cancel()  # a late result is dropped, not logged as never retrieved
        self._release(slot)
        if not thread.is_alive():
            return
        with self._lock:
            self._abandoned.add(thread)
            self._timeouts += 1
        _interrupt(thread)
        loop.call_later(self.grace, self._check_stopped, name, thread)

    def _check_stopped(self, name: str, thread: threading.Thread) -> None:
        if thread.is_alive():
            with self._lock:
                self._uncancellable.add(name)


def _settle(future: asyncio.Future[Any], outcome: tuple[bool, Any]) -> None:
    if future.done():
        return
    ok, value = outcome
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


def _interrupt(thread: threading.Thread) -> None:
    """Raise ``ToolInterrupted`` in ``thread`` at its next Python instruction."""
    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(thread.ident), ctypes.py_object(ToolInterrupted)
        )


_POOL: ToolPool | None = None
_POOL_LOCK = threading.Lock()


def tool_pool() -> ToolPool:
    """The process's tool pool (its size from ``TOOLWIRE_TOOL_THREADS``)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            from toolwire.config import get_settings

            _POOL = ToolPool(get_settings().tool_threads)
        return _POOL
