"""Gemini dialect: function declarations with an OpenAPI-3.0-subset ``Schema``.

Gemini accepts one upper-case ``type`` per node (``STRING``, ``NUMBER``, ``INTEGER``,
``BOOLEAN``, ``ARRAY``, ``OBJECT``), ``nullable`` instead of ``null`` types, ``enum`` only on
strings, a few formats, non-empty ``properties`` on objects, ``items`` on every array, and
no ``additionalProperties``, ``$ref``, ``const`` or ``oneOf``. The rewrite:

- ``anyOf [X, null]`` and ``type: [X, "null"]`` become ``X`` with ``nullable: true``;
  other unions become ``anyOf``; ``oneOf`` becomes ``anyOf``; one-element ``allOf`` is merged;
- ``$ref`` is inlined (recursive references are rejected); ``const`` becomes a one-value enum;
- free-form objects and untyped values become strings holding JSON;
- non-string enums, unsupported formats and keywords are dropped.

What is dropped or changed is kept in a schema note (see ``rewriting.py``), so the model
still sees it and ``from_gemini`` restores the original. What cannot be rewritten (a
``null``-only type, a recursive ``$ref``, a multi-schema ``allOf``) raises ``DialectError``
naming the schema path.
"""

from __future__ import annotations

import json
from typing import Any

from toolwire.dialects.names import WireNames, is_valid_name
from toolwire.dialects.rewriting import (
    DialectError,
    Schema,
    apply_note,
    attach_note,
    child_path,
    is_free_form,
    noted,
    resolve_ref,
    split_note,
    types_of,
)
from toolwire.messages import Message, ToolCallRequest, ToolSpec

DIALECT = "gemini"

TYPES = {
    "string": "STRING",
    "number": "NUMBER",
    "integer": "INTEGER",
    "boolean": "BOOLEAN",
    "array": "ARRAY",
    "object": "OBJECT",
}
FORMATS = {
    "STRING": frozenset({"enum", "date-time"}),
    "NUMBER": frozenset({"float", "double"}),
    "INTEGER": frozenset({"int32", "int64"}),
}
#: keywords allowed per type (besides the ones every node may carry)
TYPED_KEYWORDS = {
    "STRING": frozenset({"enum", "format", "minLength", "maxLength", "pattern"}),
    "NUMBER": frozenset({"format", "minimum", "maximum"}),
    "INTEGER": frozenset({"format", "minimum", "maximum"}),
    "BOOLEAN": frozenset(),
    "ARRAY": frozenset({"items", "minItems", "maxItems"}),
    "OBJECT": frozenset({"properties", "required", "minProperties", "maxProperties"}),
}
COMMON_KEYWORDS = frozenset(
    {"type", "title", "description", "nullable", "default", "example", "anyOf"}
)
KEYWORDS = COMMON_KEYWORDS.union(*TYPED_KEYWORDS.values())
_DEFAULT_TYPES: dict[str, tuple[type, ...]] = {
    "STRING": (str,),
    "NUMBER": (int, float),
    "INTEGER": (int,),
    "BOOLEAN": (bool,),
    "ARRAY": (list,),
    "OBJECT": (dict,),
}
_OUTER = frozenset({"title", "description", "default", "example"})
_EMPTY_ROOT: Schema = {"type": "object", "properties": {}}
_DECLARATION_KEYS = frozenset({"name", "description", "parameters", "response", "behavior"})


# -- tools ----------------------------------------------------------------------------------
def to_gemini(spec: ToolSpec, *, names: WireNames | None = None) -> Schema:
    """The Gemini function declaration for ``spec``."""
    name = names.wire(spec.name) if names else spec.name
    if not is_valid_name(name, "gemini"):
        raise DialectError(DIALECT, "name", f"invalid function name {name!r} (use WireNames)")
    declaration: Schema = {"name": name, "description": spec.description}
    root = spec.parameters
    if "object" not in types_of(root) and "properties" not in root:
        raise DialectError(DIALECT, "parameters", "the root must be of type 'object'")
    if root.get("properties"):
        declaration["parameters"] = _Rewrite(root).root()
    elif root != _EMPTY_ROOT:
        # no properties: Gemini wants no parameters at all; keep the original in a note
        note = {"parameters": root}
        declaration = attach_note(declaration, declaration, note)
    return declaration


def from_gemini(declaration: Schema, *, names: WireNames | None = None) -> ToolSpec:
    """The ToolSpec behind a Gemini function declaration."""
    name = str(declaration["name"])
    description = str(declaration.get("description") or "")
    parameters = declaration.get("parameters")
    if parameters:
        parameters = restore_schema(parameters)
    else:
        text, note = split_note(description)
        if note is not None and isinstance(note.get("parameters"), dict):
            description, parameters = text, note["parameters"]
        else:
            parameters = dict(_EMPTY_ROOT)
    return ToolSpec(
        name=names.original(name) if names else name,
        description=description,
        parameters=parameters,
    )


def restore_schema(node: Any) -> Any:
    """A Gemini schema back in JSON Schema, schema notes applied."""
    if not isinstance(node, dict):
        return node
    out = dict(node)
    if isinstance(out.get("type"), str):
        out["type"] = out["type"].lower()
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k: restore_schema(v) for k, v in out["properties"].items()}
    if isinstance(out.get("items"), dict):
        out["items"] = restore_schema(out["items"])
    if isinstance(out.get("anyOf"), list):
        out["anyOf"] = [restore_schema(b) for b in out["anyOf"]]
    if out.pop("nullable", None) is True:
        out = _with_null(out)
    return apply_note(out)


def _with_null(node: Schema) -> Schema:
    """``X`` or null, the way pydantic writes ``X | None``: annotations stay outside."""
    if isinstance(node.get("anyOf"), list):
        return {**node, "anyOf": [*node["anyOf"], {"type": "null"}]}
    outer = {k: v for k, v in node.items() if k in _OUTER}
    inner = {k: v for k, v in node.items() if k not in _OUTER}
    return {"anyOf": [inner, {"type": "null"}], **outer}


class _Rewrite:
    """One rewrite of a root schema into the Gemini subset."""

    def __init__(self, root: Schema) -> None:
        self._root = root
        self._refs: list[str] = []

    def root(self) -> Schema:
        return self.node(self._root, "parameters")

    def node(self, node: Any, path: str) -> Schema:
        if not isinstance(node, dict):
            raise DialectError(DIALECT, path, "must be a schema object")
        return noted(self._forward, restore_schema, node, path)

    def _forward(self, node: Schema, path: str) -> Schema:
        if "$ref" in node:
            return self._inline(node, path)
        if "allOf" in node:
            node = _merge_all_of(node, path)
        branches = node.get("anyOf", node.get("oneOf"))
        if isinstance(branches, list):
            return self._union(node, branches, path)
        types = types_of(node)
        nullable = "null" in types
        types = [t for t in types if t != "null"] or _infer_type(node)
        if nullable and not types:
            raise DialectError(DIALECT, path, "a value that can only be null cannot be declared")
        if len(types) > 1:
            out = self._type_union(node, types, path)
        else:
            out = self._typed(node, types[0] if types else None, path)
        if nullable:
            out["nullable"] = True
        return out

    def _inline(self, node: Schema, path: str) -> Schema:
        ref = str(node["$ref"])
        if ref in self._refs:
            raise DialectError(DIALECT, path, f"recursive $ref {ref!r} cannot be inlined")
        target = resolve_ref(self._root, ref, DIALECT, path)
        self._refs.append(ref)
        try:
            return self._forward({**target, **{k: v for k, v in node.items() if k != "$ref"}}, path)
        finally:
            self._refs.pop()

    def _union(self, node: Schema, branches: list[Any], path: str) -> Schema:
        real = [b for b in branches if not (isinstance(b, dict) and types_of(b) == ["null"])]
        nullable = len(real) < len(branches)
        rest = {k: v for k, v in node.items() if k not in ("anyOf", "oneOf")}
        if len(real) == 1 and isinstance(real[0], dict):
            out = self._forward({**real[0], **rest}, path)
        elif not real:
            raise DialectError(DIALECT, path, "a value that can only be null cannot be declared")
        else:
            out = _common(rest)
            out["anyOf"] = [
                self.node(b, child_path(path, f"anyOf[{i}]")) for i, b in enumerate(real)
            ]
        if nullable:
            out["nullable"] = True
        return out

    def _type_union(self, node: Schema, types: list[str], path: str) -> Schema:
        out = _common(node)
        branches = []
        for i, t in enumerate(types):
            branch = {k: v for k, v in node.items() if k not in ("type", "description", "title")}
            branches.append(self.node({**branch, "type": t}, child_path(path, f"anyOf[{i}]")))
        out["anyOf"] = branches
        return out

    def _typed(self, node: Schema, kind: str | None, path: str) -> Schema:
        if kind is None or (kind == "object" and is_free_form(node)):
            return {"type": "STRING", **_common(node)}  # JSON carried as a string
        if kind not in TYPES:
            raise DialectError(DIALECT, path, f"unknown type {kind!r}")
        gtype = TYPES[kind]
        out: Schema = {"type": gtype, **_common(node)}
        for key in TYPED_KEYWORDS[gtype] - {"items", "properties", "required", "enum", "format"}:
            if key in node:
                out[key] = node[key]
        if "default" in node and _default_fits(node["default"], gtype):
            out["default"] = node["default"]
        if node.get("format") in FORMATS.get(gtype, ()):
            out["format"] = node["format"]
        if gtype == "STRING":
            _string_enum(node, out)
        elif gtype == "ARRAY":
            out["items"] = self.node(node.get("items", {}), child_path(path, "items"))
        elif gtype == "OBJECT":
            self._object(node, out, path)
        return out

    def _object(self, node: Schema, out: Schema, path: str) -> None:
        props = node["properties"]
        out["properties"] = {
            k: self.node(v, child_path(path, f"properties.{k}")) for k, v in props.items()
        }
        required = [r for r in node.get("required", []) if r in props]
        if required or "required" in node:
            out["required"] = required


def _merge_all_of(node: Schema, path: str) -> Schema:
    parts = node["allOf"]
    if not isinstance(parts, list) or len(parts) != 1 or not isinstance(parts[0], dict):
        raise DialectError(DIALECT, path, "allOf with more than one schema cannot be expressed")
    return {**parts[0], **{k: v for k, v in node.items() if k != "allOf"}}


def _infer_type(node: Schema) -> list[str]:
    values = node.get("enum", [node["const"]] if "const" in node else None)
    if isinstance(values, list) and values and all(isinstance(v, str) for v in values):
        return ["string"]
    if isinstance(node.get("properties"), dict) and node["properties"]:
        return ["object"]
    if "items" in node:
        return ["array"]
    return []


def _common(node: Schema) -> Schema:
    out: Schema = {}
    for key in ("title", "description"):
        if isinstance(node.get(key), str):
            out[key] = node[key]
    return out


def _string_enum(node: Schema, out: Schema) -> None:
    values = node.get("enum", [node["const"]] if "const" in node else None)
    if isinstance(values, list) and values and all(isinstance(v, str) for v in values):
        out["enum"] = list(values)


def _default_fits(value: Any, gtype: str) -> bool:
    if isinstance(value, bool) and gtype != "BOOLEAN":
        return False
    return isinstance(value, _DEFAULT_TYPES[gtype])


# -- validator ------------------------------------------------------------------------------
def problems(declaration: Any) -> list[str]:
    """What Gemini would reject in a function declaration (empty when valid)."""
    if not isinstance(declaration, dict):
        return ["(declaration): must be an object"]
    found = [f"{k}: unknown field" for k in sorted(set(declaration) - _DECLARATION_KEYS)]
    name = declaration.get("name")
    if not isinstance(name, str) or not is_valid_name(name, "gemini"):
        found.append(f"name: {name!r} must match ^[a-zA-Z_][a-zA-Z0-9_.:-]{{0,63}}$")
    if not isinstance(declaration.get("description", ""), str):
        found.append("description: must be a string")
    if "parameters" in declaration:
        parameters = declaration["parameters"]
        if not isinstance(parameters, dict) or parameters.get("type") != "OBJECT":
            found.append("parameters.type: must be OBJECT")
        found += problems_in_schema(parameters, "parameters")
    return found


def problems_in_schema(node: Any, path: str) -> list[str]:
    """Gemini's rules for one Schema node and its children."""
    if not isinstance(node, dict):
        return [f"{path}: must be a schema object"]
    found = [f"{child_path(path, k)}: unknown field" for k in sorted(set(node) - KEYWORDS)]
    gtype = node.get("type")
    if gtype is None and "anyOf" not in node:
        found.append(f"{path}.type: missing")
    elif gtype is not None and gtype not in TYPED_KEYWORDS:
        return [*found, f"{path}.type: {gtype!r} is not one of {sorted(TYPED_KEYWORDS)}"]
    allowed = TYPED_KEYWORDS.get(gtype, frozenset()) if gtype else frozenset()
    for key in sorted((set(node) & KEYWORDS) - COMMON_KEYWORDS - allowed):
        found.append(f"{child_path(path, key)}: only allowed for {_owner(key)} type")
    found += _check_values(node, gtype, path)
    if isinstance(node.get("properties"), dict):
        for key, sub in node["properties"].items():
            found += problems_in_schema(sub, f"{path}.properties[{key}]")
    if "items" in node:
        found += problems_in_schema(node["items"], f"{path}.items")
    for i, branch in enumerate(node.get("anyOf", [])):
        found += problems_in_schema(branch, f"{path}.anyOf[{i}]")
    return found


def _owner(key: str) -> str:
    return " or ".join(t for t, keys in TYPED_KEYWORDS.items() if key in keys)


def _check_values(node: Schema, gtype: str | None, path: str) -> list[str]:
    found = []
    if "enum" in node and not all(isinstance(v, str) for v in node["enum"]):
        found.append(f"{path}.enum: values must be strings")
    if "format" in node and node["format"] not in FORMATS.get(gtype or "", ()):
        found.append(f"{path}.format: {node['format']!r} not supported for {gtype}")
    if gtype == "OBJECT":
        props = node.get("properties")
        if not isinstance(props, dict) or not props:
            found.append(f"{path}.properties: should be non-empty for OBJECT type")
        missing = [r for r in node.get("required", []) if r not in (props or {})]
        found += [f"{path}.required: {r!r} is not a property" for r in missing]
    if gtype == "ARRAY" and "items" not in node:
        found.append(f"{path}.items: missing field")
    if "nullable" in node and not isinstance(node["nullable"], bool):
        found.append(f"{path}.nullable: must be a boolean")
    if "anyOf" in node and (not isinstance(node["anyOf"], list) or not node["anyOf"]):
        found.append(f"{path}.anyOf: must be a non-empty list")
    return found


# -- messages -------------------------------------------------------------------------------
def to_gemini_contents(
    messages: list[Message], *, names: WireNames | None = None
) -> tuple[str, list[Schema]]:
    """The system instruction and the ``contents`` list for ``messages``."""
    system = "\n\n".join(m.content for m in messages if m.role == "system" and m.content)
    call_names: dict[str, str] = {}
    out: list[Schema] = []
    for message in messages:
        if message.role == "system":
            continue
        for call in message.tool_calls:
            call_names[call.id] = call.name
        role = "model" if message.role == "assistant" else "user"
        parts = _parts(message, call_names, names)
        if out and out[-1]["role"] == role:
            out[-1]["parts"].extend(parts)
        else:
            out.append({"role": role, "parts": parts})
    return system, out


def _parts(message: Message, call_names: dict[str, str], names: WireNames | None) -> list[Schema]:
    wire = names.wire if names else (lambda n: n)
    if message.role == "tool":
        name = message.name or call_names.get(message.tool_call_id or "", "")
        return [{"functionResponse": {"name": wire(name), "response": _response(message.content)}}]
    parts: list[Schema] = [{"text": message.content}] if message.content else []
    for call in message.tool_calls:
        parts.append({"functionCall": {"name": wire(call.name), "args": call.arguments}})
    return parts


def _response(content: str) -> Schema:
    try:
        value = json.loads(content)
    except ValueError:
        value = content
    return value if isinstance(value, dict) else {"result": value}


def from_gemini_parts(
    parts: list[Any], *, names: WireNames | None = None
) -> tuple[str, list[ToolCallRequest]]:
    """The text and the function calls of a model turn's parts."""
    texts: list[str] = []
    calls: list[ToolCallRequest] = []
    for i, part in enumerate(parts):
        if not isinstance(part, dict):
            continue
        call = part.get("functionCall") or part.get("function_call")
        if isinstance(call, dict):
            name = str(call.get("name", ""))
            args = call.get("args") or {}
            if not isinstance(args, dict):
                raise DialectError(DIALECT, f"parts[{i}].functionCall.args", "must be an object")
            calls.append(
                ToolCallRequest(
                    id=str(call.get("id") or f"call_{len(calls)}"),
                    name=names.original(name) if names else name,
                    arguments=args,
                )
            )
        elif isinstance(part.get("text"), str) and not part.get("thought"):
            texts.append(part["text"])
    return "".join(texts), calls
