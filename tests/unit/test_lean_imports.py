"""What ``toolwire serve`` does not need is not imported by it: the ``mcp`` SDK (15 MB
resident) comes in when an MCP source is first reached or ``toolwire mcp serve`` starts."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path


def _modules_after(code: str, tmp_path: Path) -> set[str]:
    """The top-level packages imported by ``code``, run in a fresh interpreter."""
    script = textwrap.dedent(code) + "\nimport sys\nprint(' '.join(sys.modules))\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True, timeout=120, env=_env(tmp_path))
    return {name.partition(".")[0] for name in done.stdout.split()}


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "TOOLWIRE_HOME": str(tmp_path)}


def test_the_api_does_not_import_the_mcp_sdk(tmp_path: Path) -> None:
    modules = _modules_after(f"""
        import toolwire.cli.serve, toolwire.sources, toolwire.sources.saved
        from toolwire.api.app import create_app
        from toolwire.service.registry import service_registry
        create_app(database_url="sqlite:///{tmp_path / 'db.sqlite'}")
    """, tmp_path)
    assert "toolwire" in modules
    assert "mcp" not in modules


def test_mcp_sources_import_the_sdk_when_used(tmp_path: Path) -> None:
    modules = _modules_after(f"""
        from toolwire.sources import SourceError, add_mcp
        from toolwire.tools.registry import Registry
        try:
            add_mcp(Registry(), [{sys.executable!r}, "-c", "raise SystemExit(3)"], timeout=10)
        except SourceError:
            pass
    """, tmp_path)
    assert "mcp" in modules
