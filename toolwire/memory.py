"""glibc malloc settings for toolwire's long-running processes: the API, workers, the model.

Two of glibc's defaults made ``toolwire serve`` keep about 100 MB it no longer used
(``bench/serve_rss.py``, issue 24; 4 clients, everyday sentences):

- **The sliding mmap threshold.** An allocation above ``M_MMAP_THRESHOLD`` (128 KiB at start)
  gets its own ``mmap`` and goes back to the system when freed. But each such free *raises* the
  threshold to the freed block's size (up to 32 MiB): after ONNX Runtime's session set-up
  freed its multi-megabyte buffers, the embedder's later buffers of those sizes came from the
  heap instead, and a heap gives memory back only from its top. Measured on the MiniLM
  session alone: 148 MB resident after loading, 89 MB with the threshold fixed, and a batch of
  tool documents then added 31 MB that stayed, against 1 MB. Setting the threshold explicitly
  turns the sliding off (``mallopt(3)``); 128 KiB is glibc's own starting value.
- **An arena per thread.** glibc gives threads their own arenas (up to 8 × cores) so they do
  not contend, and each arena keeps its freed memory. The API runs the pipeline in worker
  threads (anyio's pool, the tool pool, ONNX Runtime's): two arenas on this 2-core machine
  kept 20 MB less than the default. Two, not one, so two threads can still allocate at once.

- **Freed memory kept inside the heaps.** glibc returns a heap's memory to the system only
  from its top; pages freed below a live block stay resident. In the API they added up to
  about 40 MB over 7 minutes of load while live memory stayed flat (``malloc_trim`` gave it
  all back). :func:`tune_malloc` starts a daemon thread that calls ``malloc_trim(0)`` every
  :data:`TRIM_SECONDS` (it took 0.15 ms at ~300 MB), and again in each process forked from
  this one (Celery's pool), since a fork keeps only the thread that forked.

glibc reads its ``MALLOC_*_`` variables once, when a process starts. So :func:`tune_malloc`
sets the same values in the running process with ``mallopt`` and exports the variables, so
that the processes it starts (the model process, Celery's pool, tool subprocesses) begin
with them. A setting the operator already made (``MALLOC_ARENA_MAX``, ``GLIBC_TUNABLES``'s
``glibc.malloc.*``) is left as it is; ``TOOLWIRE_MALLOC_TUNING=false`` leaves glibc's defaults
alone. Elsewhere than glibc (musl, macOS) nothing is done.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass

__all__ = ["MALLOC_SETTINGS", "TRIM_SECONDS", "MallocSetting", "Trimmer", "tune_malloc"]

TRIM_SECONDS = 10.0
"""How often the freed memory of the heaps is given back to the system."""


@dataclass(frozen=True, kw_only=True)
class MallocSetting:
    """One glibc malloc parameter, as ``mallopt`` and the environment name it."""

    variable: str
    """The environment variable glibc reads at start (``MALLOC_ARENA_MAX``)."""
    tunable: str
    """Its name in ``GLIBC_TUNABLES`` (``glibc.malloc.arena_max``)."""
    param: int
    """The ``mallopt`` parameter (``M_ARENA_MAX``, from ``<malloc.h>``)."""
    value: int


MALLOC_SETTINGS: tuple[MallocSetting, ...] = (
    MallocSetting(variable="MALLOC_ARENA_MAX", tunable="glibc.malloc.arena_max",
                  param=-8, value=2),  # M_ARENA_MAX
    MallocSetting(variable="MALLOC_MMAP_THRESHOLD_", tunable="glibc.malloc.mmap_threshold",
                  param=-3, value=128 * 1024),  # M_MMAP_THRESHOLD
)
"""What :func:`tune_malloc` sets, and why: this module's docstring."""


def tune_malloc(
    *,
    enabled: bool = True,
    environ: MutableMapping[str, str] | None = None,
    trim_seconds: float | None = TRIM_SECONDS,
) -> dict[str, int]:
    """Apply :data:`MALLOC_SETTINGS` to this process and export them to its children, and
    give freed heap memory back every ``trim_seconds`` (``None``: never) in this process and
    the processes forked from it.

    Call it once, first thing in a process's entry point (``toolwire serve``, ``toolwire
    worker``), never from library code: it changes the whole process. Early, because glibc
    fixes its arena limit when a second thread first allocates. Returns the settings applied
    here (empty when ``enabled`` is false, off glibc, or all set by the operator).
    """
    environ = os.environ if environ is None else environ
    if not enabled or not _is_glibc():
        return {}
    if trim_seconds is not None:
        Trimmer.start_here_and_after_fork(trim_seconds)
    mallopt = _mallopt()
    applied: dict[str, int] = {}
    for setting in MALLOC_SETTINGS:
        if _operator_set(setting, environ):
            continue
        if mallopt is not None and mallopt(setting.param, setting.value) != 1:
            continue  # refused (a value out of range): leave glibc's own
        environ[setting.variable] = str(setting.value)
        applied[setting.variable] = setting.value
    return applied


def _operator_set(setting: MallocSetting, environ: MutableMapping[str, str]) -> bool:
    """Whether the environment already sets this parameter (glibc applied it at start)."""
    tunables = environ.get("GLIBC_TUNABLES", "")  # name=value pairs joined by ":"
    named = {part.split("=", 1)[0] for part in tunables.split(":")}
    return setting.variable in environ or setting.tunable in named


def _is_glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") is not None
    except (AttributeError, ValueError, OSError):  # not a POSIX confstr, or not glibc
        return False


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``int malloc_trim(size_t pad)``, or ``None`` where it cannot be found."""
    try:
        function = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    function.argtypes = (ctypes.c_size_t,)
    function.restype = ctypes.c_int
    found: Callable[[int], int] = function
    return found


def _mallopt() -> Callable[[int, int], int] | None:
    """glibc's ``int mallopt(int param, int value)``, or ``None`` where it cannot be found."""
    try:
        function = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return None
    function.argtypes = (ctypes.c_int, ctypes.c_int)
    function.restype = ctypes.c_int
    found: Callable[[int, int], int] = function
    return found


class Trimmer:
    """A daemon thread that calls glibc's ``malloc_trim(0)`` every ``seconds``.

    ``malloc_trim`` walks every arena and returns each whole free page to the system (glibc
    ≥ 2.8 does this inside the heaps too, not only at their top); it frees nothing in use.
    """

    _running: Trimmer | None = None
    _fork_hook = False
    _lock = threading.Lock()

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.trims = 0
        """``malloc_trim`` calls made so far."""
        self._trim = _malloc_trim()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="toolwire-malloc-trim", daemon=True)

    @classmethod
    def start_here_and_after_fork(cls, seconds: float) -> Trimmer | None:
        """The process's trimmer, started once (``None`` without ``malloc_trim``); a process
        forked from this one starts its own."""
        with cls._lock:
            if cls._running is None or not cls._running._thread.is_alive():
                trimmer = cls(seconds)
                if trimmer._trim is None:
                    return None
                trimmer._thread.start()
                cls._running = trimmer
            if not cls._fork_hook and hasattr(os, "register_at_fork"):
                os.register_at_fork(after_in_child=lambda: cls._after_fork(seconds))
                cls._fork_hook = True
            return cls._running

    @classmethod
    def _after_fork(cls, seconds: float) -> None:
        cls._lock = threading.Lock()  # the parent's may have been held by another thread
        cls._running = None  # its thread did not come along
        cls.start_here_and_after_fork(seconds)

    def stop(self) -> None:
        """End the thread (it finishes a trim in progress first)."""
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.seconds):
            assert self._trim is not None
            self._trim(0)
            self.trims += 1
