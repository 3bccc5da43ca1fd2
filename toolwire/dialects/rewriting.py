"""Reversible schema rewriting: the machinery every dialect shares.

A vendor dialect accepts only part of JSON Schema, so a schema node is sometimes rewritten
(a free-form object becomes a JSON-encoded string, a default is dropped, ``anyOf [X, null]``
becomes ``nullable``). Whatever the plain reverse mapping could not restore is written into a
*schema note* at the end of the node's description::

    The number of tickets.
    [schema: {"default": 1}]

The note tells the model what the dialect could not (allowed values, defaults, that a string
holds JSON) and lets ``from_<dialect>`` rebuild the exact original node. Notes are computed,
not hand-written: after a node is rewritten, the dialect's plain reverse is applied and every
keyword it gets wrong is recorded; ``$unset`` lists keywords the original did not have.

``onto_schema`` maps a model's arguments for a rewritten schema back onto the original:
JSON strings are decoded where the original wanted a non-string, and ``null`` given for an
optional, non-nullable property is dropped (OpenAI strict mode asks for them).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import jsonschema

Schema = dict[str, Any]

NOTE_PREFIX = "[schema: "
_UNSET = "$unset"
_MISSING = object()


class DialectError(ValueError):
    """A schema cannot be expressed in a vendor's dialect; the message names the schema path."""

    def __init__(self, dialect: str, path: str, message: str) -> None:
        super().__init__(f"{dialect}: {path or '(root)'}: {message}")
        self.dialect = dialect
        self.path = path


def child_path(path: str, key: str | int) -> str:
    """``parameters.properties.a`` style paths for error messages."""
    return f"{path}.{key}" if path else str(key)


# -- notes --------------------------------------------------------------------------------
def split_note(description: str) -> tuple[str, Schema | None]:
    """The description without its trailing schema note, and the note (``None`` if absent)."""
    head, sep, last = description.rpartition("\n")
    candidate = last if sep else description
    if not (candidate.startswith(NOTE_PREFIX) and candidate.endswith("]")):
        return description, None
    try:
        note = json.loads(candidate[len(NOTE_PREFIX) : -1])
    except ValueError:
        return description, None
    if not isinstance(note, dict):
        return description, None
    return (head if sep else ""), note


def diff_note(original: Schema, guess: Schema) -> Schema:
    """What turns ``guess`` back into ``original`` (descriptions aside)."""
    note: Schema = {
        k: v for k, v in original.items() if k != "description" and guess.get(k, _MISSING) != v
    }
    unset = sorted(k for k in guess if k not in original and k != "description")
    if unset:
        note[_UNSET] = unset
    return note


def attach_note(node: Schema, original: Schema, note: Schema) -> Schema:
    """``node`` with ``note`` appended to the original description."""
    if not note:
        return node
    text = original.get("description")
    if "description" in original and (not isinstance(text, str) or not text):
        note = {**note, "description": text}  # kept exactly; an absent one is simply dropped
    text = text if isinstance(text, str) else ""
    block = NOTE_PREFIX + json.dumps(note, ensure_ascii=False, sort_keys=True) + "]"
    return {**node, "description": f"{text}\n{block}" if text else block}


def apply_note(node: Schema) -> Schema:
    """Restore the original node from a rewritten one that may carry a note."""
    description = node.get("description")
    if not isinstance(description, str):
        return node
    text, note = split_note(description)
    if note is None:
        return node
    out = {**node, "description": text}
    if not text:
        del out["description"]
    for key in note.get(_UNSET, []):
        out.pop(key, None)
    out.update({k: v for k, v in note.items() if k != _UNSET})
    return out


def schema_errors(schema: Schema) -> list[str]:
    """Where ``schema`` breaks the JSON Schema meta-schema, each as ``path: message``.

    Checked against the draft its ``$schema`` names, else draft 7: the keywords vendors read
    mean the same in draft 7 and 2020-12, and draft 7's meta-schema checks about 4x faster.
    """
    return list(_schema_errors(json.dumps(schema, sort_keys=True)))


@lru_cache(maxsize=8192)
def _schema_errors(text: str) -> tuple[str, ...]:
    schema = json.loads(text)
    cls = jsonschema.validators.validator_for(schema, jsonschema.Draft7Validator)
    meta = cls(cls.META_SCHEMA)
    errors = sorted(meta.iter_errors(schema), key=lambda e: list(e.absolute_path))
    return tuple(f"{'.'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in errors)


# -- the driver -----------------------------------------------------------------------------
Forward = Callable[[Schema, str], Schema]
Reverse = Callable[[Schema], Schema]


def noted(forward: Forward, reverse: Reverse, node: Schema, path: str) -> Schema:
    """Rewrite ``node`` with ``forward`` and note whatever ``reverse`` would not restore."""
    out = forward(node, path)
    return attach_note(out, node, diff_note(node, reverse(out)))


def resolve_ref(root: Schema, ref: str, dialect: str, path: str) -> Schema:
    """The schema a local ``#/...`` reference points to."""
    if not ref.startswith("#/"):
        raise DialectError(dialect, path, f"only local $ref is supported, got {ref!r}")
    target: Any = root
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(target, dict) or part not in target:
            raise DialectError(dialect, path, f"$ref {ref!r} points nowhere")
        target = target[part]
    if not isinstance(target, dict):
        raise DialectError(dialect, path, f"$ref {ref!r} is not a schema")
    return target


def types_of(node: Schema) -> list[str]:
    """The node's ``type`` as a list (empty when untyped)."""
    t = node.get("type")
    if isinstance(t, str):
        return [t]
    if isinstance(t, list):
        return [x for x in t if isinstance(x, str)]
    return []


def is_free_form(node: Schema) -> bool:
    """An object without declared properties, or a schema that accepts anything."""
    structural = ("properties", "items", "anyOf", "oneOf", "allOf", "enum", "const", "$ref")
    if any(k in node for k in structural):
        return bool(node.get("properties") == {} and types_of(node) == ["object"])
    return types_of(node) in ([], ["object"])


# -- arguments ------------------------------------------------------------------------------
def onto_schema(schema: Schema, arguments: dict[str, Any]) -> dict[str, Any]:
    """Map arguments produced under a rewritten schema back onto the original ``schema``."""
    value = _coerce(schema, arguments, schema)
    return value if isinstance(value, dict) else arguments


def _coerce(node: Any, value: Any, root: Schema) -> Any:
    if not isinstance(node, dict):
        return value
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        try:
            node = {
                **resolve_ref(root, ref, "", ""),
                **{k: v for k, v in node.items() if k != "$ref"},
            }
        except DialectError:
            return value
    if isinstance(value, str) and _wants_non_string(node):
        value = _decode_json(value)
    if isinstance(value, dict) and isinstance(node.get("properties"), dict):
        return _coerce_object(node, value, root)
    if isinstance(value, list) and isinstance(node.get("items"), dict):
        return [_coerce(node["items"], v, root) for v in value]
    return value


def _coerce_object(node: Schema, value: dict[str, Any], root: Schema) -> dict[str, Any]:
    props: dict[str, Any] = node["properties"]
    required = set(node.get("required", []))
    out: dict[str, Any] = {}
    for key, item in value.items():
        sub = props.get(key)
        if item is None and key not in required and not _accepts_null(sub):
            continue
        out[key] = _coerce(sub, item, root) if sub is not None else item
    return out


def _wants_non_string(node: Schema) -> bool:
    types = types_of(node)
    if types:
        return "string" not in types
    return not any(k in node for k in ("anyOf", "oneOf", "allOf", "enum", "const"))


def _accepts_null(node: Any) -> bool:
    if not isinstance(node, dict) or not node:
        return True
    if "null" in types_of(node) or node.get("nullable") is True:
        return True
    if None in node.get("enum", [0]) or ("const" in node and node["const"] is None):
        return True
    return any(_accepts_null(b) for b in node.get("anyOf", []) + node.get("oneOf", []))


def _decode_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
