"""Anthropic Messages dialect: ``{"name", "description", "input_schema"}`` tools.

Anthropic takes JSON Schema as it is (root of type object), so tools pass through unchanged.
Messages differ more: the system prompt travels apart, an assistant's calls are ``tool_use``
blocks, and tool results are ``tool_result`` blocks inside a *user* message (parallel results
share one message); consecutive messages of the same role are merged.
"""

from __future__ import annotations

from typing import Any

from toolwire.dialects.names import WireNames, is_valid_name
from toolwire.dialects.rewriting import DialectError, Schema, schema_errors
from toolwire.messages import Message, ToolCallRequest, ToolSpec

DIALECT = "anthropic"
_TOOL_KEYS = frozenset({"name", "description", "input_schema", "cache_control", "type"})


def to_anthropic(spec: ToolSpec, *, names: WireNames | None = None) -> Schema:
    """The Anthropic tool for ``spec``."""
    name = names.wire(spec.name) if names else spec.name
    if not is_valid_name(name, "anthropic"):
        raise DialectError(DIALECT, "name", f"invalid tool name {name!r} (use WireNames)")
    parameters = spec.parameters
    if parameters.get("type") != "object":
        raise DialectError(DIALECT, "input_schema.type", "must be 'object'")
    return {"name": name, "description": spec.description, "input_schema": parameters}


def from_anthropic(tool: Schema, *, names: WireNames | None = None) -> ToolSpec:
    """The ToolSpec behind an Anthropic tool."""
    name = str(tool["name"])
    return ToolSpec(
        name=names.original(name) if names else name,
        description=str(tool.get("description") or ""),
        parameters=tool.get("input_schema") or {"type": "object", "properties": {}},
    )


def problems(tool: Any) -> list[str]:
    """What Anthropic would reject in ``tool`` (empty when valid)."""
    if not isinstance(tool, dict):
        return ["(tool): must be an object"]
    found = [f"{k}: unknown field" for k in sorted(set(tool) - _TOOL_KEYS)]
    name = tool.get("name")
    if not isinstance(name, str) or not is_valid_name(name, "anthropic"):
        found.append(f"name: {name!r} must match ^[a-zA-Z0-9_-]{{1,64}}$")
    if not isinstance(tool.get("description", ""), str):
        found.append("description: must be a string")
    schema = tool.get("input_schema")
    if not isinstance(schema, dict):
        return [*found, "input_schema: required, a JSON Schema object"]
    if schema.get("type") != "object":
        found.append("input_schema.type: must be 'object'")
    found += [
        f"input_schema.{e}" if not e.startswith(":") else f"input_schema{e}"
        for e in schema_errors(schema)
    ]
    return found


# -- messages -------------------------------------------------------------------------------
def to_anthropic_messages(
    messages: list[Message], *, names: WireNames | None = None
) -> tuple[str, list[Schema]]:
    """The system prompt and the Messages-API message list for ``messages``."""
    system = "\n\n".join(m.content for m in messages if m.role == "system" and m.content)
    out: list[Schema] = []
    for message in messages:
        if message.role == "system":
            continue
        role = "assistant" if message.role == "assistant" else "user"
        blocks = _blocks(message, names)
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    return system, out


def _blocks(message: Message, names: WireNames | None) -> list[Schema]:
    if message.role == "tool":
        return [
            {
                "type": "tool_result",
                "tool_use_id": message.tool_call_id or "",
                "content": message.content,
            }
        ]
    blocks: list[Schema] = [{"type": "text", "text": message.content}] if message.content else []
    for call in message.tool_calls:
        name = names.wire(call.name) if names else call.name
        blocks.append({"type": "tool_use", "id": call.id, "name": name, "input": call.arguments})
    return blocks


def from_anthropic_content(
    content: list[Any], *, names: WireNames | None = None
) -> tuple[str, list[ToolCallRequest]]:
    """The text and the tool calls of an assistant's content blocks."""
    texts: list[str] = []
    calls: list[ToolCallRequest] = []
    for i, block in enumerate(content):
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            texts.append(str(block.get("text", "")))
        elif kind == "tool_use":
            arguments = block.get("input") or {}
            if not isinstance(arguments, dict):
                raise DialectError(DIALECT, f"content[{i}].input", "must be an object")
            name = str(block.get("name", ""))
            calls.append(
                ToolCallRequest(
                    id=str(block.get("id") or f"toolu_{i}"),
                    name=names.original(name) if names else name,
                    arguments=arguments,
                )
            )
    return "".join(texts), calls


def from_anthropic_messages(
    system: str, messages: list[Any], *, names: WireNames | None = None
) -> list[Message]:
    """toolwire Messages from a Messages-API conversation (the inverse of the above)."""
    out = [Message(role="system", content=system)] if system else []
    for raw in messages:
        content = raw["content"]
        if isinstance(content, str):
            out.append(Message(role=raw["role"], content=content))
            continue
        results = [b for b in content if b.get("type") == "tool_result"]
        for block in results:
            out.append(_tool_result(block))
        rest = [b for b in content if b.get("type") != "tool_result"]
        if rest or not results:
            text, calls = from_anthropic_content(rest, names=names)
            out.append(Message(role=raw["role"], content=text, tool_calls=calls))
    return out


def _tool_result(block: Schema) -> Message:
    content = block.get("content", "")
    if isinstance(content, list):
        content = "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return Message(role="tool", content=str(content), tool_call_id=block.get("tool_use_id"))
