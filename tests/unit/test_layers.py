"""The layout's import rules hold (the contracts in pyproject.toml, import-linter): one layers
contract places every module of toolwire, from ``cli`` over ``api | worker | eval``,
``service``, ``engine``, ``pipeline``, ``answer``, ``strategies`` and the model backends down
to ``sources`` above ``tools`` and the shared types at the bottom; the model backends know
nothing of tools; the strategies do not import one another."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _lint_imports(root: Path = ROOT) -> subprocess.CompletedProcess[str]:
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert command, "import-linter is a dev dependency: pip install -e '.[dev]'"
    env = None if root == ROOT else {"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}
    return subprocess.run([command], cwd=root, capture_output=True, text=True, timeout=120,
                          env=env)


def _copy(tmp_path: Path) -> Path:
    """A copy of the package and its contracts, to break."""
    shutil.copytree(ROOT / "toolwire", tmp_path / "toolwire",
                    ignore=shutil.ignore_patterns("__pycache__", "*.json", "static"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path / "toolwire"


def test_every_import_contract_is_kept() -> None:
    result = _lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout and "3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(("module", "line", "broken"), [
    ("messages.py", "import toolwire.engine", "toolwire.messages -> toolwire.engine"),
    # the registry importing its sources would close the tools <-> sources circle again
    ("tools/registry.py", "import toolwire.sources.imports",
     "toolwire.tools.registry -> toolwire.sources.imports"),
    ("config.py", "import toolwire.sources", "toolwire.config -> toolwire.sources"),
    ("worker/tasks.py", "import toolwire.api.app", "toolwire.worker.tasks -> toolwire.api.app"),
    ("models/base.py", "import toolwire.tools", "toolwire.models.base -> toolwire.tools"),
])
def test_an_upward_import_breaks_a_contract(
    tmp_path: Path, module: str, line: str, broken: str
) -> None:
    """The check can fail: a copy of the package with one import that points the wrong way."""
    path = _copy(tmp_path) / module
    path.write_text(path.read_text() + f"\n{line}  # noqa: E402\n")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout and broken in result.stdout, result.stdout


def test_a_module_without_a_place_in_the_layers_breaks_the_contract(tmp_path: Path) -> None:
    """Every top-level module must be placed (``exhaustive``): a new one is not forgotten."""
    (_copy(tmp_path) / "newcomer.py").write_text('"""Nowhere yet."""\n')
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "toolwire.newcomer" in result.stdout + result.stderr
