"""Elliptical follow-ups lean on the conversation: "and in London?" after "What time is it in
Tokyo?", "what about 100 of them?" after a currency conversion, "and how much is that in
euros?".

Such a sentence reuses the previous call's tool and every argument it does not replace. What
it replaces, it writes: a number (the quantity), a place (the place, or a conversion's
target after "in"/"to"), an enum value or a name the tool resolves ("euros", "fahrenheit"),
a time of day. "that", "it" or "them" without a number stand for the previous result when it
is a number, which is then in the previous target's unit ("and how much is that in euros?"
converts 131.95 CAD). A follow-up that changes nothing is not one: the sentence goes the
usual way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from toolwire.messages import Message
from toolwire.retrieval.index import Hit
from toolwire.strategies.staged.matching import is_numeric
from toolwire.strategies.staged.priors import non_null, role_of, written_moments
from toolwire.strategies.staged.settled import pair_values, wants_place
from toolwire.text import lexicon
from toolwire.text.mentions import NumberMention
from toolwire.text.places import names_a_zone
from toolwire.text.reading import Reading
from toolwire.tools.registry import Tool


def _any(phrases: Iterable[str]) -> str:
    """A pattern matching any of ``phrases`` as whole words, longest first."""
    ordered = sorted(phrases, key=len, reverse=True)
    return r"\b(?:" + "|".join(r"\s+".join(map(re.escape, p.split())) for p in ordered) + r")\b"


_LEAD = re.compile(
    rf"^\s*(?:{_any(lexicon.FOLLOWUP_LEADS)}[\s,]*)*(?:what|how)\s+about\b"
    rf"|^\s*{_any(lexicon.FOLLOWUP_OPENERS)}",
    re.IGNORECASE,
)
_REFERENCE = re.compile(_any(lexicon.REFERENCES), re.IGNORECASE)
_TARGET = re.compile(_any(lexicon.TO_WORDS) + r"\s+(?P<phrase>[^\W\d_][\w$€£¥°/' .-]*)",
                     re.IGNORECASE)
_SOURCE_ENDS = re.compile(
    r"[?!.,;]|" + _any(lexicon.TO_WORDS | lexicon.FROM_WORDS | lexicon.POLITE_WORDS),
    re.IGNORECASE,
)
_MAX_WORDS = 10


@dataclass(kw_only=True, frozen=True)
class Previous:
    """The last call of the conversation and what it returned."""

    name: str
    arguments: dict[str, Any]
    result: Any = None


_BARE = 3
"""Words of a sentence short enough to lean on the one before without a lead ("paris?")."""


def elliptical(reading: Reading) -> bool:
    """A short sentence that leans on the one before ("and in London?", "what about 100?",
    "paris?")."""
    size = len(reading.text.split())
    return (bool(_LEAD.search(reading.text)) and size <= _MAX_WORDS) or 0 < size <= _BARE


def with_previous_result(reading: Reading, history: list[Message]) -> str | None:
    """The sentence with "that"/"it" written as the previous result, when that is a number
    ("now divide that by 8" after 360 -> "now divide 360 by 8"); ``None`` otherwise."""
    previous = previous_call(history)
    if previous is None or not _is_number(previous.result) or not _REFERENCE.search(
            reading.text):
        return None
    value = previous.result
    text = format(value, ".10g") if isinstance(value, float) else str(value)
    return _REFERENCE.sub(text, reading.text, count=1)


def _places(reading: Reading) -> list[str]:
    """The places a follow-up names; in so short a sentence a lower-case word counts too
    ("and london?")."""
    found = [p.text for p in reading.places]
    if found:
        return found
    kept = [w for w in reading.words if w.lower() not in lexicon.STOP_WORDS]
    return [" ".join(kept)] if kept and names_a_zone(" ".join(kept)) else []


def previous_call(history: list[Message]) -> Previous | None:
    """The last call an assistant message of ``history`` asked for, with its result."""
    for i in range(len(history) - 1, -1, -1):
        message = history[i]
        if message.role == "assistant" and message.tool_calls:
            call = message.tool_calls[-1]
            result = next((_parsed(m.content) for m in history[i + 1 :]
                           if m.role == "tool" and m.tool_call_id in (call.id, None)), None)
            return Previous(name=call.name, arguments=dict(call.arguments), result=result)
    return None


def _parsed(content: str) -> Any:
    """A tool message's result: the service stores ``{"result": ...}`` (or ``{"error": ...}``)."""
    try:
        value = json.loads(content)
    except ValueError:
        return content
    if isinstance(value, dict) and set(value) <= {"result", "error"}:
        return value.get("result")
    return value


def followup_call(
    reading: Reading, history: list[Message], hits: list[Hit[Tool]]
) -> tuple[Tool, dict[str, Any]] | None:
    """The previous call's tool with the arguments the sentence replaces, or ``None`` when the
    sentence is no elliptical follow-up or changes nothing."""
    if not elliptical(reading):
        return None
    previous = previous_call(history)
    tool = next((h.tool for h in hits if previous and h.tool.name == previous.name), None)
    if previous is None or tool is None:
        return None
    if len(reading.numbers) > 1:
        return None  # "now add 3 and 4" writes a whole call of its own
    arguments = _replaced(reading, tool, previous)
    return (tool, arguments) if arguments != previous.arguments else None


def _replaced(reading: Reading, tool: Tool, previous: Previous) -> dict[str, Any]:
    props: dict[str, Any] = tool.parameters.get("properties", {})
    arguments = dict(previous.arguments)
    roles = {role: name for name in props if (role := role_of(name)) is not None}
    numbers = [n for n in reading.numbers if not any(t.start == n.start for t in reading.times)]
    quantity = next((n for n in props if n in tool.parameters.get("required", [])
                     and is_numeric(non_null(props[n]))), None)
    target = _TARGET.search(reading.text)
    if quantity and numbers:
        arguments[quantity] = numbers[0].value if not numbers[0].is_integer else int(
            numbers[0].value)
        source = _unit_after(reading, numbers[0])
        if "source" in roles and source.text:
            named = pair_values(tool, roles["source"], source)
            if named:
                arguments[roles["source"]] = named[0]
    elif quantity and _REFERENCE.search(reading.text) and _is_number(previous.result):
        arguments[quantity] = previous.result
        if "source" in roles and "target" in roles:
            arguments[roles["source"]] = previous.arguments.get(roles["target"])
    if target is not None and "target" in roles:
        named = pair_values(tool, roles["target"],
                            reading.part(target.start("phrase"), target.end("phrase")))
        if named:
            arguments[roles["target"]] = named[0]
    for name, schema in props.items():
        schema = non_null(schema)
        if name in roles.values():
            continue
        if wants_place(name, schema) and (places := _places(reading)):
            arguments[name] = places[0]
        elif "enum" in schema and (named := pair_values(tool, name, reading)):
            arguments[name] = named[0]
        elif moments := written_moments(reading, name, schema):
            arguments[name] = moments[0]
    return arguments


def _unit_after(reading: Reading, number: NumberMention) -> Reading:
    """The words right after a number (three at most), up to a target's "in"/"to", a
    politeness word or punctuation: what the number is counted in ("100 *euros* to yen")."""
    start = number.start + len(number.text)
    rest = reading.text[start:]
    cut = _SOURCE_ENDS.search(rest)
    tokens = list(re.finditer(r"\S+", rest[: cut.start()] if cut else rest))[:3]
    if not tokens:
        return reading.part(start, start)
    return reading.part(start + tokens[0].start(), start + tokens[-1].end())


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
