"""The few prompts toolwire writes, kept short: a 135M model on 2 cores reads ~250 tokens/s."""

from __future__ import annotations

import json
from typing import Any

from toolwire.tools import Tool

CALL_OPEN = "<tool_call>\n"
CALL_CLOSE = "\n</tool_call>"
_MAX_ENUM_SHOWN = 8


def type_hint(schema: dict[str, Any]) -> str:
    """A compact, Python-like rendering of a parameter schema (``"USD"|"CAD"``, ``number``)."""
    if "enum" in schema:
        values = [json.dumps(v) for v in schema["enum"][:_MAX_ENUM_SHOWN]]
        more = "|..." if len(schema["enum"]) > _MAX_ENUM_SHOWN else ""
        return "|".join(values) + more
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return "|".join(type_hint(s) for s in schema[key] if isinstance(s, dict))
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        return "|".join(str(k) for k in kind)
    if kind == "array" and isinstance(schema.get("items"), dict):
        return f"list[{type_hint(schema['items'])}]"
    return str(kind)


def signature(tool: Tool) -> str:
    """``name(a: number, b: "x"|"y" = "x")`` for one tool."""
    props: dict[str, Any] = tool.parameters.get("properties", {})
    required = set(tool.parameters.get("required", []))
    parts = []
    for name, schema in props.items():
        text = f"{name}: {type_hint(schema)}"
        if name not in required:
            default = schema.get("default")
            text += f" = {json.dumps(default)}" if default is not None else " = None"
        parts.append(text)
    return f"{tool.name}({', '.join(parts)})"


def tool_line(tool: Tool, *, max_description: int = 160) -> str:
    description = " ".join(tool.description.split())
    if len(description) > max_description:
        description = description[: max_description - 3].rstrip() + "..."
    return f"- {signature(tool)}: {description}"


def tools_system_prompt(tools: list[Tool]) -> str:
    """The system prompt listing the candidate tools, one line each."""
    lines = "\n".join(tool_line(t) for t in tools)
    return (
        "You are a function calling assistant. You can call these functions:\n"
        f"{lines}\n"
        "To call a function, answer with <tool_call>{\"name\": ..., \"arguments\": {...}}"
        "</tool_call>, using only values the user gave."
    )


def parameter_notes(tool: Tool) -> str:
    """One line per documented parameter of the chosen tool (read while filling its call)."""
    props: dict[str, Any] = tool.parameters.get("properties", {})
    notes = [
        f"{name}: {' '.join(str(s.get('description', '')).split())}"
        for name, s in props.items()
        if s.get("description")
    ]
    return "\n".join(notes)


DESCRIBE_SYSTEM = (
    "You are a helpful assistant. Using the function results, answer the user's request in "
    "one short sentence. Quote the numbers exactly."
)

ANSWER_SYSTEM = "You are a helpful assistant. Answer briefly."
