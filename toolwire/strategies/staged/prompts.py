"""The few prompts toolwire writes, kept short: a 135M model on 2 cores reads ~250 tokens/s."""

from __future__ import annotations

import json
from typing import Any

from toolwire.messages import ChoiceConstraint, Message
from toolwire.models.base import Model
from toolwire.tools.registry import Tool

CALL_OPEN = "<tool_call>\n"
_MAX_ENUM_SHOWN = 8


_MAX_ENUM_INLINE = 4


def type_hint(schema: dict[str, Any], *, documented: bool = False) -> str:
    """A compact, Python-like rendering of a parameter schema (``"USD"|"CAD"``, ``number``).

    With ``documented`` (the parameter notes list the values), long enums show as their type.
    """
    if "enum" in schema and documented and len(schema["enum"]) > _MAX_ENUM_INLINE:
        return str(schema.get("type", "enum"))
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


def signature(tool: Tool, *, documented: bool = False) -> str:
    """``name(a: number, b: "x"|"y" = "x")`` for one tool."""
    props: dict[str, Any] = tool.parameters.get("properties", {})
    required = set(tool.parameters.get("required", []))
    parts = []
    for name, schema in props.items():
        text = f"{name}: {type_hint(schema, documented=documented and 'description' in schema)}"
        if name not in required:
            default = schema.get("default")
            text += f" = {json.dumps(default)}" if default is not None else " = None"
        parts.append(text)
    return f"{tool.name}({', '.join(parts)})"


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def parameter_notes(tool: Tool, *, limit: int = 90) -> str:
    """One line per documented parameter of the chosen tool (read while filling its call)."""
    props: dict[str, Any] = tool.parameters.get("properties", {})
    notes = [
        f"- {name}: {_clip(str(s.get('description', '')), limit)}"
        for name, s in props.items()
        if isinstance(s, dict) and s.get("description")
    ]
    return "\n".join(notes)


def call_prompt(tool: Tool) -> str:
    """The system prompt for filling one call: the function, its parameters, the rule."""
    notes = parameter_notes(tool)
    return (
        "You are a function calling assistant. Call:\n"
        f"{signature(tool, documented=True)}: {_clip(tool.description, 120)}\n"
        + (f"Parameters:\n{notes}\n" if notes else "")
        + "Use only values from the user's request."
    )


def messages_for(system: str, question: str, history: list[Message], prefill: str) -> list[Message]:
    """The staged prompt: the system text, the history, the sentence and the growing prefill
    the model continues (one prompt, so llama.cpp evaluates the shared prefix once)."""
    return [
        Message(role="system", content=system),
        *history,
        Message(role="user", content=question),
        Message(role="assistant", content=prefill),
    ]


async def choose(model: Model, messages: list[Message], options: list[str]) -> dict[str, float]:
    """The model's log-likelihood of each option after ``messages``."""
    completion = await model.complete(messages, constraint=ChoiceConstraint(options=tuple(options)))
    return completion.scores or {completion.text: 0.0}
