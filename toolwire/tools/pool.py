"""The tool threads: a bounded executor of its own for synchronous tool handlers.

Tools never run on the event loop's default thread pool (retrieval, the database and the
model client use that one), so a tool that hangs cannot starve them. Each call runs on a
thread of this pool (idle threads are reused, and retire after ``idle_s``), at most ``limit``
calls at a time; past that, calls wait (within their timeout) and ``/healthz`` reports the
pool as saturated.

A thread cannot be killed, so a call past its timeout is handled in three steps:

1. its thread is *abandoned*: the call answers ``timeout`` and its slot is freed at once, so
   the pool's capacity never shrinks;
2. ``ToolInterrupted`` is raised inside the thread (``PyThreadState_SetAsyncExc``), which stops
   Python code that spins;
3. a thread still alive ``grace`` seconds later ignored that (it is blocked in C code): the tool
   is marked *uncancellable*, and its later calls run in a process that can be killed
   (``toolwire.tools.dispatch`` decides how).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import queue
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
    """One call: its future, the thread running it, and how far it got."""

    def __init__(self, name: str, fn: Callable[[], Any], loop: asyncio.AbstractEventLoop,
                 future: asyncio.Future[Any]) -> None:
        self.name = name
        self.fn = fn
        self.loop = loop
        self.future = future
        self.thread: threading.Thread | None = None
        self.released = False
        """Its slot was given back (the call ended, or was abandoned)."""
        self.done = False
        """The handler returned or raised."""
        self.abandoned = False
        """The caller gave up on it: its thread retires once the handler ends."""


class ToolPool:
    """At most ``limit`` tool handlers at once, on threads of their own (reused while idle)."""

    def __init__(self, limit: int = 32, *, grace: float = 1.0, idle_s: float = 60.0) -> None:
        self.limit = limit
        self.grace = grace
        self.idle_s = idle_s
        self._lock = threading.Lock()
        self._active = 0
        self._idle = 0
        self._jobs: queue.SimpleQueue[_Slot] = queue.SimpleQueue()
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
        slot = _Slot(name, fn, loop, loop.create_future())
        self._hand_over(slot)
        try:
            async with asyncio.timeout_at(loop.time() + max(0.0, deadline - time.monotonic())):
                return await asyncio.shield(slot.future)
        except (TimeoutError, asyncio.CancelledError):
            self._abandon(slot)
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

    def _hand_over(self, slot: _Slot) -> None:
        """Queue the call for an idle thread, or start one when none is idle."""
        with self._lock:
            spawn = self._idle == 0
            if not spawn:
                self._idle -= 1  # reserved: that thread takes this call
        self._jobs.put(slot)
        if spawn:
            threading.Thread(target=self._worker, name="toolwire-tool", daemon=True).start()

    def _worker(self) -> None:
        try:
            while (slot := self._next()) is not None:
                if not self._run(slot):
                    return  # abandoned: the thread retires with its call
        except ToolInterrupted:  # an interruption that landed after the handler ended
            return

    def _next(self) -> _Slot | None:
        """The next call, or ``None`` when this thread idled past ``idle_s`` (it retires)."""
        while True:
            try:
                return self._jobs.get(timeout=self.idle_s)
            except queue.Empty:
                with self._lock:
                    if self._idle > 0:
                        self._idle -= 1
                        return None

    def _run(self, slot: _Slot) -> bool:
        """Run one call; whether this thread may serve another."""
        thread = threading.current_thread()
        thread.name = f"toolwire-tool-{slot.name}"
        slot.thread = thread
        try:
            outcome: tuple[bool, Any] = (True, slot.fn())
        except Exception as e:
            outcome = (False, e)
        except BaseException as e:  # ToolInterrupted: the call was given up
            outcome = (False, RuntimeError(f"the tool was stopped by {type(e).__name__}"))
        with self._lock:
            slot.done = True
            reusable = not slot.abandoned
            if reusable:
                self._idle += 1
        self._release(slot)
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            slot.loop.call_soon_threadsafe(_settle, slot.future, outcome)
        return reusable

    def _release(self, slot: _Slot) -> None:
        with self._lock:
            if not slot.released:
                slot.released = True
                self._active -= 1

    def _abandon(self, slot: _Slot) -> None:
        slot.future.cancel()  # a late result is dropped, not logged as never retrieved
        with self._lock:
            if slot.done or slot.thread is None:
                thread = None
            else:
                slot.abandoned, thread = True, slot.thread
                self._abandoned.add(thread)
                self._timeouts += 1
                _interrupt(thread)
        self._release(slot)
        if thread is not None:
            slot.loop.call_later(self.grace, self._check_stopped, slot.name, thread)

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
