"""OpenAI chat-completions dialect: ``{"type": "function", "function": {...}}`` tools.

Plain mode sends the JSON Schema as it is. Strict mode (structured outputs) accepts a subset:
every object lists all its properties as required and sets ``additionalProperties: false``;
optionals become nullable; keywords outside the subset (``default``, ``minLength``...) are
dropped; free-form objects and untyped values become JSON-encoded strings. Everything dropped
is kept in a schema note (see ``rewriting.py``), so ``from_openai`` restores the original and
``onto_schema`` maps a strict answer back onto it.
"""

from __future__ import annotations

import json
from typing import Any

from toolwire.dialects.names import WireNames, is_valid_name
from toolwire.dialects.rewriting import (
    DialectError,
    Schema,
    apply_note,
    child_path,
    is_free_form,
    noted,
    resolve_ref,
    schema_errors,
    types_of,
)
from toolwire.messages import Message, Role, ToolCallRequest, ToolSpec

DIALECT = "openai"

STRICT_KEYWORDS = frozenset(
    {
        "type", "description", "title", "properties", "required", "additionalProperties",
        "items", "enum", "const", "anyOf", "pattern", "format", "multipleOf", "maximum",
        "exclusiveMaximum", "minimum", "exclusiveMinimum", "minItems", "maxItems",
    }
)  # fmt: skip
STRICT_FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
)
STRICT_MAX_DEPTH = 10
STRICT_MAX_PROPERTIES = 5000
_CHILDREN = ("properties", "items", "anyOf")


# -- tools ----------------------------------------------------------------------------------
def to_openai(spec: ToolSpec, *, strict: bool = False, names: WireNames | None = None) -> Schema:
    """The OpenAI tool for ``spec``; ``strict`` rewrites the schema for structured outputs."""
    name = names.wire(spec.name) if names else spec.name
    if not is_valid_name(name, "openai"):
        raise DialectError(DIALECT, "name", f"invalid function name {name!r} (use WireNames)")
    parameters = strict_schema(spec.parameters) if strict else spec.parameters
    function: Schema = {"name": name, "description": spec.description, "parameters": parameters}
    if strict:
        function["strict"] = True
    return {"type": "function", "function": function}


def from_openai(tool: Schema, *, names: WireNames | None = None) -> ToolSpec:
    """The ToolSpec behind an OpenAI tool (strict-mode rewrites undone)."""
    function = tool.get("function", tool)
    name = str(function["name"])
    parameters = function.get("parameters") or {"type": "object", "properties": {}}
    if function.get("strict"):
        parameters = unstrict_schema(parameters)
    return ToolSpec(
        name=names.original(name) if names else name,
        description=str(function.get("description") or ""),
        parameters=parameters,
    )


def strict_schema(schema: Schema) -> Schema:
    """``schema`` rewritten for OpenAI strict mode; ``DialectError`` if it cannot be."""
    if types_of(schema) != ["object"] and not ("properties" in schema and "type" not in schema):
        raise DialectError(DIALECT, "parameters", "strict mode needs a root of type 'object'")
    return _Strict(schema).root()


def unstrict_schema(schema: Schema) -> Schema:
    """Undo ``strict_schema`` using the schema notes it left."""
    restored: Schema = _restore(schema)
    return restored


def can_be_strict(schema: Schema) -> bool:
    """Whether ``schema`` survives the strict rewrite within OpenAI's limits."""
    try:
        return not problems_in_schema(strict_schema(schema), strict=True)
    except DialectError:
        return False


def _restore(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    out = dict(node)
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k: _restore(v) for k, v in out["properties"].items()}
    if isinstance(out.get("items"), dict):
        out["items"] = _restore(out["items"])
    if isinstance(out.get("anyOf"), list):
        out["anyOf"] = [_restore(b) for b in out["anyOf"]]
    return apply_note(out)


class _Strict:
    """One strict-mode rewrite of a root schema (keeps the root for ``$ref``)."""

    def __init__(self, root: Schema) -> None:
        self._root = root
        self._refs: list[str] = []

    def root(self) -> Schema:
        return self.node(self._root, "parameters", optional=False)

    def node(self, node: Schema, path: str, *, optional: bool) -> Schema:
        def forward(n: Schema, p: str) -> Schema:
            return self._forward(n, p, optional=optional)

        return noted(forward, _restore, node, path)

    def _forward(self, node: Schema, path: str, *, optional: bool) -> Schema:
        if "$ref" in node:
            return self._inline(node, path, optional=optional)
        if "allOf" in node:
            node = _merge_all_of(node, DIALECT, path)
        if path != "parameters" and is_free_form(node):
            out: Schema = {"type": "string"}
        else:
            out = self._keywords(node, path)
        if "description" in node:
            out["description"] = node["description"]
        return _nullable(out) if optional else out

    def _inline(self, node: Schema, path: str, *, optional: bool) -> Schema:
        ref = str(node["$ref"])
        if ref in self._refs:
            raise DialectError(DIALECT, path, f"recursive $ref {ref!r} is not supported")
        target = resolve_ref(self._root, ref, DIALECT, path)
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        self._refs.append(ref)
        try:
            return self._forward(merged, path, optional=optional)
        finally:
            self._refs.pop()

    def _keywords(self, node: Schema, path: str) -> Schema:
        out: Schema = {k: v for k, v in node.items() if k in STRICT_KEYWORDS and k not in _CHILDREN}
        out.pop("additionalProperties", None)
        if "format" in out and out["format"] not in STRICT_FORMATS:
            del out["format"]
        branches = node.get("anyOf", node.get("oneOf"))
        if isinstance(branches, list):
            out["anyOf"] = [
                self.node(b, child_path(path, f"anyOf[{i}]"), optional=False)
                for i, b in enumerate(branches)
            ]
        if isinstance(node.get("properties"), dict) or "object" in types_of(node):
            self._object(node, out, path)
        if "items" in node or "array" in types_of(node):
            items = node.get("items", {})
            if not isinstance(items, dict):
                raise DialectError(DIALECT, path, "tuple-style 'items' lists are not supported")
            out["items"] = self.node(items, child_path(path, "items"), optional=False)
        return out

    def _object(self, node: Schema, out: Schema, path: str) -> None:
        props = node.get("properties") or {}
        required = set(node.get("required", []))
        out["properties"] = {
            key: self.node(sub, child_path(path, f"properties.{key}"), optional=key not in required)
            for key, sub in props.items()
        }
        out["required"] = list(props)
        out["additionalProperties"] = False


def _merge_all_of(node: Schema, dialect: str, path: str) -> Schema:
    parts = node["allOf"]
    if not isinstance(parts, list) or len(parts) != 1 or not isinstance(parts[0], dict):
        raise DialectError(dialect, path, "allOf with more than one schema is not supported")
    rest = {k: v for k, v in node.items() if k != "allOf"}
    return {**parts[0], **rest}


def _nullable(out: Schema) -> Schema:
    types = types_of(out)
    if types:
        if "null" not in types:
            out["type"] = [*types, "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        return out
    if "anyOf" in out:
        if {"type": "null"} not in out["anyOf"]:
            out["anyOf"] = [*out["anyOf"], {"type": "null"}]
        return out
    if "enum" in out:
        if None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        return out
    description = out.pop("description", None)
    wrapped: Schema = {"anyOf": [out, {"type": "null"}]}
    if description is not None:
        wrapped["description"] = description
    return wrapped


# -- validators -----------------------------------------------------------------------------
def problems(tool: Any) -> list[str]:
    """What OpenAI would reject in ``tool`` (empty when valid), each as ``path: message``."""
    if not isinstance(tool, dict) or tool.get("type") != "function":
        return ["type: must be 'function'"]
    function = tool.get("function")
    if not isinstance(function, dict):
        return ["function: must be an object"]
    found: list[str] = []
    name = function.get("name")
    if not isinstance(name, str) or not is_valid_name(name, "openai"):
        found.append(f"function.name: {name!r} must match ^[a-zA-Z0-9_-]{{1,64}}$")
    if not isinstance(function.get("description", ""), str):
        found.append("function.description: must be a string")
    parameters = function.get("parameters", {"type": "object", "properties": {}})
    strict = function.get("strict", False)
    if not isinstance(strict, bool):
        found.append("function.strict: must be a boolean")
        strict = False
    found += problems_in_schema(parameters, strict=strict)
    return found


def problems_in_schema(parameters: Any, *, strict: bool) -> list[str]:
    """What OpenAI would reject in a ``parameters`` schema."""
    path = "function.parameters"
    if not isinstance(parameters, dict):
        return [f"{path}: must be an object"]
    errors = schema_errors(parameters)
    if errors:
        return [f"{path}.{e}" if not e.startswith(":") else f"{path}{e}" for e in errors]
    if parameters.get("type") != "object":
        return [f"{path}.type: must be 'object'"]
    return _StrictCheck().root(parameters, path) if strict else []


class _StrictCheck:
    """OpenAI's structured-outputs rules, checked independently of the rewrite."""

    def __init__(self) -> None:
        self.found: list[str] = []
        self.properties = 0

    def root(self, schema: Schema, path: str) -> list[str]:
        if "anyOf" in schema:
            self.found.append(f"{path}: the root must not be anyOf")
        self.node(schema, path, depth=1)
        if self.properties > STRICT_MAX_PROPERTIES:
            self.found.append(f"{path}: more than {STRICT_MAX_PROPERTIES} properties")
        return self.found

    def node(self, node: Any, path: str, *, depth: int) -> None:
        if not isinstance(node, dict):
            self.found.append(f"{path}: must be a schema object")
            return
        if depth > STRICT_MAX_DEPTH:
            self.found.append(f"{path}: nested deeper than {STRICT_MAX_DEPTH} levels")
        for key in sorted(set(node) - STRICT_KEYWORDS):
            self.found.append(f"{child_path(path, key)}: not supported in strict mode")
        if "format" in node and node["format"] not in STRICT_FORMATS:
            self.found.append(f"{path}.format: {node['format']!r} not supported in strict mode")
        types = types_of(node)
        if not types and not any(k in node for k in ("anyOf", "enum", "const")):
            self.found.append(f"{path}: needs a type")
        if "object" in types:
            self._object(node, path, depth)
        if "array" in types:
            if "items" not in node:
                self.found.append(f"{path}.items: required for arrays")
            else:
                self.node(node["items"], f"{path}.items", depth=depth + 1)
        for i, branch in enumerate(node.get("anyOf", [])):
            self.node(branch, f"{path}.anyOf[{i}]", depth=depth)

    def _object(self, node: Schema, path: str, depth: int) -> None:
        props = node.get("properties")
        if not isinstance(props, dict):
            self.found.append(f"{path}.properties: required for objects")
            return
        if node.get("additionalProperties") is not False:
            self.found.append(f"{path}.additionalProperties: must be false")
        if sorted(node.get("required", [])) != sorted(props):
            self.found.append(f"{path}.required: must list every property")
        self.properties += len(props)
        for key, sub in props.items():
            self.node(sub, f"{path}.properties.{key}", depth=depth + 1)


# -- messages -------------------------------------------------------------------------------
def to_openai_messages(messages: list[Message], *, names: WireNames | None = None) -> list[Schema]:
    """Chat-completions messages for ``messages`` (tool calls and results included)."""
    return [_message_out(m, names) for m in messages]


def _message_out(message: Message, names: WireNames | None) -> Schema:
    if message.role == "tool":
        return {
            "role": "tool",
            "tool_call_id": message.tool_call_id or "",
            "content": message.content,
        }
    out: Schema = {"role": message.role, "content": message.content}
    if message.tool_calls:
        out["content"] = message.content or None
        out["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {
                    "name": names.wire(call.name) if names else call.name,
                    "arguments": json.dumps(call.arguments, ensure_ascii=False),
                },
            }
            for call in message.tool_calls
        ]
    return out


def from_openai_messages(messages: list[Any], *, names: WireNames | None = None) -> list[Message]:
    """Messages from chat-completions JSON; ``DialectError`` names the first bad field."""
    return [_message_in(m, f"messages[{i}]", names) for i, m in enumerate(messages)]


def _message_in(raw: Any, path: str, names: WireNames | None) -> Message:
    if not isinstance(raw, dict):
        raise DialectError(DIALECT, path, "must be an object")
    role = {"developer": "system", "function": "tool"}.get(raw.get("role", ""), raw.get("role"))
    if role not in ("system", "user", "assistant", "tool"):
        raise DialectError(DIALECT, f"{path}.role", f"unknown role {raw.get('role')!r}")
    content = content_text(raw.get("content"), f"{path}.content")
    if role == "tool":
        call_id = raw.get("tool_call_id")
        return Message(role="tool", content=content, tool_call_id=call_id, name=raw.get("name"))
    calls = tool_calls_in(raw.get("tool_calls") or [], f"{path}.tool_calls", names)
    speaker: Role = "assistant" if role == "assistant" else "system" if role == "system" else "user"
    return Message(role=speaker, content=content, tool_calls=calls)


def content_text(content: Any, path: str) -> str:
    """The text of a message content: a string, null, or a list of text parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for i, part in enumerate(content):
            if not isinstance(part, dict) or part.get("type") != "text":
                raise DialectError(DIALECT, f"{path}[{i}]", "only text parts are supported")
            texts.append(str(part.get("text", "")))
        return "".join(texts)
    raise DialectError(DIALECT, path, "must be a string or a list of text parts")


def tool_calls_in(
    raw: list[Any], path: str, names: WireNames | None = None
) -> list[ToolCallRequest]:
    """ToolCallRequests from OpenAI ``tool_calls`` (arguments parsed from JSON)."""
    calls = []
    for i, call in enumerate(raw):
        where = f"{path}[{i}]"
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise DialectError(DIALECT, f"{where}.function", "must hold a name")
        arguments = parse_arguments(
            function.get("arguments") or "{}", f"{where}.function.arguments"
        )
        name = function["name"]
        calls.append(
            ToolCallRequest(
                id=str(call.get("id") or f"call_{i}"),
                name=names.original(name) if names else name,
                arguments=arguments,
            )
        )
    return calls


def parse_arguments(raw: Any, path: str) -> dict[str, Any]:
    """Arguments given as a JSON object (or its text)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as e:
            raise DialectError(DIALECT, path, f"not valid JSON ({e})") from e
    if not isinstance(raw, dict):
        raise DialectError(DIALECT, path, "must be a JSON object")
    return raw
