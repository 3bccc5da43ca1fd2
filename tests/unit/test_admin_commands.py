"""``toolwire keys ...`` and ``toolwire approvals ...`` against a real database."""

from __future__ import annotations

import importlib
import json
import sys
import uuid
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from typer.testing import CliRunner

from toolwire.cli import app
from toolwire.config import get_settings
from toolwire.run import CallResult, Run
from toolwire.store import data
from toolwire.store.data import Lease
from toolwire.store.migrate import opened
from toolwire.store.tables import InteractionCreate
from toolwire.tools.registry import _DECLARED

TOOLS = "tests.unit.approval_tools"


@pytest.fixture
def shredder() -> Iterator[ModuleType]:
    """The declared approval tool, undeclared afterwards (declarations are process-wide)."""
    module = importlib.import_module(TOOLS)
    yield module
    _DECLARED[:] = [d for d in _DECLARED if d[0].__module__ != TOOLS]
    sys.modules.pop(TOOLS, None)


@pytest.fixture
def env(
    database_url: str, tmp_path, monkeypatch: pytest.MonkeyPatch, shredder: ModuleType
) -> Iterator[str]:
    monkeypatch.setenv("TOOLWIRE_HOME", str(tmp_path))
    monkeypatch.setenv("TOOLWIRE_DATABASE_URL", database_url)
    monkeypatch.setenv("TOOLWIRE_TOOL_MODULES", f'["{TOOLS}"]')
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def waiting_call(url: str, name: str = "contract.pdf") -> tuple[uuid.UUID, uuid.UUID]:
    """A stored prompt whose one call waits for approval: (call id, prompt id)."""
    with opened(url) as database:
        def store(s):  # type: ignore[no-untyped-def]
            interaction = data.create_interaction(session=s, interaction_in=InteractionCreate())
            message = data.add_user_message(session=s, interaction_id=interaction.id,
                                            content=f"shred {name}",
                                            lease=Lease(owner="t", seconds=30))
            reply = data.open_reply(session=s, message=message)
            call = CallResult(id="call_1", name="shred_document", arguments={"name": name},
                              status="pending_approval")
            row = data.add_tool_call(session=s, message_id=reply.id, call=call)
            data.finish_message(session=s, message=message, reply=reply,
                                run=Run(prompt=message.content, calls=[call], answer="waiting"))
            return row.id, message.id
        return database.write_sync(store)


def status_of(url: str, message_id: uuid.UUID) -> str:
    with opened(url) as database:
        message = database.read_sync(lambda s: data.get_message(session=s, message_id=message_id))
        assert message is not None
        return message.status


def test_approvals_list_approve_and_reject(env: str, shredder: ModuleType) -> None:
    runner = CliRunner()
    first, first_prompt = waiting_call(env, "contract.pdf")
    second, second_prompt = waiting_call(env, "will.pdf")
    assert status_of(env, first_prompt) == "awaiting_approval"
    listed = runner.invoke(app, ["approvals", "list"])
    assert listed.exit_code == 0 and str(first) in listed.output and str(second) in listed.output

    approved = runner.invoke(app, ["approvals", "approve", str(first), "--by", "ops"])
    assert approved.exit_code == 0, approved.output
    assert shredder.SHREDDED == ["contract.pdf"] and "shredded contract.pdf" in approved.output
    assert status_of(env, first_prompt) == "done"

    rejected = runner.invoke(app, ["approvals", "reject", str(second), "--reason", "keep it"])
    assert rejected.exit_code == 0 and "was not run" in rejected.output
    assert shredder.SHREDDED == ["contract.pdf"] and status_of(env, second_prompt) == "done"

    again = runner.invoke(app, ["approvals", "approve", str(second)])
    assert again.exit_code == 1 and "not waiting for approval" in again.output
    assert runner.invoke(app, ["approvals", "approve", "nope"]).exit_code == 1
    assert "no tool call is waiting" in runner.invoke(app, ["approvals", "list"]).output


def test_keys_create_list_revoke(env: str) -> None:
    runner = CliRunner()
    created = runner.invoke(app, ["keys", "create", "--owner", "alice", "--rate", "5"])
    assert created.exit_code == 0, created.output
    key = created.output.split()[0]
    assert key.startswith("tw_") and len(key) > 40
    listed = runner.invoke(app, ["keys", "list", "--json"])
    assert key not in listed.output and '"owner": "alice"' in listed.output
    assert '"rate_per_minute": 5' in listed.output
    revoked = runner.invoke(app, ["keys", "revoke", key[:10]])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert runner.invoke(app, ["keys", "revoke", "tw_nothing"]).exit_code == 1
    assert runner.invoke(app, ["keys", "create", "--owner", " "]).exit_code == 1
    with opened(env) as database:
        from toolwire.api.auth import find_key

        assert database.read_sync(lambda s: find_key(s, key)) is None


def test_keys_create_admin_and_list_shows_it(env: str) -> None:
    runner = CliRunner()
    made = runner.invoke(app, ["keys", "create", "--owner", "ops", "--admin"])
    assert made.exit_code == 0 and "admin key" in made.output, made.output
    assert runner.invoke(app, ["keys", "create", "--owner", "dev"]).exit_code == 0
    listed = json.loads(runner.invoke(app, ["keys", "list", "--json"]).output)
    assert {(k["owner"], k["admin"]) for k in listed} == {("ops", True), ("dev", False)}
    table = runner.invoke(app, ["keys", "list"]).output.splitlines()
    assert [("admin" in line.split()) for line in table] == [True, False]


def shred_model() -> Any:
    """``toolwire run -m scripted:tests.unit.test_admin_commands:shred_model``."""
    from toolwire.models.base import Completion, ToolCallRequest
    from toolwire.models.scripted import Request, ScriptedModel

    def answer(request: Request) -> Completion:
        if request.tools:
            name = request.messages[-1].content.split()[-1]
            return Completion(tool_calls=[ToolCallRequest(
                id="", name="shred_document", arguments={"name": name})])
        return Completion(text="Shredded.")

    return ScriptedModel(answer)


@pytest.mark.parametrize("approve", [False, True])
def test_run_asks_for_approve_before_a_tool_that_needs_it(
    env: str, shredder: ModuleType, approve: bool
) -> None:
    model = "scripted:tests.unit.test_admin_commands:shred_model"
    args = ["run", "-m", model, "--json", "shred document contract.pdf"]
    result = CliRunner().invoke(app, args + (["--approve"] if approve else []))
    assert result.exit_code == 0, result.output
    call = json.loads(result.stdout)["calls"][0]
    if approve:
        assert call["status"] == "ok" and shredder.SHREDDED == ["contract.pdf"]
    else:
        assert call["status"] == "pending_approval" and shredder.SHREDDED == []
