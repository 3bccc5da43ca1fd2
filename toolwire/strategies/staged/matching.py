"""Literal evidence that a tool fits a sentence: its name's words or an enum value written
there (``lexical_match``), whether the sentence can fill its required parameters
(``feasible``, counted by ``required_numbers``), and the labels a schema gives its enum values
(``enum_labels``). Each reads the sentence's ``Reading``."""

from __future__ import annotations

import json
import re
from itertools import pairwise
from typing import Any

from toolwire.strategies.staged.examples import code_shape, example_of
from toolwire.strategies.staged.priors import non_null
from toolwire.text import lexicon, mentions
from toolwire.text.reading import Reading
from toolwire.text.words import split_identifier, stem
from toolwire.tools.registry import Tool

_LABEL_AFTER = (r"\s*(?:\(|=|:|-|" + "|".join(sorted(lexicon.ENUM_LABEL_LINKS)) + r")?\s*"
                r"([A-Za-z][A-Za-z .'-]{1,40}?)\s*(?:[,;)\n]|$| or | and )")


def enum_labels(schema: dict[str, Any]) -> dict[str, list[str]]:
    """Words that name each enum value: the value, and labels the schema gives for it.

    Labels come from ``enumDescriptions`` / ``x-enum-descriptions`` (a list beside ``enum`` or a
    mapping), or from the parameter description where it writes ``VALUE label``
    (``"USD US dollar, CAD Canadian dollar"``, ``"'C' for Celsius"``).
    """
    values = schema.get("enum", [])
    labels: dict[str, list[str]] = {json.dumps(v): [str(v)] for v in values}
    given = schema.get("enumDescriptions", schema.get("x-enum-descriptions"))
    if isinstance(given, list):
        given = dict(zip(values, given, strict=False))
    if isinstance(given, dict):
        for v, label in given.items():
            if json.dumps(v) in labels and isinstance(label, str):
                labels[json.dumps(v)].append(label)
    description = str(schema.get("description", ""))
    for v in values:
        if not isinstance(v, str) or len(v) < 1:
            continue
        pattern = r"(?<![A-Za-z0-9])['\"]?" + re.escape(v) + r"['\"]?(?![A-Za-z0-9])" + _LABEL_AFTER
        for m in re.finditer(pattern, description):
            label = _without_article(m.group(1).strip())
            if label and label.lower() != v.lower() and len(label.split()) <= 4:
                labels[json.dumps(v)].append(label)
                if len(label.split()) > 2:  # "British pound sterling": "British pound" too
                    labels[json.dumps(v)].append(" ".join(label.split()[:2]))
    return labels


def _without_article(label: str) -> str:
    """A label without the article it opens with ("a text editor" -> "text editor"), so that
    its first words are its own."""
    first, _, rest = label.partition(" ")
    return rest.strip() if rest and first.lower() in lexicon.DETERMINERS else label


def is_numeric(schema: dict[str, Any]) -> bool:
    """A number parameter, or one typed ``["string", "number"]`` whose example is not a code
    ("e.g. USD" says a currency is written as letters, whatever its type allows)."""
    kind = non_null(schema).get("type")
    if isinstance(kind, list):
        return (any(k in ("number", "integer") for k in kind) and "enum" not in schema
                and code_shape(example_of(schema)) is None)
    return kind in ("number", "integer") and "enum" not in schema


def required_numbers(tool: Tool) -> int:
    """How many numbers a call of ``tool`` needs the sentence to write: its required
    parameters typed ``number`` or ``integer`` without an enum. An Optional one (null allowed:
    ``anyOf [number, null]``, ``type: [number, null]``) needs none, as null will do."""
    props: dict[str, Any] = tool.parameters.get("properties", {})
    return sum(
        1
        for name in tool.parameters.get("required", [])
        if isinstance(props.get(name), dict)
        and props[name].get("type") in ("number", "integer")
        and "enum" not in props[name]
    )


def feasible(reading: Reading, tool: Tool) -> bool:
    """Whether the sentence writes enough numbers for the tool's required numeric parameters.

    A tool that would have to ask for a number the user never wrote is rarely the one meant
    when another candidate fits ("is it hot in Tokyo, in fahrenheit" is not a unit conversion).
    """
    return required_numbers(tool) <= len(reading.numbers)


def moment_kind(name: str, schema: dict[str, Any]) -> str | None:
    """``"time"`` for a string parameter that wants a time (or date and time), ``"date"`` for
    one that wants a calendar date, else ``None``: by its ``format``, the pattern its
    description spells, or a name ending in ``time``/``date`` (``start_time``, ``due_date``)."""
    schema = non_null(schema)
    if schema.get("type") != "string" or "enum" in schema:
        return None
    last = (split_identifier(name) or [""])[-1]
    if schema.get("format") in ("date-time", "time") or last in ("time", "datetime"):
        return "time"
    if mentions.time_format(name, schema):
        return "time"
    return "date" if mentions.date_format(name, schema) else None


def moments_feasible(reading: Reading, tool: Tool) -> bool:
    """Whether the sentence writes what the tool's required date and time parameters want: a
    date (or "tomorrow", "next week") for a date, a time of day, a date or "now" for a time.
    ("Is it hot in Tokyo today?" writes no time to convert between time zones.)"""
    props: dict[str, Any] = tool.parameters.get("properties", {})
    kinds = {moment_kind(name, props.get(name, {})) for name in tool.parameters.get("required", [])}
    has_date = bool(reading.dates)
    if "date" in kinds and not (has_date or names_a_day(reading)):
        return False
    return "time" not in kinds or bool(has_date or reading.times
                                       or lexicon.NOW_WORDS & set(reading.lowered))


def names_a_day(reading: Reading) -> bool:
    """Whether the sentence names a day by where it stands ("tomorrow", "friday", "next
    week")."""
    lowered = reading.lowered
    return bool((lexicon.RELATIVE_DAYS | lexicon.WEEKDAYS) & set(lowered)) or any(
        a in lexicon.PERIOD_MARKERS and b in lexicon.PERIODS for a, b in pairwise(lowered))


def name_share(reading: Reading, tool: Tool) -> float:
    """The share of the (non-generic) words of ``tool``'s name that the sentence writes, 0..1."""
    parts = [w for w in split_identifier(tool.name) if w not in lexicon.GENERIC_NAME_WORDS]
    hay = reading.stem_set
    return sum(stem(p) in hay for p in parts) / len(parts) if parts else 0.0


def lexical_match(reading: Reading, tool: Tool) -> float:
    """How literally the sentence names ``tool``: its name's words, or one of its enum values.

    0..1 for the share of the name's (non-generic) words written, plus 1 when the sentence
    names a value of one of the tool's enum parameters ("open the *calculator*").
    """
    share = name_share(reading, tool)
    props: dict[str, Any] = tool.parameters.get("properties", {})
    named = any(
        reading.mentions(label)
        for schema in props.values()
        if isinstance(schema, dict) and "enum" in schema
        for values in enum_labels(schema).values()
        for label in values
        if len(label) > 2
    )
    return share + (1.0 if named else 0.0)
