"""Text from a model is data: never evaluated, never a shell command, a path or SQL.

Two halves: a scan of toolwire's source for the constructs that could turn text into code
(``eval``/``exec``/``compile`` of a non-literal, ``os.system``, a shell, SQL built by string
formatting), each occurrence failing unless it is allowed below with its reason; and a run of a
scripted model whose call arguments are SQL-ish, path-ish and shell-ish, through the engine and
the API on SQLite, which must come back verbatim while nothing else happens.
"""

from __future__ import annotations

import ast
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import inspect

import toolwire
from tests.conftest import sqlite_url
from tests.unit.test_api import settings_for, start
from toolwire.api.app import create_app
from toolwire.config import Settings
from toolwire.engine import Engine
from toolwire.messages import Completion, ToolCallRequest
from toolwire.models.scripted import Request, ScriptedModel
from toolwire.retrieval import ToolIndex
from toolwire.store.db import Database
from toolwire.tools import Registry

SOURCE = Path(toolwire.__file__).parent

ALLOWED: dict[tuple[str, str], str] = {
    ("store/db.py", "cursor.execute(f'PRAGMA {pragma}')"):
        "the pragmas are the module's own constants (a fixed tuple), never request or model "
        "text; SQLite takes no parameters in PRAGMA statements",
}
"""(file under toolwire/, the call as ``ast.unparse`` writes it) → why it is safe."""

_CODE_BUILTINS = {"eval", "exec", "compile"}
_SHELL_CALLS = {("os", "system"), ("os", "popen"), ("asyncio", "create_subprocess_shell")}
_SQL_CALLS = {"execute", "exec", "exec_driver_sql", "executescript", "executemany", "text"}


def _dotted(node: ast.expr) -> tuple[str, ...]:
    if isinstance(node, ast.Name):
        return (node.id,)
    if isinstance(node, ast.Attribute):
        return (*_dotted(node.value), node.attr)
    return ("?",)


def _built_string(node: ast.expr) -> bool:
    """A string built at run time by formatting: an f-string, ``%``, ``+`` or ``.format``."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        return any(isinstance(side, (ast.Constant, ast.JoinedStr)) and
                   (not isinstance(side, ast.Constant) or isinstance(side.value, str))
                   for side in (node.left, node.right)) or _built_string(node.left)
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format")


def _literal(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes))


def findings(tree: ast.AST) -> Iterator[tuple[ast.Call, str]]:
    """Each call that could run text as code, a shell command or SQL, with what it is."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        first = node.args[0] if node.args else None
        code = name in {(b,) for b in _CODE_BUILTINS} | {("builtins", b) for b in _CODE_BUILTINS}
        if code and (first is None or not _literal(first)):
            yield node, f"{name[-1]}() of a non-literal"
        if name[-2:] in _SHELL_CALLS:
            yield node, "a shell command"
        for keyword in node.keywords:
            shell = keyword.value
            if keyword.arg == "shell" and not (isinstance(shell, ast.Constant) and not shell.value):
                yield node, "shell=True"
        if name[-1] in _SQL_CALLS and first is not None and _built_string(first):
            yield node, "SQL built by string formatting"


def test_the_scan_finds_what_it_looks_for() -> None:
    bad = '''
eval(text)
exec(compile(source, "x", "exec"))
os.system("ls " + path)
subprocess.run(cmd, shell=True)
session.execute(text(f"SELECT * FROM message WHERE id = '{value}'"))
cursor.execute("DELETE FROM t WHERE a = %s" % value)
connection.exec_driver_sql("DROP TABLE " + name)
text("SELECT {}".format(value))
'''
    good = '''
eval("1 + 1")
re.compile(pattern)
llm.eval(tokens)
subprocess.run(["ls", path], shell=False)
session.execute(text("SELECT 1"), {"value": value})
session.exec(select(Message).where(Message.id == value))
'''
    kinds = [kind for _, kind in findings(ast.parse(bad))]
    assert kinds.count("SQL built by string formatting") == 4
    assert {"eval() of a non-literal", "exec() of a non-literal", "compile() of a non-literal",
            "a shell command", "shell=True"} <= set(kinds)
    assert list(findings(ast.parse(good))) == []


def test_no_source_runs_text_as_code_shell_or_sql() -> None:
    found: dict[tuple[str, str], str] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node, kind in findings(tree):
            found[(path.relative_to(SOURCE).as_posix(), ast.unparse(node))] = kind
    unexplained = {f"{file}: {call} ({kind})" for (file, call), kind in found.items()
                   if (file, call) not in ALLOWED}
    assert not unexplained, "text could run as code; remove it or allow it with a reason"
    assert set(ALLOWED) <= set(found), "an allowance no longer needed: remove it"


# -- hostile arguments, end to end ----------------------------------------------------------
@dataclass
class Hostile:
    sql: str
    path: str
    shell: str

    def arguments(self) -> dict[str, str]:
        return {"title": self.sql, "path": self.path, "body": self.shell}


@pytest.fixture
def hostile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Hostile:
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    canary = tmp_path / "shell-ran"
    return Hostile(
        sql="'; DROP TABLE message; --",
        path="../../etc/passwd",
        shell=f"$(rm -rf /) `touch {canary}`; touch {canary} && $(touch {canary})",
    )


SAVED: list[dict[str, str]] = []


def save_note(title: str, path: str, body: str) -> dict[str, str]:
    """Save a note (kept in memory).

    Args:
        title: the note's title
        path: where it belongs
        body: the text
    """
    note = {"title": title, "path": path, "body": body}
    SAVED.append(note)
    return note


def engine_for(hostile: Hostile, settings: Settings | None = None) -> Engine:
    def respond(request: Request) -> Completion:
        if request.tools:
            return Completion(tool_calls=[ToolCallRequest(
                id="call_1", name="save_note", arguments=hostile.arguments())])
        return Completion(text=f"Saved {hostile.sql} at {hostile.path}: {hostile.shell}")

    registry = Registry()
    registry.use_index(ToolIndex(embedder=None))
    registry.register(save_note)
    return Engine(registry, model=ScriptedModel(respond), settings=settings)


def nothing_else_happened(hostile: Hostile, tmp_path: Path) -> None:
    assert not (tmp_path / "shell-ran").exists()
    assert list((tmp_path / "cwd").iterdir()) == []  # no file made from the path-ish text
    assert Path("/etc/passwd").exists()


def test_the_engine_keeps_hostile_arguments_as_data(hostile: Hostile, tmp_path: Path) -> None:
    SAVED.clear()
    run = engine_for(hostile).run("save a note about the quarterly figures")
    [call] = run.calls
    assert call.status == "ok"
    assert call.arguments == call.result == hostile.arguments() == SAVED[0]
    nothing_else_happened(hostile, tmp_path)


@dataclass
class Api:
    client: httpx.AsyncClient
    database: Database


@pytest.fixture
async def api(hostile: Hostile, tmp_path: Path) -> AsyncIterator[Api]:
    settings = settings_for(tmp_path)
    app = create_app(engine=engine_for(hostile, settings=settings),
                     database_url=sqlite_url(tmp_path), settings=settings)
    async for client in start(app):
        yield Api(client=client, database=app.state.toolwire.database)


async def test_the_api_stores_and_returns_hostile_arguments_verbatim(
    api: Api, hostile: Hostile, tmp_path: Path,
) -> None:
    SAVED.clear()
    prompt = f"save a note {hostile.sql} {hostile.path} {hostile.shell}"
    response = await api.client.post("/execute", json={"prompt": prompt})
    assert response.status_code == 200, response.text
    [call] = response.json()["calls"]
    assert call["arguments"] == call["result"] == hostile.arguments()

    detail = (await api.client.get(f"/interactions/{response.json()['interaction_id']}")).json()
    [asked, answered] = detail["messages"]
    assert asked["content"] == prompt
    assert answered["tool_calls"][0]["arguments"] == hostile.arguments()
    assert answered["content"] == response.json()["answer"]
    stored = (await api.client.get(f"/tool-calls/{call['id']}")).json()
    assert stored["arguments"] == stored["result"] == hostile.arguments()

    tables = set(inspect(api.database.engine).get_table_names())
    assert {"interaction", "message", "tool_call"} <= tables
    listed = (await api.client.get("/interactions")).json()
    assert listed["total"] == 1
    nothing_else_happened(hostile, tmp_path)
