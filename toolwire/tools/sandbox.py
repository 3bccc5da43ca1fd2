"""Sandboxed execution: a tool in a fresh, resource-limited process, isolated by bubblewrap.

``SubprocessExecutor`` runs ``tool.import_path`` in a child Python process; arguments and result
travel as JSON on its stdin and stdout (``_child_main`` is the child side). Three ways to start
that child:

- isolated (tools with ``sandbox=True``): under ``bwrap`` with every namespace unshared (an
  empty network, its own pids, ipc and hostname), a private ``/tmp``, a secret-free environment,
  read-only binds of only the interpreter, the code on ``sys.path`` and ``/usr`` (never ``/etc``,
  ``$HOME`` nor the toolwire home and database) and a seccomp filter that refuses new processes
  (``SandboxLimits.max_processes == 0``) and namespace or kernel-debugging system calls. The
  filter is what stops a fork bomb when the service runs as root: ``RLIMIT_NPROC`` does not bind
  uid 0, not even inside a user namespace mapped to it.
- weak (``TOOLWIRE_SANDBOX_MODE=weak`` where bubblewrap cannot run): a plain child with the same
  rlimits and Python-level refusals of sockets and ``fork``, which a hostile tool gets around.
  Logged loudly: such tools are NOT isolated.
- plain (``isolation=False``): an ordinary process, for ordinary tools that ignored a timeout
  and must be killable; it keeps the network and, with ``keep_environment``, the environment.

In every case the child has POSIX rlimits (memory, CPU, open files, file size, processes) and
is killed, with its whole process group or sandbox, at the wall-clock timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import math
import os
import platform
import shutil
import signal
import struct
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from toolwire.tools.calls import (
    ArgumentError,
    ExecutionResult,
    coerce_arguments,
    error_info,
    exception_info,
    invalid_result,
    timeout_result,
    to_json_value,
)
from toolwire.tools.registry import Tool

__all__ = ["SandboxLimits", "SandboxMode", "SubprocessExecutor", "bwrap_command"]

log = logging.getLogger(__name__)

SandboxMode = Literal["isolated", "weak"]
_MB = 1024 * 1024


@dataclass(kw_only=True, frozen=True)
class SandboxLimits:
    """Resource limits of a sandboxed call (POSIX rlimits, set in the child before import)."""

    memory_mb: int = 512
    """Address-space limit (RLIMIT_AS); exceeding it raises MemoryError in the tool."""
    cpu_seconds: int | None = None
    """CPU-time limit (RLIMIT_CPU); default: the tool's timeout plus the startup allowance."""
    max_processes: int | None = 0
    """0: no new process nor thread (a seccomp filter when isolated, so root is bound too).
    N > 0: RLIMIT_NPROC, which binds only a service that does not run as root. ``None``: no
    limit."""
    file_size_mb: int = 16
    """Largest file the tool may write (RLIMIT_FSIZE)."""
    open_files: int = 64
    tmp_mb: int = 64
    """Size of the private ``/tmp`` of an isolated call (a tmpfs, held in memory)."""
    network: bool = False
    """``False``: no network (isolated: an empty network namespace; weak: sockets refused in
    Python). ``True`` when isolated: the host's network, its loopback services included."""
    startup_s: float = 5.0
    """Wall-clock allowance for interpreter start and imports, on top of ``tool.timeout``."""


# -- the child's environment ----------------------------------------------------------------
_CHILD = "from toolwire.tools.sandbox import _child_main; _child_main()"
_SECRET_WORDS = ("DATABASE", "KEY", "SECRET", "TOKEN", "PASSWORD", "BROKER")
_SAFE_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "HOME", "TMPDIR", "SYSTEMROOT")


def _plain_setting(name: str) -> bool:
    """A ``TOOLWIRE_*`` variable that cannot hold a credential (the database URL might)."""
    upper = name.upper()
    return upper.startswith("TOOLWIRE_") and not any(word in upper for word in _SECRET_WORDS)


def _safe_environ() -> dict[str, str]:
    """This process's variables that hold no secret: locale, paths and plain TOOLWIRE_*."""
    return {k: v for k, v in os.environ.items() if k in _SAFE_ENV or _plain_setting(k)}


def _child_env() -> dict[str, str]:
    """Environment of an un-isolated child: no secrets, and this process's ``sys.path``."""
    env = _safe_environ()
    paths = [p or os.getcwd() for p in sys.path]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if os.path.isdir(p))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


_ONE_THREAD = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _sandbox_env(python_path: list[str]) -> dict[str, str]:
    """Environment inside bubblewrap: no secrets, HOME and TMPDIR on the private /tmp (the
    real home is not there), and numeric libraries without thread pools: numpy, imported with
    toolwire, would start threads before the tool runs, which the seccomp filter refuses."""
    env = _safe_environ()
    env.update(
        PATH="/usr/local/bin:/usr/bin:/bin",
        HOME="/tmp",
        TMPDIR="/tmp",
        PYTHONPATH=os.pathsep.join(python_path),
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(dict.fromkeys(_ONE_THREAD, "1"))
    return env


# -- the executor ---------------------------------------------------------------------------
class SubprocessExecutor:
    """Runs ``tool.import_path`` in a fresh, resource-limited process, one per call."""

    def __init__(
        self,
        limits: SandboxLimits | None = None,
        *,
        python: str = sys.executable,
        keep_environment: bool = False,
        isolation: bool = True,
        mode: SandboxMode | None = None,
        bwrap: str = "bwrap",
    ):
        """``isolation=False``: an ordinary child, never under bubblewrap (an ordinary tool
        moved to a killable process); ``keep_environment`` then gives it this process's whole
        environment. ``mode``: what an isolated call does where bubblewrap cannot run,
        ``"isolated"`` refuses it and ``"weak"`` runs it un-isolated (default:
        ``TOOLWIRE_SANDBOX_MODE``, read at each call). ``bwrap``: the bubblewrap executable."""
        if keep_environment and isolation:
            raise ValueError("keep_environment=True needs isolation=False: a sandbox never "
                             "sees this process's environment")
        self.limits = limits or SandboxLimits()
        self.python = python
        self.keep_environment = keep_environment
        self.isolation = isolation
        self.mode = mode
        self.bwrap = bwrap
        self._warned = False

    async def run(self, tool: Tool, arguments: dict[str, Any]) -> ExecutionResult:
        started = time.perf_counter()
        result = await self._run(tool, arguments)
        result.duration_ms = (time.perf_counter() - started) * 1000
        return result

    async def _run(self, tool: Tool, arguments: dict[str, Any]) -> ExecutionResult:
        if tool.import_path is None:
            message = f"{tool.name} cannot run sandboxed: its handler has no import path"
            return ExecutionResult(status="error", error=error_info("not_sandboxable", message))
        isolated = await self._isolated(tool)
        if isinstance(isolated, ExecutionResult):
            return isolated
        with contextlib.ExitStack() as cleanup:
            start = self._start_isolated(tool) if isolated else self._start_plain(cleanup)
            proc = await start
            try:
                out, err = await asyncio.wait_for(
                    proc.communicate(self._request(tool, arguments, isolated)),
                    tool.timeout + self.limits.startup_s,
                )
            except TimeoutError:
                await _kill(proc)
                return timeout_result(tool)
            except asyncio.CancelledError:
                await _kill(proc)
                raise
        return _child_result(tool, _exit_status(proc.returncode, isolated), out, err)

    async def _isolated(self, tool: Tool) -> bool | ExecutionResult:
        """Whether this call runs under bubblewrap; a refusal when it must and cannot."""
        if not self.isolation:
            return False
        problem = await _isolation_problem(self.bwrap)
        if problem is None:
            return True
        if self._mode() == "weak":
            self._warn_weak(problem)
            return False
        message = (
            f"{tool.name} must run isolated, but the sandbox is unavailable: {problem}. "
            "Install bubblewrap (apt-get install bubblewrap), or set "
            "TOOLWIRE_SANDBOX_MODE=weak to run sandboxed tools with resource limits only."
        )
        return ExecutionResult(status="error", error=error_info("sandbox_unavailable", message))

    def _mode(self) -> SandboxMode:
        if self.mode is not None:
            return self.mode
        from toolwire.config import get_settings

        return get_settings().sandbox_mode

    def _warn_weak(self, problem: str) -> None:
        """Once per executor (in practice once per process): the operator chose weak mode."""
        if not self._warned:
            self._warned = True
            log.warning(
                "SANDBOX NOT ISOLATED: %s, and the sandbox mode is 'weak' "
                "(TOOLWIRE_SANDBOX_MODE): tools with sandbox=True run with resource limits "
                "only and CAN read files, reach the network and signal other processes. "
                "Install bubblewrap to isolate them.",
                problem,
            )

    async def _start_plain(self, cleanup: contextlib.ExitStack) -> asyncio.subprocess.Process:
        workdir = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="toolwire-sandbox-"))
        return await asyncio.create_subprocess_exec(
            self.python,
            "-c",
            _CHILD,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=workdir,
            env={**os.environ, **_child_env()} if self.keep_environment else _child_env(),
            start_new_session=True,
        )

    async def _start_isolated(self, tool: Tool) -> asyncio.subprocess.Process:
        """``bwrap`` with the seccomp filter on a pipe; bubblewrap itself gets the secret-free
        environment too, as the sandbox can read its ``/proc/1/environ``."""
        python_path = _python_path()
        env = _sandbox_env(python_path)
        filter_fd = _seccomp_pipe(forbid_processes=self.limits.max_processes == 0)
        try:
            command = bwrap_command(
                bwrap=shutil.which(self.bwrap) or self.bwrap,
                python=self.python,
                limits=self.limits,
                binds=_code_paths(tool, self.python),
                env=env,
                seccomp_fd=filter_fd,
            )
            return await asyncio.create_subprocess_exec(
                *command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
                pass_fds=(filter_fd,),
                start_new_session=True,
            )
        finally:
            os.close(filter_fd)

    def _request(self, tool: Tool, arguments: dict[str, Any], isolated: bool) -> bytes:
        limits = asdict(self.limits)
        if limits["cpu_seconds"] is None:
            limits["cpu_seconds"] = math.ceil(tool.timeout + self.limits.startup_s)
        payload = {
            "import_path": tool.import_path,
            "arguments": arguments,
            "timeout": tool.timeout,
            "limits": limits,
            "isolated": isolated,
        }
        return json.dumps(payload).encode()


async def _kill(proc: asyncio.subprocess.Process) -> None:
    """SIGKILL the child's process group: a plain child's children die with it, and a killed
    ``bwrap`` takes its sandbox along (``--die-with-parent``, then the pid namespace)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    await proc.wait()


# -- bubblewrap: the command line -----------------------------------------------------------
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/localtime")
_NETWORK_FILES = ("/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/ssl")


def bwrap_command(
    *,
    bwrap: str,
    python: str,
    limits: SandboxLimits,
    binds: list[str],
    env: dict[str, str],
    seccomp_fd: int,
) -> list[str]:
    """The full ``bwrap`` command line running the child interpreter (``binds``: real paths
    to mount read-only, from ``_code_paths``)."""
    setenv = [arg for name, value in sorted(env.items()) for arg in ("--setenv", name, value)]
    return [
        bwrap,
        *_namespace_args(limits),
        *_system_args(),
        *_bind_args(binds),
        *_mask_args([*binds, *_system_roots()]),
        "--clearenv",
        *setenv,
        "--seccomp",
        str(seccomp_fd),
        "--",
        _sandbox_python(python),
        "-c",
        _CHILD,
    ]


def _namespace_args(limits: SandboxLimits) -> list[str]:
    """Every namespace new (no network, own pids), a fresh /proc and /dev, a private /tmp."""
    network = ["--share-net", *_bind_args(_NETWORK_FILES, "--ro-bind-try")]
    network = network if limits.network else []
    return [
        "--unshare-all",
        *network,
        "--die-with-parent",
        "--new-session",
        "--hostname", "toolwire-sandbox",
        "--proc", "/proc",
        "--dev", "/dev",
        "--size", str(limits.tmp_mb * _MB),
        "--tmpfs", "/tmp",
        "--chdir", "/tmp",
    ]  # fmt: skip


def _system_args() -> list[str]:
    """What the dynamic loader needs, mirroring merged-/usr symlinks (not ``/etc``)."""
    args: list[str] = []
    for path in _SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    return args + _bind_args(_SYSTEM_FILES, "--ro-bind-try")


def _bind_args(binds: Iterable[str], how: str = "--ro-bind") -> list[str]:
    return [arg for path in binds for arg in (how, path, path)]


def _system_roots() -> list[str]:
    """The system directories bound as such (not the merged-/usr symlinks)."""
    return [p for p in _SYSTEM_DIRS if os.path.isdir(p) and not os.path.islink(p)]


def _mask_args(binds: list[str]) -> list[str]:
    """Hide the service's own state where it lies inside a bound directory: an empty,
    read-only tmpfs over the toolwire home, ``/dev/null`` (unreadable: nodev) over files."""
    args: list[str] = []
    masked: list[str] = []
    for path in _private_paths():
        inside = any(_within(path, bound) and path != bound for bound in binds)
        if not inside or any(_within(path, done) for done in masked):
            continue  # not visible, or already hidden (the database in the home)
        if os.path.isdir(path):
            args += ["--tmpfs", path, "--remount-ro", path]
        elif os.path.exists(path):
            args += ["--ro-bind", "/dev/null", path]
        masked.append(path)
    return args


def _sandbox_python(python: str) -> str:
    """The interpreter's path in the sandbox: its directory resolved like the binds, its own
    name kept (a venv's ``bin/python`` link is how Python finds the venv)."""
    directory, name = os.path.split(os.path.abspath(python))
    return os.path.join(os.path.realpath(directory), name)


def _within(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def _private_paths() -> list[str]:
    """The service's state a tool must never read: the toolwire home, a SQLite database
    (with its journals) and the ``.env`` file settings are read from."""
    from toolwire.config import get_settings

    settings = get_settings()
    paths = [str(settings.home), ".env"]
    url = settings.resolved_database_url
    if url.startswith("sqlite:///"):
        database = url.removeprefix("sqlite:///").partition("?")[0]
        paths += [database + suffix for suffix in ("", "-wal", "-shm", "-journal")]
    return [os.path.realpath(p) for p in paths]


def _bindable(path: str, private: list[str]) -> bool:
    """Not ``/``, nothing holding ``$HOME`` (dotfiles, keys) and nothing inside the service's
    state; such a ``sys.path`` entry is left out and what it holds cannot be imported."""
    home = os.path.expanduser("~")
    if os.path.isabs(home) and _within(os.path.realpath(home), path):
        return False
    return path != "/" and not any(_within(path, p) for p in private)


def _existing_real(paths: Iterable[str]) -> list[str]:
    real = (os.path.realpath(p or os.getcwd()) for p in paths)
    return [p for p in real if os.path.exists(p)]


def _python_path() -> list[str]:
    """``sys.path`` as the sandbox sees it: real, existing, bindable entries, in order."""
    private = _private_paths()
    return [p for p in _existing_real(sys.path) if _bindable(p, private)]


def _code_paths(tool: Tool, python: str) -> list[str]:
    """What the child must read: the interpreter's prefixes, ``sys.path``, toolwire and the
    tool's package (real paths, outermost only, none under the system directories)."""
    candidates = [
        sys.base_prefix,
        sys.base_exec_prefix,
        sys.prefix,
        sys.exec_prefix,
        os.path.dirname(os.path.abspath(python)),
        os.path.dirname(os.path.realpath(python)),
        *sys.path,
        *_package_roots("toolwire", (tool.import_path or "").partition(":")[0]),
    ]
    private = _private_paths()
    paths = sorted({p for p in _existing_real(candidates) if _bindable(p, private)})
    covered = _system_roots()
    outermost: list[str] = []
    for path in paths:
        if not any(_within(path, done) for done in covered + outermost):
            outermost.append(path)
    return outermost


def _package_roots(*modules: str) -> list[str]:
    """Where each module's top-level package lives: an editable install maps it from outside
    ``sys.path``."""
    roots = []
    for name in modules:
        module = sys.modules.get(name.partition(".")[0]) if name else None
        spec = getattr(module, "__spec__", None)
        locations = getattr(spec, "submodule_search_locations", None) or []
        origin = getattr(spec, "origin", None)
        roots += list(locations) or ([origin] if origin and os.path.isabs(origin) else [])
    return roots


# -- seccomp: a classic BPF program for bwrap --seccomp -------------------------------------
@dataclass(frozen=True)
class _Abi:
    """System call numbers of one architecture (from its ``asm/unistd.h``)."""

    audit_arch: int
    clone: int
    spawners: tuple[int, ...]
    """clone, fork, vfork: refused when no process may start."""
    hardening: tuple[int, ...]
    """unshare, setns, ptrace, bpf, perf_event_open, userfaultfd, add_key, request_key,
    keyctl, io_uring_setup, mount, umount2, pivot_root: always refused."""
    x32: bool = False
    """x86-64 also accepts x32 numbers (``nr | 0x40000000``): all refused."""


_ABIS = {
    "x86_64": _Abi(
        audit_arch=0xC000003E,
        clone=56,
        spawners=(56, 57, 58),
        hardening=(272, 308, 101, 321, 298, 323, 248, 249, 250, 425, 165, 166, 155),
        x32=True,
    ),
    "aarch64": _Abi(
        audit_arch=0xC00000B7,
        clone=220,
        spawners=(220,),
        hardening=(97, 268, 117, 280, 241, 282, 217, 218, 219, 425, 40, 39, 41),
    ),
}
_CLONE3 = 435
_CLONE_NAMESPACES = 0x7E020000  # CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET
_LD, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06  # BPF_LD|W|ABS, BPF_JMP|K, BPF_RET
_ALLOW, _ERRNO = 0x7FFF0000, 0x00050000
_EPERM, _ENOSYS = 1, 38
_Insn = tuple[int, int, str | None]
"""(opcode, constant, label to jump to when the test holds), assembled by ``_assemble``."""


def _seccomp_filter(abi: _Abi, *, forbid_processes: bool) -> bytes:
    """Refuse (EPERM) the hardening calls, a foreign ABI and, when ``forbid_processes``, any
    new task; clone3 answers ENOSYS (its flags cannot be inspected) so threads fall back to
    clone, whose namespace flags are refused."""
    refused = abi.hardening + (abi.spawners if forbid_processes else ())
    program: list[_Insn] = [(_LD, 4, None), (_JEQ, abi.audit_arch, "native")]
    program += [(_RET, _ERRNO | _EPERM, None), (_LD, 0, "native:")]
    if abi.x32:
        program += [(_JGE, 0x40000000, "deny")]
    program += [(_JEQ, nr, "deny") for nr in refused]
    program += [(_JEQ, _CLONE3, "nosys"), (_JEQ, abi.clone, "clone"), (_RET, _ALLOW, None)]
    program += [(_LD, 16, "clone:"), (_JSET, _CLONE_NAMESPACES, "deny"), (_RET, _ALLOW, None)]
    program += [(_RET, _ERRNO | _ENOSYS, "nosys:"), (_RET, _ERRNO | _EPERM, "deny:")]
    return _assemble(program)


def _assemble(program: list[_Insn]) -> bytes:
    """``struct sock_filter`` array; a label ending in ``:`` marks an instruction, any other
    label on a jump is its target (jumps are forward, up to 255 instructions)."""
    marks = {label[:-1]: i for i, (_, _, label) in enumerate(program) if label and label[-1] == ":"}
    out = b""
    for i, (code, k, label) in enumerate(program):
        jump = marks[label] - i - 1 if label and label[-1] != ":" else 0
        out += struct.pack("=HBBI", code, jump, 0, k)
    return out


def _seccomp_pipe(*, forbid_processes: bool) -> int:
    """A pipe's read end holding the filter for this machine (bwrap reads it to EOF)."""
    program = _seccomp_filter(_ABIS[platform.machine()], forbid_processes=forbid_processes)
    read_fd, write_fd = os.pipe()
    with os.fdopen(write_fd, "wb") as pipe:
        pipe.write(program)  # a few hundred bytes: never more than the pipe holds
    return read_fd


# -- is bubblewrap usable here? -------------------------------------------------------------
_PROBED: dict[str, str | None] = {}


async def _isolation_problem(bwrap: str) -> str | None:
    """Why ``bwrap`` cannot isolate a call on this machine (``None``: it can); probed once."""
    if bwrap not in _PROBED:
        _PROBED[bwrap] = await _probe(bwrap)
    return _PROBED[bwrap]


async def _probe(bwrap: str) -> str | None:
    """Start ``true`` with the namespaces, mounts and seccomp filter of a real call."""
    path = shutil.which(bwrap)
    if path is None:
        return f"bubblewrap ({bwrap}) is not installed"
    if platform.machine() not in _ABIS:
        return f"toolwire has no seccomp filter for {platform.machine()}"
    filter_fd = _seccomp_pipe(forbid_processes=True)
    command = [path, *_namespace_args(SandboxLimits()), *_system_args(),
               "--seccomp", str(filter_fd), "--", shutil.which("true") or "/bin/true"]
    try:
        proc = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
            env={}, pass_fds=(filter_fd,), start_new_session=True,
        )
    finally:
        os.close(filter_fd)
    try:
        _, err = await asyncio.wait_for(proc.communicate(), 10)
    except TimeoutError:
        await _kill(proc)
        return f"{path} did not start a sandbox within 10 s"
    if proc.returncode != 0:
        reason = err.decode(errors="replace").strip() or f"exit status {proc.returncode}"
        return f"{path} cannot create a sandbox here ({reason})"
    return None


# -- the reply ------------------------------------------------------------------------------
def _exit_status(returncode: int | None, isolated: bool) -> int | None:
    """bwrap exits with 128 + n when the child dies of signal n: report it as a signal."""
    if isolated and returncode is not None and returncode > 128:
        return -(returncode - 128)
    return returncode


def _child_result(tool: Tool, returncode: int | None, out: bytes, err: bytes) -> ExecutionResult:
    try:
        reply = json.loads(out)
        status = reply["status"]
    except (ValueError, KeyError, TypeError):
        return _crashed(tool, returncode, err)
    if status == "timeout":
        return timeout_result(tool)
    return ExecutionResult(status=status, result=reply.get("result"), error=reply.get("error"))


def _crashed(tool: Tool, returncode: int | None, err: bytes) -> ExecutionResult:
    stderr = err.decode(errors="replace").strip()[-2000:]
    if returncode is not None and returncode < 0:
        name = _signal_name(-returncode)
        if -returncode == signal.SIGXCPU:
            message = f"{tool.name} exceeded its CPU-time limit"
            return ExecutionResult(status="timeout", error=error_info("cpu_limit", message))
        message = f"the sandboxed process of {tool.name} was killed by {name}"
    else:
        message = f"the sandboxed process of {tool.name} exited with status {returncode}"
    return ExecutionResult(status="error", error=error_info("sandbox_crashed", message, stderr=stderr))


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


# -- the child side (runs in the sandboxed process) -----------------------------------------
class _HandlerTimeout(BaseException):
    """Raised in the child by the interval timer; a BaseException so handlers don't swallow it."""


def _child_main() -> None:
    """Entry point of the sandboxed process: JSON request on stdin, JSON reply on stdout."""
    reply_fd = os.dup(1)
    os.dup2(2, 1)  # whatever the tool prints goes to stderr, never into the reply
    request = json.loads(sys.stdin.buffer.read())
    limits = request["limits"]
    weak = not request.get("isolated", False)
    if weak and not limits["network"]:
        _isolate_network()
    _apply_limits(limits)
    if weak and limits["max_processes"] == 0:
        _forbid_processes()
    reply = _child_run(request)
    with os.fdopen(reply_fd, "w") as out:
        out.write(json.dumps(reply, default=str))


def _child_run(request: dict[str, Any]) -> dict[str, Any]:
    memory_mb = request["limits"]["memory_mb"]
    try:
        handler = _import(request["import_path"])
        kwargs = coerce_arguments(handler, request["arguments"])
        signal.signal(signal.SIGALRM, _raise_timeout)
        signal.setitimer(signal.ITIMER_REAL, request["timeout"])
        value = handler(**kwargs)
        if inspect.isawaitable(value):
            value = asyncio.run(_awaited(value))
        signal.setitimer(signal.ITIMER_REAL, 0)
        return {"status": "ok", "result": to_json_value(value)}
    except _HandlerTimeout:
        return {"status": "timeout"}
    except ArgumentError as e:
        return asdict(invalid_result(e.errors))
    except MemoryError:
        message = f"the tool exceeded the sandbox memory limit of {memory_mb} MB"
        return {"status": "error", "error": error_info("memory_limit", message)}
    except (Exception, SystemExit) as e:
        return {"status": "error", "error": exception_info(e)}


async def _awaited(value: Any) -> Any:
    return await value


def _raise_timeout(signum: int, frame: Any) -> None:
    raise _HandlerTimeout


def _import(import_path: str) -> Callable[..., Any]:
    import importlib

    module_name, _, qualname = import_path.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part)
    if not callable(target):
        raise TypeError(f"{import_path} is not callable")
    return target  # type: ignore[no-any-return]


def _apply_limits(limits: dict[str, Any]) -> None:
    import resource

    wanted = {
        resource.RLIMIT_AS: limits["memory_mb"] * _MB,
        resource.RLIMIT_CPU: limits["cpu_seconds"],
        resource.RLIMIT_FSIZE: limits["file_size_mb"] * _MB,
        resource.RLIMIT_NOFILE: limits["open_files"],
    }
    if limits["max_processes"] is not None:
        wanted[resource.RLIMIT_NPROC] = limits["max_processes"]
    for which, value in wanted.items():
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value if which != resource.RLIMIT_CPU else value + 1))


# -- weak mode only: Python-level refusals, which a hostile tool gets around ----------------
def _refuse(what: str) -> Callable[..., Any]:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(f"{what} is disabled in the sandbox")

    return refuse


def _isolate_network() -> None:
    """A new (empty) network namespace when the kernel allows; sockets refused regardless."""
    import ctypes
    import socket

    if sys.platform.startswith("linux"):
        clone_newuser, clone_newnet = 0x10000000, 0x40000000
        libc = ctypes.CDLL(None, use_errno=True)
        libc.unshare(clone_newuser | clone_newnet)  # refused inside some containers: fine
    refuse = _refuse("network access")
    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse  # type: ignore[method-assign]
    socket.getaddrinfo = refuse
    socket.create_connection = refuse


_SPAWNERS = (
    "fork",
    "forkpty",
    "system",
    "popen",
    "posix_spawn",
    "posix_spawnp",
    "execv",
    "execve",
    "execvp",
    "execvpe",
    "execl",
    "execle",
    "execlp",
    "execlpe",
    "spawnv",
    "spawnve",
    "spawnvp",
    "spawnvpe",
    "spawnl",
    "spawnle",
    "spawnlp",
    "spawnlpe",
)


def _forbid_processes() -> None:
    """Refuse new processes at the Python level too: RLIMIT_NPROC does not bind root."""
    import _posixsubprocess  # type: ignore[import-not-found]
    import subprocess

    refuse = _refuse("starting processes")
    for name in _SPAWNERS:
        if hasattr(os, name):
            setattr(os, name, refuse)
    _posixsubprocess.fork_exec = refuse
    subprocess._fork_exec = refuse  # type: ignore[attr-defined]
