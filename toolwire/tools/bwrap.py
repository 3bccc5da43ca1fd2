"""Bubblewrap: the command line of an isolated call, what it shows the tool, and whether it runs.

``bwrap_command`` starts the child interpreter with every namespace unshared (an empty network
unless ``SandboxLimits.network``, its own pids, ipc and hostname), a fresh ``/proc`` and
``/dev``, a private ``/tmp`` (a tmpfs), a cleared environment and the seccomp filter of
``seccomp.py``. The tool sees, read-only, only what the dynamic loader needs, the interpreter
and the code it imports (``code_paths``): never ``/etc``, ``$HOME`` nor the service's state
(the toolwire home, a SQLite database, ``.env``), which are masked where a bound directory
holds them. ``isolation_problem`` says, once per executable, why bubblewrap cannot do that on
this machine (not installed, no user namespaces in a container, an unknown architecture).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import platform
import shutil
import signal
import sys
from collections.abc import Iterable
from importlib.machinery import ModuleSpec

from toolwire.tools.registry import Tool
from toolwire.tools.sandbox_child import ENTRY
from toolwire.tools.sandbox_limits import MB, SandboxLimits
from toolwire.tools.seccomp import has_seccomp_filter, seccomp_pipe

__all__ = ["bwrap_command", "code_paths", "isolation_problem", "kill_group", "sandbox_sys_path"]


# -- the command line ---------------------------------------------------------------------
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
    to mount read-only, from ``code_paths``)."""
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
        ENTRY,
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
        "--size", str(limits.tmp_mb * MB),
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


# -- what the tool may read: the code, never the service's state ---------------------------
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


def sandbox_sys_path() -> list[str]:
    """``sys.path`` as the sandbox sees it: real, existing, bindable entries, in order."""
    private = _private_paths()
    return [p for p in _existing_real(sys.path) if _bindable(p, private)]


def code_paths(tool: Tool, python: str, modules: Iterable[str] = ()) -> list[str]:
    """What the child must read: the interpreter's prefixes, ``sys.path``, toolwire, the
    tool's package and those of ``modules`` (real paths, outermost only, none under the system
    directories)."""
    candidates = [
        sys.base_prefix,
        sys.base_exec_prefix,
        sys.prefix,
        sys.exec_prefix,
        os.path.dirname(os.path.abspath(python)),
        os.path.dirname(os.path.realpath(python)),
        *sys.path,
        *_package_roots("toolwire", (tool.import_path or "").partition(":")[0], *modules),
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
        spec = _top_level_spec(name) if name else None
        locations = getattr(spec, "submodule_search_locations", None) or []
        origin = getattr(spec, "origin", None)
        roots += list(locations) or ([origin] if origin and os.path.isabs(origin) else [])
    return roots


def _top_level_spec(name: str) -> ModuleSpec | None:
    """The spec of ``name``'s top-level package, found without importing it (an untrusted
    module of ``TOOLWIRE_SANDBOX_MODULES`` never runs in the server)."""
    top = name.partition(".")[0]
    module = sys.modules.get(top)
    if module is not None:
        return getattr(module, "__spec__", None)
    try:
        return importlib.util.find_spec(top)  # a top-level name: located, not executed
    except (ImportError, ValueError):
        return None


# -- is bubblewrap usable here? -------------------------------------------------------------
_PROBED: dict[str, str | None] = {}


async def isolation_problem(bwrap: str) -> str | None:
    """Why ``bwrap`` cannot isolate a call on this machine (``None``: it can); probed once."""
    if bwrap not in _PROBED:
        _PROBED[bwrap] = await _probe(bwrap)
    return _PROBED[bwrap]


async def _probe(bwrap: str) -> str | None:
    """Start ``true`` with the namespaces, mounts and seccomp filter of a real call."""
    path = shutil.which(bwrap)
    if path is None:
        return f"bubblewrap ({bwrap}) is not installed"
    if not has_seccomp_filter(platform.machine()):
        return f"toolwire has no seccomp filter for {platform.machine()}"
    filter_fd = seccomp_pipe(forbid_processes=True)
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
        await kill_group(proc)
        return f"{path} did not start a sandbox within 10 s"
    if proc.returncode != 0:
        reason = err.decode(errors="replace").strip() or f"exit status {proc.returncode}"
        return f"{path} cannot create a sandbox here ({reason})"
    return None


# -- ending a sandbox (the executor's timed-out calls too) ----------------------------------
async def kill_group(proc: asyncio.subprocess.Process) -> None:
    """SIGKILL a child started in a new session, with its process group: a plain child's
    children die with it, and a killed ``bwrap`` takes its sandbox along
    (``--die-with-parent``, then the pid namespace)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    await proc.wait()
