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
from typing import Any

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


def secret() -> dict[str, str]:
    """The whole environment the tool sees."""
    return dict(os.environ)


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
    """An allowlist, not a filter of secret-looking names: of the TOOLWIRE_* settings only
    those the tools read get through, whatever the others are called."""
    secrets = {
        "OPENAI_API_KEY": "sk-secret",
        "TOOLWIRE_DATABASE_URL": "postgresql://user:pw-db@db/toolwire",
        "TOOLWIRE_API_KEY": "tw-secret",
        "TOOLWIRE_CREDENTIALS": '{"shop": {"type": "bearer", "token": "bearer-secret"}}',
        "TOOLWIRE_BROKER_URL": "redis://:pw-broker@cache:6379/0",
        "TOOLWIRE_SOMETHING_ELSE": "anything-else",
        "TOOLWIRE_MODEL": "openai:gpt-4o@https://user:pw-model@llm.example/v1",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TOOLWIRE_CURRENCY_RATES", '{"USD": 1.0, "SEK": 10.0}')
    monkeypatch.setenv("LC_TIME", "C")
    get_settings.cache_clear()
    result = await dispatch(registry, "secret", {}, sandbox_executor=executor_for(mode))
    assert result.status == "ok"
    seen: dict[str, str] = result.result
    assert not set(secrets) & set(seen)
    assert not any(value in text for value in secrets.values() for text in seen.values())
    assert {n for n in seen if n.startswith("TOOLWIRE_")} == {"TOOLWIRE_CURRENCY_RATES"}
    assert seen["LC_TIME"] == "C"
    assert seen["HOME"] == seen["TMPDIR"] != os.environ.get("HOME")  # a private home


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
    assert result.result["OPENAI_API_KEY"] == "sk-ordinary"
    assert result.result["HOME"] == os.environ["HOME"]


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
TRUSTED = '''
import os
import toolwire


@toolwire.tool
def trusted_pid() -> int:
    """The process id the tool sees."""
    return os.getpid()
'''

UNTRUSTED = '''
import os
import toolwire

# top-level code: it must run in the sandbox, never in the server
IMPORTED_IN = os.getpid()
SEEN_AT_IMPORT = os.environ.get("TOOLWIRE_DATABASE_URL")
try:
    with open({marker!r}, "a") as marker:
        marker.write(f"{{IMPORTED_IN}}\\n")
except OSError:
    pass  # read-only under bubblewrap


@toolwire.tool(keywords=("where",), timeout=5.0, answer="It ran in process {{result[pid]}}.",
               normalize=lambda arguments: {{**arguments, "server_side": True}})
def where_am_i() -> dict[str, object]:
    """Where the tool runs, and what its module saw when it was imported."""
    return {{"pid": os.getpid(), "imported_in": IMPORTED_IN, "seen": SEEN_AT_IMPORT}}


@toolwire.tool(requires_approval=True, answer=lambda arguments, result: "ran in the server")
async def shout(text: str) -> str:
    """Shout the text."""
    return text.upper()
'''


@pytest.fixture
def modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A trusted and an untrusted tool module, declared into an empty ``@toolwire.tool`` list
    (so the rest of the suite never sees them); the untrusted one notes each process that
    imports it in a marker file, and what it finds of the server's secret."""
    from toolwire.tools import registry as registry_module

    monkeypatch.setattr(registry_module, "_DECLARED", [])
    suffix = uuid.uuid4().hex[:8]
    trusted, untrusted = f"trusted_{suffix}", f"untrusted_{suffix}"
    marker = tmp_path / "imported-by"
    (tmp_path / f"{trusted}.py").write_text(TRUSTED)
    (tmp_path / f"{untrusted}.py").write_text(UNTRUSTED.format(marker=str(marker)))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("TOOLWIRE_TOOL_MODULES", f'["{trusted}"]')
    monkeypatch.setenv("TOOLWIRE_SANDBOX_MODULES", f'["{untrusted}"]')
    monkeypatch.setenv("TOOLWIRE_DATABASE_URL", f"postgresql://toolwire:pw-{suffix}@db/toolwire")
    get_settings.cache_clear()
    yield {"trusted": trusted, "untrusted": untrusted, "marker": marker}
    for name in (trusted, untrusted):
        sys.modules.pop(name, None)


def _imported_by(marker: Path) -> list[int]:
    """The processes that imported the untrusted module (those it could write the file from)."""
    return [int(line) for line in marker.read_text().split()] if marker.exists() else []


def _without_bwrap(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default executors see bubblewrap as missing (their probe's answer)."""
    from toolwire.tools import bwrap

    monkeypatch.setitem(bwrap._PROBED, "bwrap", "bubblewrap (bwrap) is not installed")


@needs_bwrap
async def test_sandbox_modules_are_discovered_and_run_in_the_sandbox_only(
    modules: dict[str, Any],
) -> None:
    from toolwire.builtin import default_registry

    registry = default_registry()
    assert modules["untrusted"] not in sys.modules  # never imported here
    assert os.getpid() not in _imported_by(modules["marker"])
    where = registry.get("where_am_i")
    assert where.sandbox and where.import_path == f"{modules['untrusted']}:where_am_i"
    assert where.keywords == ("where",) and where.timeout == 5.0
    assert where.description.startswith("Where the tool runs")
    assert where.normalize is None  # a function of the module: it would run in the server
    assert where.answer == "It ran in process {result[pid]}."  # a template is data: kept
    shout = registry.get("shout")
    assert shout.requires_approval and shout.answer is None
    assert shout.parameters["properties"]["text"]["type"] == "string"
    assert registry.get("trusted_pid").sandbox is False
    assert registry.get("calculate").sandbox is False

    result = await dispatch(registry, "where_am_i", {})
    assert result.status == "ok", result.error
    assert os.getpid() not in (result.result["pid"], result.result["imported_in"])
    assert result.result["seen"] is None  # the server's secret was not in its environment
    shouted = await dispatch(registry, "shout", {"text": "hi"}, approved=True)
    assert shouted.status == "ok" and shouted.result == "HI"


@needs_bwrap
async def test_a_discovered_tool_never_runs_in_the_server(modules: dict[str, Any]) -> None:
    """Even handed to the in-process executor, a discovered tool's handler only refuses."""
    from toolwire.builtin import default_registry
    from toolwire.tools.dispatch import InProcessExecutor

    registry = default_registry()
    result = await InProcessExecutor().run(registry.get("where_am_i"), {})
    assert result.status == "error" and "only in the sandbox" in result.error["message"]  # type: ignore[index]
    assert modules["untrusted"] not in sys.modules


async def test_without_the_sandbox_a_sandbox_module_is_refused_and_the_rest_loads(
    modules: dict[str, Any], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    from toolwire.builtin import default_registry

    _without_bwrap(monkeypatch)
    with caplog.at_level(logging.ERROR, logger="toolwire.builtin"):
        registry = default_registry()
    assert "where_am_i" not in registry and "shout" not in registry
    assert "trusted_pid" in registry and "calculate" in registry
    assert modules["untrusted"] not in sys.modules
    assert _imported_by(modules["marker"]) == []  # imported nowhere
    assert modules["untrusted"] in caplog.text and "TOOLWIRE_SANDBOX_MODE=weak" in caplog.text


async def test_in_weak_mode_a_sandbox_module_is_discovered_in_a_child(
    modules: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
) -> None:
    from toolwire.builtin import default_registry

    _without_bwrap(monkeypatch)
    monkeypatch.setenv("TOOLWIRE_SANDBOX_MODE", "weak")
    get_settings.cache_clear()
    registry = default_registry()
    imported_by = _imported_by(modules["marker"])
    assert len(imported_by) == 1 and os.getpid() not in imported_by
    assert modules["untrusted"] not in sys.modules
    result = await dispatch(registry, "where_am_i", {})
    assert result.status == "ok", result.error
    assert result.result["seen"] is None and result.result["pid"] != os.getpid()


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
