"""The seccomp filter of an isolated call: a classic BPF program handed to ``bwrap --seccomp``.

It refuses (EPERM) the system calls a tool has no business making (new namespaces, ptrace,
bpf, perf events, userfaultfd, kernel keyrings, io_uring, mounts), any foreign ABI and, when no
process may start (``SandboxLimits.max_processes == 0``), every new task. This is what stops a
fork bomb when the service runs as root: ``RLIMIT_NPROC`` does not bind uid 0, not even inside
a user namespace mapped to it. The program is assembled here, a few dozen instructions, from
each architecture's ``asm/unistd.h`` numbers, so toolwire needs no libseccomp.
"""

from __future__ import annotations

import os
import platform
import struct
from dataclasses import dataclass

__all__ = ["has_seccomp_filter", "seccomp_pipe"]


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


def has_seccomp_filter(machine: str) -> bool:
    """Whether toolwire knows the system call numbers of ``machine`` (``platform.machine()``)."""
    return machine in _ABIS


def seccomp_pipe(*, forbid_processes: bool) -> int:
    """A pipe's read end holding the filter for this machine (bwrap reads it to EOF)."""
    program = _seccomp_filter(_ABIS[platform.machine()], forbid_processes=forbid_processes)
    read_fd, write_fd = os.pipe()
    with os.fdopen(write_fd, "wb") as pipe:
        pipe.write(program)  # a few hundred bytes: never more than the pipe holds
    return read_fd
