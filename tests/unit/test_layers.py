"""The layout's import rules hold: imports point downward only (messages <- models <-
strategies <- pipeline <- engine <- api/cli), tools/store/retrieval import no model backend,
retrieval does not import the registry (the contracts in pyproject.toml, import-linter)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _lint_imports() -> subprocess.CompletedProcess[str]:
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert command, "import-linter is a dev dependency: pip install -e '.[dev]'"
    return subprocess.run([command], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_every_import_contract_is_kept() -> None:
    result = _lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout and "5 kept, 0 broken" in result.stdout


def test_an_upward_import_breaks_a_contract(tmp_path: Path) -> None:
    """The check can fail: a copy of the package whose messages module imports the engine."""
    copy = tmp_path / "toolwire"
    shutil.copytree(ROOT / "toolwire", copy)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    messages = copy / "messages.py"
    messages.write_text(messages.read_text() + "\nimport toolwire.engine  # noqa: E402\n")
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert command
    result = subprocess.run([command], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120, env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode != 0
    assert "toolwire.messages -> toolwire.engine" in result.stdout or "BROKEN" in result.stdout
