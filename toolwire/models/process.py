"""A model served from a supervised child process, the way Ollama runs llama.cpp in a runner.

    model = ModelProcess("toolwire.models.llama:LlamaModel", {"path": "smollm2-135m"},
                         name="local:smollm2-135m", timeout=60)
    completion = await model.complete(messages, constraint=...)   # one round trip

Native code can crash (SIGSEGV, abort, the OOM killer): in the child that costs the request in
flight, never the service. The parent side:

- starts the child on first use (``load()`` starts it eagerly) and waits for it to load;
- sends each ``complete()`` as one request over a socket pair (pickled frames), answered by one
  reply, so the staged strategy's scoring runs inside the child;
- gives every request a deadline: past it the child is killed and a ``ModelError`` says so;
- turns a child's death into ``ModelError("local", "model process crashed (SIGSEGV)")`` for
  the request in flight, and starts a fresh child for the next one;
- kills the child when a request is cancelled mid-flight (its state is unknown then).

Requests are served one at a time by one dedicated thread, never the shared default pool.
The child exits by itself when the parent goes away (its socket reaches end-of-file).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Literal

from toolwire.messages import Completion, Constraint, Message, ModelSettings, ToolSpec
from toolwire.models.base import (
    DEFAULT_CONTEXT_TOKENS,
    Capabilities,
    Model,
    ModelError,
    ModelHealth,
    TextSink,
)

ProcessState = Literal["not_started", "starting", "ready", "crashed", "failed", "stopped"]

_LIVE: weakref.WeakSet[ModelProcess] = weakref.WeakSet()


@dataclass(kw_only=True)
class ProcessHealth(ModelHealth):
    """What ``/healthz`` shows of a model process."""

    state: ProcessState
    kind: str = "model process"
    pid: int | None = None
    restarts: int = 0
    """Children started after the first one (crashes, timeouts, cancellations)."""
    last_error: str | None = None
    info: dict[str, Any] = field(default_factory=dict)
    """What the child reported when it loaded (e.g. llama.cpp's system info)."""


class ModelProcess(Model):
    """A ``Model`` whose ``complete`` runs in a supervised child process.

    It streams text (the child sends each piece as its model makes it; a model there that
    cannot stream sends one piece) and enforces its own deadline (the child is killed past it).
    """

    def __init__(
        self,
        factory: str,
        kwargs: dict[str, Any] | None = None,
        *,
        name: str,
        timeout: float = 60.0,
        start_timeout: float = 120.0,
        supports_tools: bool = False,
        supports_grammar: bool = True,
        supports_parallel: bool = False,
        provider: str = "local",
    ) -> None:
        """``factory`` is ``module:attr``, called in the child with ``kwargs`` (JSON values)."""
        self.name = name
        window = (kwargs or {}).get("n_ctx")  # the child's context window, where it takes one
        self.capabilities = Capabilities(
            tools=supports_tools, grammar=supports_grammar, parallel=supports_parallel,
            streams_text=True, enforces_timeout=True,
            context_tokens=window if isinstance(window, int) else DEFAULT_CONTEXT_TOKENS,
        )
        self.timeout = timeout
        self.start_timeout = start_timeout
        self._factory = factory
        self._kwargs = json.dumps(kwargs or {})
        self._provider = provider
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="toolwire-model")
        self._proc: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._lock = threading.Lock()  # guards _proc/_conn between the thread and kill()
        self._health = ProcessHealth(state="not_started")
        self._started = 0
        _LIVE.add(self)

    # -- the Model contract ---------------------------------------------------------------
    async def complete(
        self,
        messages: list[Message],
        *,
        tools: list[ToolSpec] | None = None,
        constraint: Constraint | None = None,
        settings: ModelSettings | None = None,
    ) -> Completion:
        request = ("complete", messages, tools, constraint, settings or ModelSettings())
        reply = await self._submit(request)
        assert isinstance(reply, Completion)
        return reply

    async def stream_complete(
        self, messages: list[Message], *, settings: ModelSettings, on_text: TextSink
    ) -> Completion:
        """A plain answer, each piece of text handed to ``on_text`` as the child sends it."""
        loop = asyncio.get_running_loop()

        def relay(text: str) -> None:
            loop.call_soon_threadsafe(on_text, text)

        reply = await self._submit(("stream", messages, None, None, settings), relay)
        assert isinstance(reply, Completion)
        return reply

    # -- lifecycle ------------------------------------------------------------------------
    def load(self) -> None:
        """Start the child and wait until its model is loaded (blocking)."""
        self._thread.submit(self._ensure_started).result()

    @property
    def loaded(self) -> bool:
        return self._health.state == "ready"

    def health(self) -> ProcessHealth:
        """The child's state, pid, restarts, last error and what it reported when it loaded."""
        return self._health

    def runtime_info(self) -> dict[str, Any]:
        """What the child reported when it loaded (empty until it has)."""
        return self._health.info

    def close(self) -> None:
        """Stop the child (it is restarted if the model is used again)."""
        self._kill()
        self._health.state = "stopped"

    # -- parent side ----------------------------------------------------------------------
    async def _submit(
        self, request: tuple[Any, ...], on_chunk: Callable[[str], None] | None = None
    ) -> Any:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._thread, self._request, request, on_chunk)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            if not future.done():
                self._kill()  # the child is busy with an answer no one will read
                self._health.last_error = "a request was cancelled mid-flight"
            raise

    def _request(
        self, request: tuple[Any, ...], on_chunk: Callable[[str], None] | None = None
    ) -> Any:
        """Send one request and wait for its reply (relaying streamed chunks on the way),
        all within the deadline."""
        conn = self._ensure_started()
        deadline = time.monotonic() + self.timeout
        try:
            conn.send(request)
            while True:
                if not conn.poll(max(0.0, deadline - time.monotonic())):
                    self._kill()
                    self._fail("crashed", f"the model did not answer within {self.timeout:g} s")
                reply = conn.recv()
                if reply[0] != "chunk":
                    break
                if on_chunk is not None:
                    on_chunk(reply[1])
        except (EOFError, OSError):
            self._fail("crashed", self._death_reason())
        return self._unwrap(reply)

    def _unwrap(self, reply: tuple[Any, ...]) -> Any:
        if reply[0] == "ok":
            return reply[1]
        _, provider, message, status = reply
        raise ModelError(provider, message, status=status)

    def _fail(self, state: ProcessState, message: str) -> None:
        self._health.state = state
        self._health.last_error = message
        self._drop()
        raise ModelError(self._provider, message)

    def _ensure_started(self) -> Connection:
        if self._conn is not None and self._proc is not None and self._proc.poll() is None:
            return self._conn
        self._drop()
        self._health.state = "starting"
        parent, child = socket.socketpair()
        with parent, child:
            proc = subprocess.Popen(
                [sys.executable, "-m", "toolwire.models.runner", str(child.fileno()),
                 self._factory, self._kwargs],
                pass_fds=(child.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=sys.stderr.fileno() if _has_fileno(sys.stderr) else subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl-C in the terminal reaches the parent only
            )
            conn = Connection(os.dup(parent.fileno()))
        with self._lock:
            self._proc, self._conn = proc, conn
        self._started += 1
        self._health.restarts = max(0, self._started - 1)
        self._health.pid = proc.pid
        try:
            if not conn.poll(self.start_timeout):
                self._kill()
                self._fail("failed", f"the model process did not load within {self.start_timeout:g} s")
            ready = conn.recv()
        except (EOFError, OSError):
            self._fail("failed", "the model process exited while loading: " + self._death_reason())
        if ready[0] != "ready":
            self._kill()
            self._fail("failed", f"cannot load the model: {ready[2]}")
        self._health.state, self._health.info = "ready", ready[1]
        return conn

    def _death_reason(self) -> str:
        proc = self._proc
        code = None
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = proc.wait(timeout=5)
        return describe_exit(code)

    def _drop(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _kill(self) -> None:
        with self._lock:
            proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)


def describe_exit(code: int | None) -> str:
    """A child's end in words: ``model process crashed (SIGSEGV)``."""
    if code is None:
        return "model process stopped answering"
    if code < 0:
        name = _signal_name(-code)
        if -code == signal.SIGKILL:
            return f"model process was killed ({name}; out of memory, or a timeout)"
        return f"model process crashed ({name})"
    return f"model process exited with status {code}"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _has_fileno(stream: Any) -> bool:
    try:
        stream.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    return True


@atexit.register
def _kill_children() -> None:
    for model in list(_LIVE):
        model._kill()

