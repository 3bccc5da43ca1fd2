"""Retrieval for a turn of a conversation (the last call's tools after the hits, read by the
benchmark as the pipeline reads them) and the tools a hit needs first."""

from __future__ import annotations

from typing import Any

import numpy as np

from toolwire.eval.retrieval import RetrievalCase, evaluate_retrieval
from toolwire.messages import Message, ToolCallRequest
from toolwire.retrieval import Ranking, ToolIndex
from toolwire.retrieval.context import last_call_tools, search_in_context
from toolwire.retrieval.index import _kth_best
from toolwire.retrieval.prerequisites import Prerequisites, prerequisites
from toolwire.tools import Tool
from toolwire.tools.registry import Registry


def _tool(name: str, description: str) -> Tool:
    return Tool(name=name, description=description,
                parameters={"type": "object", "properties": {}, "required": []})


TOOLS = [
    _tool("move_file", "Move a file from one folder into another folder."),
    _tool("move_money", "Move money between two bank accounts."),
    _tool("list_files", "List the files of the current folder."),
    _tool("send_message", "Send a message to a contact."),
    _tool("get_weather", "Get the weather of a city."),
]


def _index(ranking: Ranking | None = None) -> ToolIndex[Tool]:
    index: ToolIndex[Tool] = ToolIndex(embedder=None, ranking=ranking)
    index.add(TOOLS)
    return index


def _said(text: str, *calls: str) -> list[Message]:
    out = [Message(role="user", content=text)]
    if calls:
        out.append(Message(role="assistant", tool_calls=[
            ToolCallRequest(id=str(i), name=n, arguments={}) for i, n in enumerate(calls)]))
    return out


def test_the_last_calls_tools_are_read_from_the_history() -> None:
    history = [*_said("what's in my folder?", "list_files", "list_files"), *_said("thanks")]
    assert last_call_tools(history) == ["list_files"]
    assert last_call_tools([]) == []


def test_the_last_calls_tools_follow_the_hits() -> None:
    hits = search_in_context(_index(), "send a message", _said("weather?", "get_weather"), k=1)
    assert [h.tool.name for h in hits] == ["send_message", "get_weather"]
    assert hits[1].score == 0.0


def test_the_benchmark_offers_what_the_pipeline_offers_at_each_k() -> None:
    """At k=1 a case with a history finds the last call's tool after its top hit."""
    registry = Registry()
    for tool in TOOLS:
        registry.add_schema({"name": tool.name, "description": tool.description,
                             "parameters": tool.parameters})
    case = RetrievalCase(id="c/1", category="multi", query="send a message to Ann about it",
                         expected=frozenset({"send_message", "get_weather"}),
                         history=_said("weather in Oslo?", "get_weather"))
    alone = RetrievalCase(id="c/2", category="multi", query=case.query, expected=case.expected)
    report = evaluate_retrieval(ks=(1, 5), index=ToolIndex(embedder=None), registry=registry,
                                cases=[case, alone])
    found: dict[str, Any] = {o.case.id: o.found for o in report.outcomes}
    assert found["c/1"][1] == 1.0 and found["c/2"][1] == 0.5
    assert report.recall(1) == 0.5 and report.recall(5) == 1.0


CAR_AND_FILES = [
    _tool("send_message", "Send a message to a user."),
    _tool("get_user_id", "Get user ID from user name."),
    _tool("estimate_distance", "Estimate the distance between two cities."),
    _tool("get_zipcode_based_on_city", "Gets the zipcode based on the city."),
    _tool("cd", "Change the current working directory to the specified folder."),
    _tool("mv", "Move a file or directory from one location to another."),
    _tool("get_date", "Get the date of today."),
    _tool("book_table", "Book a table at a restaurant."),
]
_PARAMS = {
    "send_message": {"receiver_id": "User ID of the user to send the message to."},
    "estimate_distance": {"cityA": "The zipcode of the first city."},
    "mv": {"source": "Source name of the file. Must be local to the current directory."},
    "book_table": {"date": "The date of the booking."},
}
for _t in CAR_AND_FILES:
    for _p, _d in _PARAMS.get(_t.name, {}).items():
        _t.parameters["properties"][_p] = {"type": "string", "description": _d}


def test_prerequisites_are_getters_of_a_parameter_and_setters_of_the_current_state() -> None:
    assert prerequisites(CAR_AND_FILES) == {
        "send_message": ["get_user_id"],
        "estimate_distance": ["get_zipcode_based_on_city"],
        "mv": ["cd"],
        "book_table": ["get_date"],
    }


def test_prerequisites_kept_tool_by_tool_follow_adds_removals_and_replacements() -> None:
    """The index keeps them incrementally: a removed giver stops being needed, a replaced tool
    reads its new schema, and what it knows always equals a reading of the whole set."""
    known = Prerequisites()
    for tool in CAR_AND_FILES:
        known.add(tool)
    assert known.of("send_message") == ["get_user_id"] and known.of("unknown") == []
    known.remove("get_user_id")
    assert known.of("send_message") == []
    second_giver = _tool("fetch_user_id", "Look a user up.")
    known.add(second_giver)
    assert known.of("send_message") == ["fetch_user_id"]
    known.add(_tool("send_message", "Send a message (no parameters now)."))
    assert known.of("send_message") == []
    rest = [t for t in CAR_AND_FILES if t.name not in {"get_user_id", "send_message"}]
    expected = prerequisites([*rest, second_giver])
    assert {t.name: n for t in rest if (n := known.of(t.name))} == expected
    index: ToolIndex[Tool] = ToolIndex(embedder=None)
    index.add(CAR_AND_FILES)
    index.remove(["cd"])
    assert "cd" not in [h.tool.name for h in index.search("move the file report.pdf", k=3)]


def test_a_prerequisite_the_question_ranks_near_follows_its_tool_into_the_top_k() -> None:
    index: ToolIndex[Tool] = ToolIndex(embedder=None)
    index.add(CAR_AND_FILES)
    hits = [h.tool.name for h in index.search("move the file report.pdf to the folder", k=2)]
    assert hits == ["mv", "cd"]
    off: ToolIndex[Tool] = ToolIndex(embedder=None, ranking=Ranking(prerequisites=False))
    off.add(CAR_AND_FILES)
    assert "cd" not in [h.tool.name for h in off.search("move the file report.pdf", k=2)]


def test_a_prerequisite_ranked_below_the_depth_stays_out() -> None:
    """``prerequisite_depth × k`` is the floor: the k-th best score of the whole question."""
    scores = np.array([0.9, 0.1, -np.inf, 0.5, 0.3])
    assert _kth_best(scores, 2) == 0.5 and _kth_best(scores, 4) == -np.inf
    index: ToolIndex[Tool] = ToolIndex(embedder=None, ranking=Ranking(prerequisite_depth=1))
    index.add(CAR_AND_FILES)
    hits = [h.tool.name for h in index.search("move the file report.pdf to the folder", k=2)]
    assert hits[0] == "mv" and "cd" in hits  # "folder" ranks cd second on its own
