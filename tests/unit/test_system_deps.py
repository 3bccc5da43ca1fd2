"""``scripts/system_deps.sh``: a package it cannot install is a warning for a developer and an
error under ``CI=true``. No apt-get on ``PATH`` stands for a machine it cannot install on."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "system_deps.sh"


def _run_without_apt(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    if Path("/usr/bin/chromium").exists():
        pytest.skip("chromium is installed: nothing is missing")
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    env["PATH"] = str(tmp_path)  # an empty folder: no apt-get, no sudo
    if ci is not None:
        env["CI"] = ci
    bash = shutil.which("bash")
    assert bash is not None
    return subprocess.run([bash, str(SCRIPT), "chromium"], env=env, capture_output=True,
                          text=True, check=False)


def test_outside_ci_a_missing_package_is_a_warning(tmp_path: Path) -> None:
    result = _run_without_apt(tmp_path, ci=None)
    assert result.returncode == 0
    assert "warning:" in result.stderr and "test_playground.py is skipped" in result.stderr


def test_under_ci_a_missing_package_fails(tmp_path: Path) -> None:
    result = _run_without_apt(tmp_path, ci="true")
    assert result.returncode == 1
    assert "error:" in result.stderr and "chromium" in result.stderr
