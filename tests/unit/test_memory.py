"""``toolwire.memory``: glibc malloc settings for the long-running processes (issue 24).

What they save is a figure of ``bench/serve_rss.py``; here, that they are applied, exported to
child processes, left alone where the operator set them, and that glibc really stops sliding
its mmap threshold (in a child process, so this one keeps its own allocator settings).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from toolwire import memory
from toolwire.memory import MALLOC_SETTINGS, Trimmer, tune_malloc

ROOT = Path(__file__).resolve().parents[2]
GLIBC = memory._is_glibc()


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """``mallopt`` recorded instead of called (it would change this test process)."""
    made: list[tuple[int, int]] = []

    def mallopt(param: int, value: int) -> int:
        made.append((param, value))
        return 1

    monkeypatch.setattr(memory, "_is_glibc", lambda: True)
    monkeypatch.setattr(memory, "_mallopt", lambda: mallopt)
    monkeypatch.setattr(memory.Trimmer, "start_here_and_after_fork",
                        classmethod(lambda cls, seconds: made.append((0, int(seconds)))))
    return made


def test_each_setting_is_applied_here_and_exported_to_children(
    calls: list[tuple[int, int]],
) -> None:
    environ: dict[str, str] = {}
    applied = tune_malloc(environ=environ, trim_seconds=None)
    assert calls == [(s.param, s.value) for s in MALLOC_SETTINGS]
    assert applied == {s.variable: s.value for s in MALLOC_SETTINGS}
    assert environ == {s.variable: str(s.value) for s in MALLOC_SETTINGS}
    assert {"MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_"} <= set(environ)


def test_what_the_operator_set_is_left_alone(calls: list[tuple[int, int]]) -> None:
    environ = {"MALLOC_ARENA_MAX": "4", "GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=65536"}
    assert tune_malloc(environ=environ, trim_seconds=None) == {}
    assert calls == []
    assert environ == {"MALLOC_ARENA_MAX": "4",
                       "GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=65536"}


def test_off_does_nothing(calls: list[tuple[int, int]]) -> None:
    environ: dict[str, str] = {}
    assert tune_malloc(enabled=False, environ=environ) == {}
    assert calls == [] and environ == {}


def test_a_value_glibc_refuses_is_not_exported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "_is_glibc", lambda: True)
    monkeypatch.setattr(memory, "_mallopt", lambda: lambda param, value: 0)
    environ: dict[str, str] = {}
    assert tune_malloc(environ=environ, trim_seconds=None) == {}
    assert environ == {}


def test_nothing_is_done_off_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "_is_glibc", lambda: False)
    environ: dict[str, str] = {}
    assert tune_malloc(environ=environ) == {} and environ == {}


def test_the_trimmer_is_started_unless_told_not_to(calls: list[tuple[int, int]]) -> None:
    tune_malloc(environ={}, trim_seconds=7)
    assert (0, 7) in calls
    calls.clear()
    tune_malloc(environ={}, trim_seconds=None)
    assert (0, 7) not in calls and calls


def test_the_trimmer_gives_memory_back_on_its_beat(monkeypatch: pytest.MonkeyPatch) -> None:
    trims: list[int] = []

    def malloc_trim(pad: int) -> int:
        trims.append(pad)
        return 1

    monkeypatch.setattr(memory, "_malloc_trim", lambda: malloc_trim)
    trimmer = Trimmer(0.01)
    trimmer._thread.start()
    deadline = time.monotonic() + 10
    while len(trims) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    trimmer.stop()
    assert trims[:3] == [0, 0, 0] and trimmer.trims >= 3
    assert not trimmer._thread.is_alive()


_FORKED = textwrap.dedent("""
    import os, time
    from toolwire.memory import Trimmer

    first = Trimmer.start_here_and_after_fork(0.01)
    pid = os.fork()
    if pid == 0:  # the parent's thread did not come along: the child runs its own
        time.sleep(0.2)
        mine = Trimmer._running
        os._exit(0 if mine is not first and mine._thread.is_alive() and mine.trims else 1)
    print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
""")


@pytest.mark.skipif(not GLIBC or not hasattr(os, "fork"), reason="glibc and fork only")
def test_a_forked_process_starts_its_own_trimmer() -> None:
    out = subprocess.run([sys.executable, "-c", _FORKED], cwd=ROOT, capture_output=True,
                         text=True, check=True, timeout=60)
    assert out.stdout.strip() == "0", out.stderr


_PROBE = textwrap.dedent("""
    import ctypes, sys
    from toolwire.memory import tune_malloc

    class MallInfo(ctypes.Structure):  # struct mallinfo (int fields); hblks: mmapped blocks
        _fields_ = [(n, ctypes.c_int) for n in ("arena", "ordblks", "smblks", "hblks",
                    "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = (ctypes.c_void_p,)
    libc.mallinfo.restype = MallInfo
    if sys.argv[1] == "tuned":
        tune_malloc(trim_seconds=None)
    libc.free(libc.malloc(4 << 20))  # by default, this free raises the threshold to 4 MiB
    before = libc.mallinfo().hblks  # blocks that have their own mmap
    block = libc.malloc(1 << 20)
    print(libc.mallinfo().hblks - before)  # 1: this block too (it goes back to the system)
    libc.free(block)
""")


@pytest.mark.skipif(not GLIBC, reason="glibc's malloc only")
@pytest.mark.parametrize(("mode", "mmapped"), [("default", "0"), ("tuned", "1")])
def test_the_mmap_threshold_stops_sliding(mode: str, mmapped: str) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == mmapped, out.stderr


def test_serve_tunes_malloc_before_the_app_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from toolwire.cli import serve as commands

    order: list[str] = []

    def tune_malloc(*, enabled: bool) -> dict[str, int]:
        order.append(f"tune_malloc({enabled})")
        return {}

    monkeypatch.setattr(commands, "tune_malloc", tune_malloc)
    monkeypatch.setattr(uvicorn, "run", lambda app, **_: order.append("run"))
    monkeypatch.setattr(commands, "configure_logging", lambda **_: None)
    monkeypatch.setenv("TOOLWIRE_MALLOC_TUNING", "false")
    commands.serve(host="127.0.0.1", port=8000, model="scripted", database_url=None)
    assert order == ["tune_malloc(False)", "run"]
