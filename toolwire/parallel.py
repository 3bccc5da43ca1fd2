"""Several calls from one sentence: "weather in Paris and London", "convert 5 USD to EUR and GBP".

After the first call is filled, each later clause of the sentence (split at "and", commas,
"also", ...) that brings values of its own, values the first call did not use, yields one more
call: the first call with those values put in place of the ones they stand beside. Values are
the anchors a sentence can be trusted on: numbers, enum values it names, proper nouns. No
model call is needed, so a sentence without such a clause costs nothing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from toolwire import extraction
from toolwire.staged import enum_labels
from toolwire.tools import Tool

_CLAUSE_SPLIT = re.compile(
    r"\s*(?:,\s*and\s+|;\s*|,\s+|\s+and\s+|\s+also\s+|\s+then\s+|\s+as well as\s+|\s+plus\s+)",
    re.IGNORECASE,
)
_PROPER = re.compile(r"\b([A-Z][a-z]+(?:[ -][A-Z][a-z]+)*)")
_NOT_PROPER = {
    "What", "Whats", "How", "Please", "Can", "Could", "Tell", "Give", "Also", "And", "Then",
    "Find", "Get", "Show", "Is", "Are", "Do", "Does", "The", "Use", "Convert", "Calculate",
    "Open", "Launch", "Exchange", "Check", "Send", "Make", "Create", "Set", "Let", "Now", "In",
    "My", "Your", "His", "Her", "Our", "Their", "It", "This", "That", "These", "Those", "A", "An",
    "We", "You", "He", "She", "They", "Help", "Thanks",
}
_GENERIC_PARAM_WORDS = {"name", "type", "value", "id", "data", "info", "the", "of", "for"}
_MAX_CALLS = 8


@dataclass(kw_only=True, frozen=True)
class _Anchor:
    kind: str  # "number" | "enum" | "proper"
    value: Any
    param: str | None = None  # for enums: which parameter's enum named it


def clauses(sentence: str) -> list[str]:
    """The sentence cut at coordinating words; a single clause when there are none."""
    return [c for c in _CLAUSE_SPLIT.split(sentence.strip()) if c.strip()]


def _anchors(text: str, tool: Tool) -> list[_Anchor]:
    found = [_Anchor(kind="number", value=n.value) for n in extraction.numbers(text)]
    props: dict[str, Any] = tool.parameters.get("properties", {})
    for name, schema in props.items():
        if not isinstance(schema, dict) or "enum" not in schema:
            continue
        for literal, labels in enum_labels(schema).items():
            value = json.loads(literal)
            if any(a.kind == "enum" and a.value == value for a in found):
                continue  # one anchor per value, even when several parameters share the enum
            if any(len(lb) > 1 and extraction.mentions(text, lb) for lb in labels):
                found.append(_Anchor(kind="enum", value=value, param=name))
    for m in _PROPER.finditer(text):
        if m.group(1) not in _NOT_PROPER:
            found.append(_Anchor(kind="proper", value=m.group(1)))
    return found


def _used(arguments: dict[str, Any], anchor: _Anchor) -> bool:
    values = list(arguments.values())
    if anchor.kind == "number":
        return any(isinstance(v, (int, float)) and float(v) == anchor.value for v in values)
    if anchor.kind == "enum":
        return anchor.value in values
    return any(isinstance(v, str) and anchor.value in v for v in values)


def _substitute(
    first: dict[str, Any], tool: Tool, anchors: list[_Anchor], question: str
) -> dict[str, Any] | None:
    """The first call's arguments with ``anchors`` put in place; ``None`` if one has no place."""
    props: dict[str, Any] = tool.parameters.get("properties", {})
    out = dict(first)
    taken: set[str] = set()
    several = sum(a.kind == "enum" for a in anchors) > 1
    for anchor in anchors:
        slot = _slot(first, props, anchor, taken, question, in_order=several)
        if slot is None:
            return None
        taken.add(slot)
        value = anchor.value
        if anchor.kind == "number" and float(value).is_integer():
            value = int(value)
        out[slot] = value
    return out


def _slot(
    first: dict[str, Any],
    props: dict[str, Any],
    anchor: _Anchor,
    taken: set[str],
    question: str,
    *,
    in_order: bool,
) -> str | None:
    open_params = [p for p in first if p not in taken]
    if anchor.kind == "number":
        numeric = [p for p in open_params if isinstance(first[p], (int, float))
                   and not isinstance(first[p], bool)]
        return numeric[0] if numeric else None
    if anchor.kind == "enum":
        same_enum = [p for p in open_params
                     if props.get(p, {}).get("enum") == props.get(anchor.param or "", {}).get("enum")]
        # one value varies the one written last ("to EUR and GBP"); several replace the first
        # call's values in the order they were written ("50 CAD to GBP")
        same_enum.sort(key=lambda p: _position(question, str(first[p])), reverse=not in_order)
        return same_enum[0] if same_enum else None
    proper = [p for p in open_params if isinstance(first[p], str) and _PROPER.search(first[p])]
    return proper[0] if proper else None


def _position(question: str, value: str) -> int:
    where = extraction.mention_position(question, value)
    return -1 if where is None else where


def _describes_a_parameter(clause: str, tool: Tool) -> bool:
    """Whether the clause names one of the tool's parameters (then it adds to the first call)."""
    hay = {extraction.stem(w) for w in extraction.words(clause)}
    for name in tool.parameters.get("properties", {}):
        for word in extraction.identifier_words(name):
            if len(word) > 2 and word not in _GENERIC_PARAM_WORDS and extraction.stem(word) in hay:
                return True
    return False


def more_calls(question: str, tool: Tool, first: dict[str, Any]) -> list[dict[str, Any]]:
    """Arguments of the extra calls the later clauses of ``question`` ask for (maybe none)."""
    parts = clauses(question)
    if len(parts) < 2:
        return []
    extra: list[dict[str, Any]] = []
    for part in parts[1:]:
        if _describes_a_parameter(part, tool):
            continue  # "... and acceleration of 9.8": more of the same call, not another one
        fresh = [a for a in _anchors(part, tool) if not _used(first, a)]
        if not fresh:
            continue
        arguments = _substitute(first, tool, fresh, question)
        if arguments is not None and arguments != first and arguments not in extra:
            extra.append(arguments)
        if len(extra) >= _MAX_CALLS - 1:
            break
    return extra
