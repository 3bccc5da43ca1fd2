"""The resource limits of a sandboxed call.

A module of its own because both sides read them: the executor (``sandbox.py``) sends them to
the child, ``bwrap.py`` sizes the private ``/tmp`` and shares the network from them, and the
child (``sandbox_child.py``) turns them into POSIX rlimits.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MB", "SandboxLimits"]

MB = 1024 * 1024


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
