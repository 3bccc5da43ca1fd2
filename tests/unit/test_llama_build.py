"""The portable llama.cpp build (scripts/llama_wheel.sh), with a stand-in for pip that records
how it was asked to build: flags, cache key, and that a second install builds nothing."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "llama_wheel.sh"

FAKE_PIP = """#!/usr/bin/env bash
if [ "$1" = --version ]; then echo "pip 99.0 from /x (python 3.11)"; exit 0; fi
echo "$CMAKE_ARGS" >> "$CALLS"
while [ $# -gt 0 ]; do [ "$1" = -w ] && out=$2; shift; done
touch "$out/llama_cpp_python-0.3.36-py3-none-linux_x86_64.whl"
"""


def _build(tmp_path: Path) -> tuple[str, list[str]]:
    pip = tmp_path / "pip"
    pip.write_text(FAKE_PIP)
    pip.chmod(0o755)
    env = {**os.environ, "TOOLWIRE_WHEEL_CACHE": str(tmp_path / "cache"),
           "CALLS": str(tmp_path / "calls")}
    out = subprocess.run(["bash", str(SCRIPT), str(pip), "0.3.36"], env=env, check=True,
                         capture_output=True, text=True)
    calls = tmp_path / "calls"
    return out.stdout.strip(), calls.read_text().splitlines() if calls.exists() else []


def test_the_build_is_portable_and_cached_by_its_flags(tmp_path: Path) -> None:
    folder, calls = _build(tmp_path)
    [flags] = calls
    assert "-DGGML_NATIVE=OFF" in flags and "march=native" not in flags
    assert "-DGGML_AMX_INT8=OFF" in flags
    if os.uname().machine in ("x86_64", "amd64"):
        assert "-DGGML_AVX2=ON" in flags and "-DGGML_FMA=ON" in flags and "-DGGML_F16C=ON" in flags
    assert Path(folder).is_dir() and Path(folder).name.startswith("llama-cpp-python-0.3.36-")
    assert (Path(folder) / "BUILD_FLAGS").read_text().strip() == flags
    assert list(Path(folder).glob("llama_cpp_python-0.3.36-*.whl"))

    again, calls = _build(tmp_path)  # a second install: the cached wheel, no build
    assert again == folder and len(calls) == 1


def test_the_makefile_installs_llama_from_the_portable_cache() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "scripts/llama_wheel.sh" in makefile and "--no-index --find-links" in makefile
    assert "march=native" not in makefile
