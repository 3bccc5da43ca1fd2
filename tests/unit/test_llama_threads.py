"""The embedded model's thread count follows the CPUs the process may use, not the machine's."""

from __future__ import annotations

import os

import pytest

from toolwire.models import llama


def test_threads_follow_the_process_affinity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3}, raising=False)
    assert llama.usable_cpus() == 1


def test_threads_fall_back_to_the_cpu_count_without_affinity(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert llama.usable_cpus() == 6
