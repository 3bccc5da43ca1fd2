"""``toolwire doctor``: one check per part, each ok / warn / fail / skipped with a fix, and the
command exits 1 when a part the configuration needs is broken.

The database, the sources' servers and the sandbox are real (SQLite files, closed ports, a
local HTTP server, a missing executable); the model is the scripted fake (the embedded one is
exercised by tests/integration/test_doctor.py), and the CLI tests use a small hash embedder
(the real one takes seconds to load)."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import text
from typer.testing import CliRunner

from tests.unit.test_retrieval import HashEmbedder
from toolwire.cli import app
from toolwire.cli.doctor import (
    Check,
    check_broker,
    check_database,
    check_keys,
    check_model,
    check_sandbox,
    check_sources,
    line,
)
from toolwire.config import Settings
from toolwire.messages import Completion, Usage
from toolwire.models.scripted import Request, ScriptedModel
from toolwire.store import data
from toolwire.store.db import Database
from toolwire.store.migrate import head_revision, upgrade
from toolwire.store.tables import ToolSource
from toolwire.tools.bwrap import isolation_problem

AMX_INFO = ("CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | AVX512 = 0 | AMX_INT8 = 1 | "
            "LLAMAFILE = 1 | ")
PORTABLE_INFO = "CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | FMA = 1 | AVX512 = 0 | REPACK = 1 | "


class BuiltModel(ScriptedModel):
    """Writes as many tokens as asked and reports llama.cpp's system info of a build."""

    system_info = PORTABLE_INFO

    def __init__(self) -> None:
        super().__init__(self._answer)

    @staticmethod
    def _answer(request: Request) -> Completion:
        n = request.settings.max_tokens
        return Completion(text=" ".join(["word"] * n), usage=Usage(completion_tokens=n))

    def runtime_info(self) -> dict[str, Any]:
        return {"system_info": self.system_info}


class AmxModel(BuiltModel):
    system_info = AMX_INFO


def built_model() -> ScriptedModel:
    return BuiltModel()


def amx_model() -> ScriptedModel:
    return AmxModel()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'toolwire.db'}"


@pytest.fixture
def migrated(tmp_path: Path) -> Iterator[Database]:
    database = Database(_sqlite(tmp_path))
    upgrade(database)
    yield database
    database.dispose()


# -- the model ------------------------------------------------------------------------------
def test_model_loads_and_its_generation_is_timed() -> None:
    check = check_model(Settings(model="scripted:tests.unit.test_doctor:built_model"))
    assert check.verdict == "ok"
    assert "16 tokens in" in check.detail and "tokens/s" in check.detail
    assert "AVX2 FMA" in check.detail and "no AMX" in check.detail


def test_quick_loads_the_model_without_timing_it() -> None:
    check = check_model(Settings(model="scripted:tests.unit.test_doctor:built_model"),
                        timed=False)
    assert check.verdict == "ok" and "tokens" not in check.detail


def test_a_llama_cpp_built_with_amx_fails_with_the_portable_build_as_fix() -> None:
    check = check_model(Settings(model="scripted:tests.unit.test_doctor:amx_model"), timed=False)
    assert check.verdict == "fail"
    assert "AMX_INT8" in check.detail
    assert "make install" in check.fix


def test_a_missing_model_file_fails(tmp_path: Path) -> None:
    check = check_model(Settings(model=f"local:{tmp_path / 'none.gguf'}"))
    assert check.verdict == "fail"
    assert "no GGUF model file" in check.detail and "TOOLWIRE_MODEL" in check.fix


def test_an_unknown_model_string_fails() -> None:
    check = check_model(Settings(model="nonsense"))
    assert check.verdict == "fail" and "unknown model" in check.detail


# -- the sandbox ----------------------------------------------------------------------------
MISSING_BWRAP = "no-such-bwrap-for-doctor"


def test_a_missing_sandbox_no_tool_needs_is_a_warning() -> None:
    check = check_sandbox(Settings(), bwrap=MISSING_BWRAP)
    assert check.verdict == "warn"
    assert "not installed" in check.detail and "apt-get install bubblewrap" in check.fix


def test_a_missing_sandbox_fails_where_sandboxed_tools_are_configured() -> None:
    settings = Settings(sandbox_modules=["tests.unit.hostile_tools"])
    check = check_sandbox(settings, bwrap=MISSING_BWRAP)
    assert check.verdict == "fail" and "TOOLWIRE_SANDBOX_MODE=weak" in check.fix


def test_weak_mode_makes_a_missing_sandbox_a_warning() -> None:
    settings = Settings(sandbox_modules=["tests.unit.hostile_tools"], sandbox_mode="weak")
    check = check_sandbox(settings, bwrap=MISSING_BWRAP)
    assert check.verdict == "warn" and "not isolated" in check.detail


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
def test_bubblewrap_that_runs_is_ok() -> None:
    problem = asyncio.run(isolation_problem("bwrap"))
    check = check_sandbox(Settings())
    assert (check.verdict == "ok") == (problem is None), problem


# -- the database ---------------------------------------------------------------------------
def test_a_stopped_database_fails() -> None:
    url = f"postgresql://toolwire:secret@127.0.0.1:{_closed_port()}/toolwire"
    check, database = check_database(Settings(database_url=url))
    assert database is None
    assert check.verdict == "fail"
    assert "unreachable" in check.detail and "refused" in check.detail
    assert "secret" not in check.detail
    assert "TOOLWIRE_DATABASE_URL" in check.fix


def test_a_migrated_database_is_ok(tmp_path: Path, migrated: Database) -> None:
    check, database = check_database(Settings(database_url=migrated.url))
    assert database is not None
    database.dispose()
    assert check.verdict == "ok" and str(head_revision()) in check.detail


def test_a_missing_sqlite_file_is_reported_not_created(tmp_path: Path) -> None:
    check, database = check_database(Settings(home=tmp_path))
    assert database is None
    assert check.verdict == "warn" and "toolwire db upgrade" in check.fix
    assert not (tmp_path / "toolwire.db").exists()


def test_an_empty_and_a_behind_database_need_an_upgrade(tmp_path: Path) -> None:
    url = _sqlite(tmp_path)
    Database(url).ping()  # the file, no tables
    empty, _ = check_database(Settings(database_url=url))
    assert empty.verdict == "warn" and "empty" in empty.detail
    database = Database(url)
    upgrade(database, "0001")
    database.dispose()
    behind, _ = check_database(Settings(database_url=url))
    assert behind.verdict == "warn" and "behind" in behind.detail
    assert behind.fix.startswith("toolwire db upgrade")


def test_a_revision_this_toolwire_does_not_know_fails(migrated: Database) -> None:
    with migrated.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'from_the_future'"))
    check, database = check_database(Settings(database_url=migrated.url))
    assert database is None
    assert check.verdict == "fail" and "from_the_future" in check.detail


# -- the broker and the keys ----------------------------------------------------------------
def test_no_broker_is_skipped_not_failed() -> None:
    check = check_broker(Settings())
    assert check.verdict == "skipped"


def test_a_broker_that_does_not_answer_fails() -> None:
    check = check_broker(Settings(broker_url=f"redis://:pw@127.0.0.1:{_closed_port()}/0"))
    assert check.verdict == "fail" and "unreachable" in check.detail
    assert "pw" not in check.detail and "redis-server" in check.fix


def test_keys_required_and_none_exists_fails_then_a_key_makes_it_ok(migrated: Database) -> None:
    from toolwire.api.auth import create_key

    settings = Settings(auth="required")
    missing = check_keys(settings, migrated)
    assert missing.verdict == "fail" and "toolwire keys create" in missing.fix
    migrated.write_sync(lambda s: create_key(s, owner="ops"))
    assert check_keys(settings, migrated).verdict == "ok"
    assert "1 live keys" in check_keys(settings, migrated).detail


def test_keys_auto_without_a_key_is_ok_and_off_is_a_warning(migrated: Database) -> None:
    auto = check_keys(Settings(), migrated)
    assert auto.verdict == "ok" and "loopback" in auto.detail
    off = check_keys(Settings(auth="off"), migrated)
    assert off.verdict == "warn" and "TOOLWIRE_AUTH" in off.fix


# -- the imported sources -------------------------------------------------------------------
class _Answer(BaseHTTPRequestHandler):
    def do_HEAD(self) -> None:
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/api"
    httpd.shutdown()
    httpd.server_close()


def _save(database: Database, **fields: Any) -> None:
    database.write_sync(lambda s: data.save_tool_source(session=s, source=ToolSource(**fields)))


def test_no_imported_source_is_skipped(migrated: Database) -> None:
    [check] = check_sources(Settings(), migrated)
    assert check.verdict == "skipped"


def test_each_source_is_reached_through_the_guarded_client(
    migrated: Database, server: str
) -> None:
    closed = f"http://127.0.0.1:{_closed_port()}"
    _save(migrated, kind="openapi", label="openapi:Up", document={"openapi": "3.0.0"},
          options={"base_url": server, "allow_private": True})
    _save(migrated, kind="openapi", label="openapi:Down", document={"openapi": "3.0.0"},
          options={"base_url": closed, "allow_private": True})
    _save(migrated, kind="openapi", label="openapi:Internal",
          document={"openapi": "3.0.0", "servers": [{"url": server}]})
    checks = {c.name: c for c in check_sources(Settings(), migrated)}
    assert checks["source openapi:Up"].verdict == "ok"
    assert checks["source openapi:Down"].verdict == "fail"
    assert "unreachable" in checks["source openapi:Down"].detail
    assert "start its server" in checks["source openapi:Down"].fix
    internal = checks["source openapi:Internal"]  # not imported with allow_private
    assert internal.verdict == "fail" and "allow_private" in internal.fix


def test_a_stdio_mcp_server_is_found_not_started(migrated: Database) -> None:
    _save(migrated, kind="mcp", label="mcp:python", location="python3 -m some_server")
    _save(migrated, kind="mcp", label="mcp:gone", location="no-such-mcp-server --stdio")
    checks = {c.name: c for c in check_sources(Settings(), migrated)}
    assert checks["source mcp:python"].verdict == "ok"
    assert "not started" in checks["source mcp:python"].detail
    assert checks["source mcp:gone"].verdict == "fail"


# -- the command ----------------------------------------------------------------------------
@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOOLWIRE_MODEL", "scripted:tests.unit.test_doctor:built_model")
    monkeypatch.setattr("toolwire.retrieval.embeddings.default_embedder", HashEmbedder)


def test_json_lists_every_check_and_a_stopped_database_exits_1(
    scripted: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOOLWIRE_DATABASE_URL", f"postgresql://u@127.0.0.1:{_closed_port()}/x")
    result = CliRunner().invoke(app, ["doctor", "--json"])
    assert result.exit_code == 1, result.output
    rows = json.loads(result.stdout)
    assert [r["name"] for r in rows] == ["model", "embeddings", "sandbox", "database", "broker",
                                         "keys", "sources"]
    assert all(set(r) == {"name", "verdict", "detail", "fix"} for r in rows)
    verdicts = {r["name"]: r["verdict"] for r in rows}
    assert verdicts["database"] == "fail" and verdicts["model"] == "ok"
    assert verdicts["broker"] == "skipped" and verdicts["sources"] == "skipped"


def test_a_healthy_configuration_exits_0_with_one_line_per_check(
    scripted: None, monkeypatch: pytest.MonkeyPatch, migrated: Database
) -> None:
    monkeypatch.setenv("TOOLWIRE_DATABASE_URL", migrated.url)
    result = CliRunner().invoke(app, ["doctor", "--quick"])
    assert result.exit_code == 0, result.output
    *lines, summary = result.stdout.splitlines()
    assert [x.split()[2] for x in lines] == ["model", "embeddings", "sandbox", "database",
                                             "broker", "keys", "sources"]
    assert lines[3].startswith("✓ ok") and "reachable" in lines[3]
    assert "0 fail" in summary


def test_a_line_shows_the_verdict_the_detail_as_written_and_the_fix() -> None:
    console = Console(record=True, width=200)
    console.print(line(Check(name="database", verdict="fail", detail="unreachable [port 1]",
                             fix="start it")))
    shown = console.export_text().strip()
    assert shown.startswith("✗ FAIL  database")
    assert "unreachable [port 1]" in shown and shown.endswith("fix: start it")
