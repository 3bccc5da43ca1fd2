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
from toolwire.strategies.staged.settled import expression_parameter, pair_values, wants_place
from toolwire.text import lexicon
from toolwire.text.mentions import NumberMention
from toolwire.text.places import names_a_zone
from toolwire.text.reading import Reading, read
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
_TARGET = re.compile(_any(lexicon.TO_WORDS) + r"\s+(?P<phrase>[^\W\d_][\w$€£¥°/' .-]*)"
                     r"|\bhow\s+(?:many|much)\s+(?P<asked>[^\W\d_][\w$€£¥°/' .-]*)",
                     re.IGNORECASE)
"""What a follow-up converts to: the words after "in"/"to" ("and in euros?"), or after "how
many" ("and how many kilograms is that?")."""
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


def with_previous_place(reading: Reading, history: list[Message]) -> str | None:
    """The sentence with a locative "there" written as "in" the place of the previous call
    ("how's the weather there" after ``get_time(timezone="Sydney")`` -> "how's the weather in
    Sydney"), when it names no place of its own; ``None`` otherwise. The existential "there"
    ("is there", "there are") points at no place."""
    if reading.places:
        return None
    previous = previous_call(history)
    place = _place_of(previous) if previous is not None else None
    if place is None:
        return None
    for i, word in enumerate(reading.spans):
        if word.text.lower() not in lexicon.PLACE_REFERENCES:
            continue
        after = reading.text[word.end :].lstrip().lower()
        before = reading.lowered[i - 1] if i else ""
        if before in lexicon.BE_FORMS or any(
                after.startswith(be) and after[len(be) : len(be) + 1] in ("", " ", "?")
                for be in lexicon.BE_FORMS):
            continue
        return reading.text[: word.start] + f"in {place}" + reading.text[word.end :]
    return None


def _place_of(previous: Previous) -> str | None:
    """The place the previous call was made for: its first argument named like a place
    (city, location, timezone) with a place or zone for a value."""
    for name, value in previous.arguments.items():
        if wants_place(name, {}) and isinstance(value, str) and names_a_zone(value):
            return value
    return None


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
    expression = expression_parameter(tool)
    if expression is not None:  # "and of 300?" after "20% of 150"
        sum_ = _recomputed(reading, history, previous.arguments.get(expression))
        return (tool, {expression: sum_}) if sum_ is not None else None
    arguments = _replaced(reading, tool, previous)
    return (tool, arguments) if arguments != previous.arguments else None


_OPERAND = re.compile(r"\d+(?:\.\d+)?")


def _recomputed(reading: Reading, history: list[Message], written: Any) -> str | None:
    """The previous calculation with the one number the follow-up writes in place of the
    operand it stands for ("and of 300?" after "20% of 150" is ``20 / 100 * 300``): the
    previous sentence's number after the same word as the new one ("of"), else its last; the
    operand with that value, in the same rank among equal values, is replaced."""
    if not isinstance(written, str) or len(reading.numbers) != 1 or _REFERENCE.search(
            reading.text):
        return None  # "now divide that by 8" works on the result (``with_previous_result``)
    new = reading.numbers[0]
    before = _word_before(reading.text, new.start)
    question = previous_question(history)
    said = list(read(question).numbers) if question else []
    if not said:
        return None
    same = [n for n in said if before and _word_before(question or "", n.start) == before]
    old = (same or said)[-1]
    rank = [n.value for n in said[: said.index(old)]].count(old.value)
    operands = [m for m in _OPERAND.finditer(written) if float(m.group()) == old.value]
    if len(operands) <= rank or old.value == new.value:
        return None
    m = operands[rank]
    value = new.literal(integer=False)
    return written[: m.start()] + value + written[m.end() :]


def _word_before(text: str, position: int) -> str:
    """The word written right before ``position``, in lower case ("" at the start)."""
    found = re.findall(r"[^\W\d_]+", text[:position])
    return found[-1].lower() if found else ""


def previous_question(history: list[Message]) -> str | None:
    """The user's sentence that asked for the last call of ``history``."""
    called = False
    for message in reversed(history):
        called = called or (message.role == "assistant" and bool(message.tool_calls))
        if called and message.role == "user" and isinstance(message.content, str):
            return message.content
    return None


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
        group = "phrase" if target.group("phrase") is not None else "asked"
        named = pair_values(tool, roles["target"],
                            reading.part(target.start(group), target.end(group)))
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
