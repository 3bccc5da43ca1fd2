"""Reading the data that ships inside the ``bfcl-eval`` wheel, and its schemas as JSON Schema.

BFCL question files are JSON lines (``bfcl_eval/data/BFCL_v4_<category>.json``); each entry has
an ``id``, a ``question`` (a list of turns, each a list of ``{"role", "content"}`` messages) and a
``function`` list of OpenAI-style specs. Ground truths sit in ``data/possible_answer/`` under the
same file name, as ``{"id", "ground_truth": [{function_name: {arg: [accepted values]}}]}``.

BFCL's parameter schemas use Python, Java and JavaScript type names (``dict``, ``float``,
``tuple``, ``any``, ``String``, ``HashMap``...); :func:`bfcl_to_json_schema` maps them to JSON
Schema so the specs validate and register like any other tool.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

#: BFCL type name (lower-cased) → JSON Schema type; ``None`` means "any value" (no ``type``).
TYPE_MAP: dict[str, str | None] = {
    "string": "string",
    "str": "string",
    "char": "string",
    "integer": "integer",
    "int": "integer",
    "long": "integer",
    "short": "integer",
    "byte": "integer",
    "float": "number",
    "double": "number",
    "number": "number",
    "boolean": "boolean",
    "bool": "boolean",
    "array": "array",
    "list": "array",
    "tuple": "array",
    "arraylist": "array",
    "set": "array",
    "dict": "object",
    "object": "object",
    "hashmap": "object",
    "map": "object",
    "null": "null",
    "any": None,
    "": None,
}

#: Keywords whose value is a sub-schema, or a name → sub-schema mapping, or a list of sub-schemas.
_SUBSCHEMA_KEYS = ("items", "additionalProperties", "not", "contains")
_SCHEMA_MAP_KEYS = ("properties", "patternProperties", "$defs", "definitions")
_SCHEMA_LIST_KEYS = ("anyOf", "oneOf", "allOf", "prefixItems")


class BfclDataMissing(ImportError):
    """The ``bfcl-eval`` package (which ships the data) is not installed."""


def bfcl_to_json_schema(schema: Any) -> dict[str, Any]:
    """A copy of a BFCL parameter schema with its type names mapped to JSON Schema.

    ``dict``→``object``, ``float``→``number``, ``tuple``→``array``, ``any``→no ``type``
    (see :data:`TYPE_MAP`; an unknown type name is dropped too, so the value is unconstrained).
    Nested ``properties``, ``items``, ``anyOf``... are converted recursively; a property that
    happens to be *named* ``type`` is left alone. A missing or empty schema becomes an empty
    object schema, and the top level is always ``type: object``.
    """
    converted = _convert(schema) if isinstance(schema, dict) else {}
    converted["type"] = "object"
    converted.setdefault("properties", {})
    if not isinstance(converted.get("required", []), list):
        converted.pop("required")
    return converted


def _convert(node: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "type":
            mapped = _convert_type(value)
            if mapped is not None:
                out["type"] = mapped
        elif key in _SUBSCHEMA_KEYS and isinstance(value, dict):
            out[key] = _convert(value)
        elif key in _SCHEMA_MAP_KEYS and isinstance(value, dict):
            out[key] = {k: _convert(v) if isinstance(v, dict) else {} for k, v in value.items()}
        elif key in _SCHEMA_LIST_KEYS and isinstance(value, list):
            out[key] = [_convert(v) if isinstance(v, dict) else {} for v in value]
        else:
            out[key] = value
    return out


def _convert_type(value: Any) -> str | list[str] | None:
    if isinstance(value, list):
        types = [t for t in (_convert_type(v) for v in value) if isinstance(t, str)]
        return types or None
    if not isinstance(value, str):
        return None
    return TYPE_MAP.get(value.strip().lower())


def data_dir() -> Path:
    """``bfcl_eval/data`` inside the installed wheel (found without importing the package)."""
    spec = importlib.util.find_spec("bfcl_eval")
    if spec is None or not spec.submodule_search_locations:
        raise BfclDataMissing('BFCL data needs "bfcl-eval": pip install --no-deps bfcl-eval')
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of a JSON-lines file."""
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def question_file(category: str) -> Path:
    return data_dir() / f"BFCL_v4_{category}.json"


def answer_file(category: str) -> Path:
    return data_dir() / "possible_answer" / f"BFCL_v4_{category}.json"


def load_questions(category: str) -> list[dict[str, Any]]:
    """The entries of one category; ``FileNotFoundError`` names the file for an unknown one."""
    return read_jsonl(question_file(category))


def load_answers(category: str) -> dict[str, list[dict[str, Any]]]:
    """Ground truth per question id (empty for categories without ground truth)."""
    path = answer_file(category)
    if not path.is_file():
        return {}
    return {row["id"]: row["ground_truth"] for row in read_jsonl(path)}


def question_categories() -> list[str]:
    """Every category with a question file (``simple_python``, ``live_multiple``...)."""
    names = sorted(p.stem.removeprefix("BFCL_v4_") for p in data_dir().glob("BFCL_v4_*.json"))
    return [n for n in names if n != "format_sensitivity"]


def user_text(entry: dict[str, Any]) -> str:
    """The user's words of an entry's first turn, joined (what a retriever should see)."""
    turns = entry.get("question") or []
    first = turns[0] if turns and isinstance(turns[0], list) else turns
    parts = [
        str(m.get("content") or "")
        for m in first
        if isinstance(m, dict) and m.get("role") == "user"
    ]
    return "\n".join(p for p in parts if p.strip())
