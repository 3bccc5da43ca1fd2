"""The sandboxed subprocess executor: limits hit, isolation, and routing of sandbox tools.

The handlers live at module level (here and in ``hostile_tools``) so the child process can
import them by path. Tools run isolated under bubblewrap unless a test forces the weak mode by
pointing the executor at a bwrap that does not exist.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.unit import hostile_tools
from toolwire import Registry
from toolwire.config import get_settings
from toolwire.tools import dispatch as dispatch_module
from toolwire.tools.dispatch import SandboxLimits, SubprocessExecutor, dispatch
from toolwire.tools.sandbox import bwrap_command

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX resource limits")
needs_bwrap = pytest.mark.skipif(
    shutil.which("bwrap") is None,
    reason="bubblewrap is not installed (apt-get install bubblewrap): no isolated sandbox",
)
MISSING_BWRAP = "/nonexistent/bin/bwrap"


def add(a: int, b: int) -> int:
    """Add, chattily."""
    print("this goes to stderr, not into the reply")
    return a + b


def allocate(megabytes: int) -> int:
    """Allocate memory."""
    return len(bytearray(megabytes * 1024 * 1024))


def sleep(seconds: float) -> float:
    """Sleep."""
    time.sleep(seconds)
    return seconds


def stubborn_sleep(seconds: float) -> float:
    """Sleep, ignoring the alarm the sandbox sets."""
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    time.sleep(seconds)
    return seconds


def spin() -> None:
    """Burn CPU forever."""
    while True:
        pass


def connect() -> str:
    """Open a TCP connection."""
    with socket.create_connection(("127.0.0.1", 9), timeout=2):
        return "connected"


def spawn() -> int:
    """Start a process."""
    return subprocess.run(["true"], check=False).returncode


def secret() -> list[str | None]:
    """Read credentials and a plain setting from the environment."""
    names = ("OPENAI_API_KEY", "TOOLWIRE_DATABASE_URL", "TOOLWIRE_API_KEY", "TOOLWIRE_MODEL")
    return [os.environ.get(name) for name in names]


def whoami() -> int:
    """The process id."""
    return os.getpid()


@pytest.fixture
def registry() -> Registry:
    r = Registry()
    for fn in (add, allocate, sleep, stubborn_sleep, spin, connect, spawn, secret, whoami):
        r.register(fn, sandbox=True, timeout=1.5)
    for fn in (
        hostile_tools.hog,
        hostile_tools.stubborn_spin,
        hostile_tools.fork_loop,
        hostile_tools.ctypes_fork,
        hostile_tools.new_namespace,
        hostile_tools.fork_and_thread,
        hostile_tools.peek,
        hostile_tools.environ_holders,
        hostile_tools.tcp_connect,
        hostile_tools.udp_send,
        hostile_tools.write_tmp,
        hostile_tools.signal_everyone,
        hostile_tools.touch,
    ):
        r.register(fn, sandbox=True, timeout=5.0)
    r.register(hostile_tools.spin, name="hostile_spin", sandbox=True, timeout=1.5)
    return r


def executor_for(mode: str, limits: SandboxLimits | None = None) -> SubprocessExecutor:
    """``isolated``: under bubblewrap; ``weak``: bubblewrap missing, the rlimit-only child."""
    if mode == "weak":
        return SubprocessExecutor(limits, mode="weak", bwrap=MISSING_BWRAP)
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed (apt-get install bubblewrap)")
    return SubprocessExecutor(limits, mode="isolated")


both_modes = pytest.mark.parametrize("mode", ["isolated", "weak"])


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (from /proc, children of children included)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):  # exited while /proc was read
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = [pid]
    while frontier:
        current = frontier.pop()
        children = [child for child, parent in parents.items() if parent == current]
        found.update(children)
        frontier += children
    return found


def _eventually(check: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


# -- the protocol and the limits, in both modes ---------------------------------------------
@both_modes
async def test_result_comes_back_as_json_despite_prints(registry: Registry, mode: str) -> None:
    result = await dispatch(registry, "add", {"a": 2, "b": 3}, sandbox_executor=executor_for(mode))
    assert result.status == "ok" and result.result == 5


@both_modes
async def test_sandboxed_tools_run_in_another_process(registry: Registry, mode: str) -> None:
    result = await dispatch(registry, "whoami", {}, sandbox_executor=executor_for(mode))
    assert result.status == "ok" and result.result != os.getpid()


@both_modes
async def test_memory_limit(registry: Registry, mode: str) -> None:
    executor = executor_for(mode, SandboxLimits(memory_mb=256))
    result = await dispatch(registry, "allocate", {"megabytes": 512}, sandbox_executor=executor)
    assert result.status == "error"
    assert result.error == {
        "type": "memory_limit",
        "message": "the tool exceeded the sandbox memory limit of 256 MB",
    }
    small = await dispatch(registry, "allocate", {"megabytes": 8}, sandbox_executor=executor)
    assert small.result == 8 * 1024 * 1024


@needs_bwrap
@pytest.mark.parametrize("name", ["sleep", "spin"])
async def test_time_limit(registry: Registry, name: str) -> None:
    arguments = {"seconds": 30} if name == "sleep" else {}
    result = await dispatch(registry, name, arguments)
    assert result.status == "timeout"
    assert result.error == {"type": "timeout", "message": f"{name} did not finish within 1.5 s"}


@both_modes
async def test_a_child_that_ignores_the_alarm_is_killed(registry: Registry, mode: str) -> None:
    executor = executor_for(mode, SandboxLimits(startup_s=1.0))
    before = _descendants(os.getpid())
    started = time.perf_counter()
    result = await dispatch(registry, "stubborn_sleep", {"seconds": 30}, sandbox_executor=executor)
    assert result.status == "timeout"
    assert time.perf_counter() - started < 20
    assert _descendants(os.getpid()) <= before  # bwrap and its sandbox are gone too


@both_modes
async def test_cpu_limit(registry: Registry, mode: str) -> None:
    """A loop that ignores the alarm is stopped by RLIMIT_CPU (SIGXCPU; under bwrap the
    signal comes back as exit status 128 + n)."""
    executor = executor_for(mode, SandboxLimits(cpu_seconds=1))
    result = await dispatch(registry, "stubborn_spin", {}, sandbox_executor=executor)
    assert result.status == "timeout"
    assert result.error is not None and result.error["type"] == "cpu_limit"


@both_modes
async def test_secrets_are_not_passed_to_the_child(
    registry: Registry, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    monkeypatch.setenv("TOOLWIRE_DATABASE_URL", "postgresql://user:pw@db/toolwire")
    monkeypatch.setenv("TOOLWIRE_API_KEY", "tw-secret")
    monkeypatch.setenv("TOOLWIRE_MODEL", "local:smollm2-135m")
    get_settings.cache_clear()
    result = await dispatch(registry, "secret", {}, sandbox_executor=executor_for(mode))
    assert result.status == "ok" and result.result == [None, None, None, "local:smollm2-135m"]


async def test_invalid_arguments_are_refused_before_spawning(registry: Registry) -> None:
    result = await dispatch(registry, "add", {"a": "two"})
    assert result.status == "invalid"


async def test_a_handler_without_import_path_cannot_be_sandboxed() -> None:
    r = Registry()

    @r.tool(sandbox=True)
    def local() -> int:
        """Defined inside a function."""
        return 1

    result = await dispatch(r, "local", {})
    assert result.status == "error"
    assert result.error is not None and result.error["type"] == "not_sandboxable"


# -- hostile tools, isolated (the default executor of sandbox=True tools) -------------------
@needs_bwrap
async def test_an_infinite_loop_times_out_while_another_call_succeeds(registry: Registry) -> None:
    looped, added = await asyncio.gather(
        dispatch(registry, "hostile_spin", {}), dispatch(registry, "add", {"a": 1, "b": 1})
    )
    assert looped.status == "timeout"
    assert added.status == "ok" and added.result == 2


@needs_bwrap
async def test_ten_gigabytes_hit_the_memory_limit(registry: Registry) -> None:
    result = await dispatch(registry, "hog", {})
    assert result.status == "error"
    assert result.error is not None and result.error["type"] == "memory_limit"


@needs_bwrap
async def test_fork_loops_are_denied_and_leave_no_process(registry: Registry) -> None:
    before = _descendants(os.getpid())
    loop, libc = await asyncio.gather(
        dispatch(registry, "fork_loop", {}), dispatch(registry, "ctypes_fork", {})
    )
    assert loop.status == "ok" and loop.result == {"forked": 0, "error": "PermissionError"}
    assert libc.status == "ok" and libc.result == {"pid": -1, "errno": 1}  # EPERM
    assert _descendants(os.getpid()) <= before
    after = await dispatch(registry, "add", {"a": 2, "b": 2})
    assert after.result == 4


@needs_bwrap
async def test_subprocesses_are_refused(registry: Registry) -> None:
    result = await dispatch(registry, "spawn", {})
    assert result.status == "error"
    assert result.error is not None and result.error["type"] == "PermissionError"


@needs_bwrap
async def test_no_new_namespace_even_with_processes_allowed(registry: Registry) -> None:
    """With processes allowed the filter still refuses namespaces; forks and threads work."""
    executor = executor_for("isolated", SandboxLimits(max_processes=None))
    unshared, forked = await asyncio.gather(
        dispatch(registry, "new_namespace", {}, sandbox_executor=executor),
        dispatch(registry, "fork_and_thread", {}, sandbox_executor=executor),
    )
    assert unshared.result == {"result": -1, "errno": 1}
    assert forked.status == "ok" and forked.result == {"thread": True, "child_exit": 7}


@needs_bwrap
async def test_host_files_and_service_state_are_not_readable(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The toolwire home, its database and .env sit in a directory on sys.path (so it is
    bound) and are masked; /etc, the real ~/.bashrc and a fake HOME are not there at all."""
    code, user = tmp_path / "code", tmp_path / "user"
    home = code / "toolwire-home"
    home.mkdir(parents=True)
    user.mkdir()
    files = {
        "database": home / "toolwire.db",
        "dotenv": code / ".env",
        "bashrc": user / ".bashrc",
        "visible": code / "visible.txt",
    }
    for path in files.values():
        path.write_text(f"content of {path.name}")
    real_bashrc = os.path.expanduser("~/.bashrc")
    monkeypatch.syspath_prepend(str(code))
    monkeypatch.syspath_prepend(str(tmp_path))  # holds HOME: never bound
    monkeypatch.setenv("HOME", str(user))
    monkeypatch.setenv("TOOLWIRE_HOME", str(home))
    monkeypatch.chdir(code)
    get_settings.cache_clear()
    assert get_settings().sqlite_path == files["database"]
    paths = [*map(str, files.values()), "/etc/passwd", "/etc/shadow", real_bashrc]
    result = await dispatch(registry, "peek", {"paths": paths})
    assert result.status == "ok"
    seen = result.result
    assert seen.pop(str(files["visible"])) == "content of visible.txt"
    assert all(text.startswith("denied:") for text in seen.values()), seen


@needs_bwrap
async def test_no_process_environment_holds_a_secret(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_value = f"pw-{uuid.uuid4().hex}"
    monkeypatch.setenv("TOOLWIRE_DATABASE_URL", f"postgresql://toolwire:{secret_value}@db/tw")
    get_settings.cache_clear()
    # a host process whose environment holds the secret: readable here, not in the sandbox
    holder = subprocess.Popen(["sleep", "30"], env={**os.environ})
    try:
        assert _eventually(lambda: secret_value in Path(f"/proc/{holder.pid}/environ").read_text())
        scan = await dispatch(registry, "environ_holders", {"secret": secret_value})
        own = [f"/proc/{os.getpid()}/environ", f"/proc/{holder.pid}/environ", "/proc/1/environ"]
        peeked = await dispatch(registry, "peek", {"paths": own})
    finally:
        holder.kill()
        holder.wait()
    assert scan.status == "ok" and scan.result == []
    assert peeked.status == "ok"
    assert not any(secret_value in text for text in peeked.result.values())


@needs_bwrap
async def test_no_network_tcp_nor_udp(registry: Registry) -> None:
    """PostgreSQL listens on 127.0.0.1:5432 here; a UDP datagram to a host socket never
    arrives (the sandbox's loopback is its own) and other addresses are unreachable."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.setblocking(False)
    port = listener.getsockname()[1]
    targets = [["127.0.0.1", port], ["192.0.2.1", 53]]
    try:
        tcp, udp = await asyncio.gather(
            dispatch(registry, "tcp_connect", {"host": "127.0.0.1", "port": 5432}),
            dispatch(registry, "udp_send", {"targets": targets}),
        )
        await asyncio.sleep(0.2)
        with pytest.raises(BlockingIOError):
            listener.recv(100)
    finally:
        listener.close()
    assert tcp.status == "ok" and tcp.result == "refused: ConnectionRefusedError"
    assert udp.status == "ok" and udp.result[1] == "refused: OSError"  # network unreachable


@needs_bwrap
async def test_tmp_is_private(registry: Registry) -> None:
    name = f"toolwire-escape-{uuid.uuid4().hex}"
    host_file = Path("/tmp", f"toolwire-host-{uuid.uuid4().hex}")
    host_file.write_text("host only")
    try:
        result = await dispatch(registry, "write_tmp", {"name": name})
    finally:
        host_file.unlink()
    assert result.status == "ok" and name in result.result
    assert host_file.name not in result.result and not Path("/tmp", name).exists()
    # anything else there is a mount point of the code bound read-only (a checkout in /tmp)
    code_roots = {Path(p).resolve().relative_to("/tmp").parts[0] for p in sys.path
                  if p and Path(p).resolve().is_relative_to("/tmp")}
    assert set(result.result) - {name} <= code_roots


@needs_bwrap
async def test_signals_do_not_reach_the_server(registry: Registry) -> None:
    received: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: received.append(signum))
    try:
        result = await dispatch(registry, "signal_everyone", {"server_pid": os.getpid()})
        await asyncio.sleep(0.2)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert received == []
    assert result.status in ("ok", "error")  # the sandbox's own init may or may not go down
    if result.status == "ok":
        assert result.result["server"] == "refused: ProcessLookupError"
    after = await dispatch(registry, "add", {"a": 3, "b": 4})
    assert after.result == 7


# -- when bubblewrap is missing -------------------------------------------------------------
async def test_isolated_mode_without_bwrap_refuses_and_runs_nothing(
    registry: Registry, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    executor = SubprocessExecutor(mode="isolated", bwrap=MISSING_BWRAP)
    result = await dispatch(registry, "touch", {"path": str(marker)}, sandbox_executor=executor)
    assert result.status == "error" and result.error is not None
    assert result.error["type"] == "sandbox_unavailable"
    assert "bubblewrap" in result.error["message"]
    assert "TOOLWIRE_SANDBOX_MODE=weak" in result.error["message"]
    assert not marker.exists()


async def test_weak_mode_without_bwrap_runs_and_warns(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("TOOLWIRE_SANDBOX_MODE", "weak")  # the mode comes from the settings
    get_settings.cache_clear()
    marker = tmp_path / "ran"
    executor = SubprocessExecutor(bwrap=MISSING_BWRAP)
    with caplog.at_level(logging.WARNING, logger="toolwire.tools.sandbox"):
        result = await dispatch(registry, "touch", {"path": str(marker)}, sandbox_executor=executor)
    assert result.status == "ok" and marker.exists()
    assert "NOT ISOLATED" in caplog.text


async def test_weak_mode_keeps_the_python_level_refusals(registry: Registry) -> None:
    executor = executor_for("weak")
    network = await dispatch(registry, "connect", {}, sandbox_executor=executor)
    assert network.error == {
        "type": "PermissionError",
        "message": "network access is disabled in the sandbox",
    }
    spawned = await dispatch(registry, "spawn", {}, sandbox_executor=executor)
    assert spawned.error is not None
    assert "starting processes is disabled" in spawned.error["message"]


async def test_the_killable_executor_needs_no_bwrap_and_keeps_the_environment(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ordinary tools that ignored a timeout run there: their environment, no bubblewrap."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-ordinary")
    assert dispatch_module._KILLABLE.isolation is False
    killable = SubprocessExecutor(
        dispatch_module._KILLABLE.limits, keep_environment=True, isolation=False,
        bwrap=MISSING_BWRAP,
    )
    result = await killable.run(registry.get("secret"), {})
    assert result.status == "ok" and result.result is not None
    assert result.result[0] == "sk-ordinary"


def test_an_isolated_executor_never_keeps_the_environment() -> None:
    with pytest.raises(ValueError, match="isolation=False"):
        SubprocessExecutor(keep_environment=True)


# -- the command line -----------------------------------------------------------------------
@pytest.fixture
def command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    home = tmp_path / "toolwire-home"
    home.mkdir()
    monkeypatch.setenv("TOOLWIRE_HOME", str(home))
    get_settings.cache_clear()
    yield bwrap_command(
        bwrap="bwrap", python=sys.executable, limits=SandboxLimits(),
        binds=[str(tmp_path)], env={"PATH": "/usr/bin"}, seccomp_fd=9,
    )


def test_the_command_line_isolates_and_masks(command: list[str], tmp_path: Path) -> None:
    for flag in ("--unshare-all", "--die-with-parent", "--new-session", "--clearenv"):
        assert flag in command
    assert command[command.index("--seccomp") + 1] == "9"
    assert command[command.index("--tmpfs"):][:2] == ["--tmpfs", "/tmp"]
    bound = [command[i + 2] for i, arg in enumerate(command) if arg.startswith("--ro-bind")]
    assert set(bound) - {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
                         str(tmp_path)} == {"/etc/ld.so.cache", "/etc/localtime"}
    home = str(tmp_path / "toolwire-home")
    assert ["--tmpfs", home, "--remount-ro", home] == command[command.index(home) - 1:][:4]


# -- TOOLWIRE_SANDBOX_MODULES ---------------------------------------------------------------
UNTRUSTED = '''
import os
import toolwire


@toolwire.tool
def where_am_i() -> int:
    """The process id the tool sees."""
    return os.getpid()
'''


@pytest.fixture
def modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    """A trusted and an untrusted tool module, declared into an empty ``@toolwire.tool`` list
    (so the rest of the suite never sees them)."""
    from toolwire.tools import registry as registry_module

    monkeypatch.setattr(registry_module, "_DECLARED", [])
    suffix = uuid.uuid4().hex[:8]
    trusted, untrusted = f"trusted_{suffix}", f"untrusted_{suffix}"
    (tmp_path / f"{trusted}.py").write_text(UNTRUSTED.replace("where_am_i", "trusted_pid"))
    (tmp_path / f"{untrusted}.py").write_text(UNTRUSTED)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("TOOLWIRE_TOOL_MODULES", f'["{trusted}"]')
    monkeypatch.setenv("TOOLWIRE_SANDBOX_MODULES", f'["{untrusted}"]')
    get_settings.cache_clear()
    yield trusted, untrusted
    for name in (trusted, untrusted):
        sys.modules.pop(name, None)


@needs_bwrap
async def test_tools_of_sandbox_modules_run_sandboxed(modules: tuple[str, str]) -> None:
    from toolwire.builtin import default_registry

    registry = default_registry()
    assert registry.get("where_am_i").sandbox is True
    assert registry.get("trusted_pid").sandbox is False
    assert registry.get("calculate").sandbox is False
    result = await dispatch(registry, "where_am_i", {})
    assert result.status == "ok" and result.result != os.getpid()


@needs_bwrap
async def test_an_isolated_call_may_be_given_the_network(registry: Registry) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    executor = executor_for("isolated", SandboxLimits(network=True))
    try:
        result = await dispatch(
            registry, "tcp_connect", {"host": "127.0.0.1", "port": port}, sandbox_executor=executor
        )
    finally:
        listener.close()
    assert result.status == "ok" and result.result == "connected"
