"""The wheel carries the whole package: every module, and every data file (migrations, the
staged strategy's JSON, the playground's static files) through ``pyproject.toml``'s
package-data; ``toolwire --version`` prints pyproject's version. scripts/check_wheel.sh builds
and runs the real wheel (in CI)."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

from typer.testing import CliRunner

from toolwire.cli import app

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _package_files() -> set[Path]:
    package = ROOT / "toolwire"
    return {p.relative_to(package) for p in package.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


def test_every_file_that_is_not_a_module_of_a_package_is_package_data() -> None:
    package = ROOT / "toolwire"
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["toolwire"]
    declared = {p.relative_to(package) for pattern in patterns for p in package.glob(pattern)}
    modules = {f for f in _package_files()
               if f.suffix == ".py" and (package / f.parent / "__init__.py").is_file()}
    assert PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"] == ["toolwire*"]
    left_out = _package_files() - modules - declared
    assert not left_out, f"add to [tool.setuptools.package-data]: {sorted(map(str, left_out))}"


def test_version_prints_the_version_of_pyproject() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"toolwire {PYPROJECT['project']['version']}\n"


def test_the_wheel_check_is_a_valid_script() -> None:
    script = ROOT / "scripts" / "check_wheel.sh"
    assert script.stat().st_mode & 0o111
    assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0
