"""The real ``toolwire doctor`` on this machine: the embedded model, the shipped embedding
model, bubblewrap, a SQLite database in a temporary home. With the default configuration
every check it needs passes; with the database stopped (a closed port) it says so and exits 1.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

TIMEOUT_S = 300
CONFIGURED = ("TOOLWIRE_MODEL", "TOOLWIRE_DATABASE_URL", "TOOLWIRE_BROKER_URL", "TOOLWIRE_AUTH",
              "TOOLWIRE_SANDBOX_MODULES", "TOOLWIRE_TOOL_MODULES", "TOOLWIRE_SANDBOX_MODE")


def toolwire(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The installed ``toolwire`` beside this Python, on the default configuration (with
    ``env`` on top), its state in ``home``."""
    script = Path(sys.executable).with_name("toolwire")
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "toolwire.cli"]
    environment = {k: v for k, v in os.environ.items() if k not in CONFIGURED}
    environment.update(TOOLWIRE_HOME=str(home), **env)
    return subprocess.run([*command, *args], capture_output=True, text=True, cwd=home,
                          env=environment, timeout=TIMEOUT_S, check=False)


def test_doctor_on_this_machine_passes_every_check_it_needs(tmp_path: Path) -> None:
    assert toolwire(tmp_path, "db", "upgrade").returncode == 0
    done = toolwire(tmp_path, "doctor", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    checks = {c["name"]: c for c in json.loads(done.stdout)}
    for name in ("model", "embeddings", "database", "keys"):
        assert checks[name]["verdict"] == "ok", checks[name]
    assert checks["broker"]["verdict"] == "skipped"  # none configured
    assert checks["sources"]["verdict"] == "skipped"  # none imported
    assert checks["sandbox"]["verdict"] in ("ok", "warn")  # no configured tool needs it
    model = checks["model"]["detail"]
    assert model.startswith("local:smollm2-135m: loaded in")
    assert "tokens/s" in model and "no AMX" in model


def test_doctor_with_the_database_stopped_says_so_and_exits_1(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens once the socket is closed
    done = toolwire(tmp_path, "doctor", "--quick",
                    TOOLWIRE_DATABASE_URL=f"postgresql://toolwire@127.0.0.1:{port}/toolwire")
    assert done.returncode == 1, done.stdout + done.stderr
    [database] = [x for x in done.stdout.splitlines() if x.split()[2:3] == ["database"]]
    assert database.startswith("✗ FAIL") and "unreachable" in database
    assert "fix: start the database server" in database
    assert "✓ ok    model" in done.stdout
