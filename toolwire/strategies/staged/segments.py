"""Several calls from one sentence: "weather in Paris and London", "convert 5 USD to EUR and GBP".

Two ways a sentence asks for the same function more than once:

- **sets of numbers** (:func:`number_sets`): it writes a whole set of the function's numbers
  several times over ("a base of 12 and a height of 15 ... a base of 18 and a height of 24"),
  each set in words alike; the sentence is cut into one segment per set and each is filled on
  its own.
- **varied clauses** (:func:`more_calls`): after the first call is filled, each later clause
  (split at "and", commas, "also", ...) that brings values of its own, values the first call did
  not use, yields one more call: the first call with those values put in place of the ones they
  stand beside. Values are the anchors a sentence can be trusted on: numbers, enum values it
  names, names (``Reading.names``). A clause that holds a value of the first call belongs to
  that call, and a place name after a comma is read as part of the one before it ("Los
  Angeles, California").

Both read the sentence's ``Reading``: its clauses (``text.clauses``, the splitter retrieval
uses too), its numbers and names; a segment is a part of that reading.

No model call is needed to find them, so a sentence without either costs nothing.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from typing import Any

from toolwire.strategies.staged.items import tool_items
from toolwire.strategies.staged.matching import enum_labels, name_share, required_numbers
from toolwire.text import lexicon, mentions
from toolwire.text.reading import Reading, Word
from toolwire.text.words import split_identifier, stem
from toolwire.tools.registry import Tool

_PROPER = re.compile(r"\b([A-Z][a-z]+(?:[ -][A-Z][a-z]+)*)")
"""A value that looks like a name ("Paris", "Los Angeles"): a call's argument a name may
replace."""
_MAX_CALLS = 8


@dataclass(kw_only=True, frozen=True)
class _Anchor:
    kind: str  # "number" | "enum" | "proper"
    value: Any
    param: str | None = None  # for enums: which parameter's enum named it


def clauses(sentence: Reading) -> list[str]:
    """The sentence's clauses (``Reading.clauses``); a single clause when nothing joins two."""
    return [c.text for c in sentence.clauses]


def _anchors(text: Reading, tool: Tool) -> list[_Anchor]:
    found = [_Anchor(kind="number", value=n.value) for n in text.numbers]
    named: list[str] = []
    props: dict[str, Any] = tool.parameters.get("properties", {})
    for name, schema in props.items():
        if not isinstance(schema, dict) or "enum" not in schema:
            continue
        for literal, labels in enum_labels(schema).items():
            value = json.loads(literal)
            if any(a.kind == "enum" and a.value == value for a in found):
                continue  # one anchor per value, even when several parameters share the enum
            written = [lb for lb in labels if len(lb) > 1 and text.mentions(lb)]
            if written:
                found.append(_Anchor(kind="enum", value=value, param=name))
                named += written
    for written_name in text.names:  # a name that is an enum value's label is that value
        if not any(written_name.text.lower() in label.lower() for label in named):
            found.append(_Anchor(kind="proper", value=written_name.text))
    return found


def _used(arguments: dict[str, Any], anchor: _Anchor) -> bool:
    values = list(arguments.values())
    if anchor.kind == "number":
        return any(isinstance(v, (int, float)) and float(v) == anchor.value for v in values)
    if anchor.kind == "enum":
        return anchor.value in values
    return any(isinstance(v, str) and anchor.value in v for v in values)


def _substitute(
    first: dict[str, Any], tool: Tool, anchors: list[_Anchor], question: Reading
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
    question: Reading,
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


def _position(question: Reading, value: str) -> int:
    where = question.position(value)
    return -1 if where is None else where


def _describes_a_parameter(clause: Reading, tool: Tool) -> bool:
    """Whether the clause names one of the tool's parameters (then it adds to the first call)."""
    hay = clause.stem_set
    for name in tool.parameters.get("properties", {}):
        for word in split_identifier(name):
            if len(word) > 2 and word not in lexicon.GENERIC_PARAM_WORDS and stem(word) in hay:
                return True
    return False


def _apposition(separator: str, previous: Reading, clause: Reading) -> bool:
    """A place name after a bare comma, after another one: "Los Angeles, California"."""
    if separator != "," or not previous.spans:
        return False
    last = previous.spans[-1]
    opens = any(n.start == clause.spans[0].start for n in clause.names) if clause.spans else False
    return opens and any(n.start <= last.start < n.end for n in previous.names)


def _holds_first_values(clause: Reading, tool: Tool, first: dict[str, Any]) -> bool:
    """Whether the clause writes a value the first call took (it is part of that call)."""
    if any(_used(first, a) for a in _anchors(clause, tool) if a.kind != "proper"):
        return True
    return any(isinstance(v, str) and len(v) > 1 and clause.mentions(v) for v in first.values())


def more_calls(question: Reading, tool: Tool, first: dict[str, Any]) -> list[dict[str, Any]]:
    """Arguments of the extra calls the later clauses of the sentence ask for (maybe none)."""
    parts = question.clause_parts()
    if len(parts) < 2:
        return []
    extra: list[dict[str, Any]] = []
    for (clause, part), (_, previous) in zip(parts[1:], parts, strict=False):
        if _describes_a_parameter(part, tool):
            continue  # "... and acceleration of 9.8": more of the same call, not another one
        if _apposition(clause.separator, previous, part) or _holds_first_values(part, tool,
                                                                                 first):
            continue
        fresh = [a for a in _anchors(part, tool) if not _used(first, a)]
        if not fresh:
            continue
        arguments = _substitute(first, tool, fresh, question)
        if arguments is not None and arguments != first and arguments not in extra:
            extra.append(arguments)
        if len(extra) >= _MAX_CALLS - 1:
            break
    return extra


_CONTEXT_WORDS = 3


def _context(question: Reading, number: mentions.NumberMention) -> set[str]:
    """The words around a number (its unit, the name before it), numbers and fillers left out."""

    def content(words: list[Word]) -> list[str]:
        return [w.text for w in words if not question.holds_number(w)
                and w.text.lower() not in lexicon.CORE_FUNCTION_WORDS]

    before = content(question.before(number.start))[-_CONTEXT_WORDS:]
    after = content(question.after(number.start + len(number.text)))[:_CONTEXT_WORDS]
    return {stem(w) for w in before + after}


def number_sets(question: Reading, tool: Tool) -> list[Reading] | None:
    """The segments of ``question`` that each write one whole set of ``tool``'s numbers.

    ``None`` unless the sentence writes the required numbers at least twice over (2, 3...
    sets of the same size), each set starting a clause and written in words like the first
    ("weighs 85 kilograms and is 1.8 meters tall, and ... weighs 60 kilograms and is 1.65
    meters tall"). The numbers of a set are then read in order from its own segment.
    """
    size = required_numbers(tool)
    found = list(question.numbers)
    digits = [n for n in found if not n.text.isalpha()]
    if size and (len(found) % size or (len(digits) >= 2 * size and not len(digits) % size)):
        found = digits  # "two side lengths: 3 and 4, 5 and 12": the counts are no set
    if size == 0 or len(found) < 2 * size or len(found) % size:
        return None
    sets = [found[i : i + size] for i in range(0, len(found), size)]
    for later in sets[1:]:
        alike = sum(
            bool(_context(question, a) & _context(question, b))
            for a, b in zip(sets[0], later, strict=True)
        )
        if 2 * alike < size or (size == 1 and not alike):
            return None
    starts = [c.start for c in question.clauses]
    cuts = [0]
    for later in sets[1:]:
        cut = max((s for s in starts if s <= later[0].start), default=0)
        if cut <= cuts[-1]:
            return None
        cuts.append(cut)
    bounds = list(itertools.pairwise([*cuts, len(question.text)]))
    segments = [question.part(a, b) for a, b in bounds]
    if any(len([n for n in found if a <= n.start < b]) != size for a, b in bounds):
        return None
    return segments[:_MAX_CALLS]


_NAMED_SHARE = 0.5


def tool_segments(
    question: Reading, first: Tool, candidates: list[Tool]
) -> list[tuple[Tool, Reading]]:
    """The sentence cut where a clause names another function: ``[(tool, segment), ...]``.

    Marked parts ("First, ... Then, ...") go each to the function it asks for
    (``items.tool_items``); otherwise clauses are read:
    "the GCD of 96 and 128, and the LCM of 15 and 25" -> ``[(gcd, "the GCD of 96 and 128, and
    "), (lcm, "the LCM of 15 and 25")]``. A clause names a tool when it writes at least half
    of the words of its name; clauses naming none stay with the segment before them; the
    first segment belongs to ``first`` (the tool chosen for the whole sentence) unless it
    names another. Fewer than two different tools: ``[]``.
    """
    by_parts = tool_items(question, first, candidates)
    if by_parts:  # "First, ... Then, ...": each marked part to the function it asks for
        return by_parts
    owners: list[tuple[int, Tool]] = []
    for clause, part in question.clause_parts():
        start = clause.start
        shares = {t.name: name_share(part, t) for t in candidates}
        named = max(candidates, key=lambda t: shares[t.name])
        current = owners[-1][1] if owners else None
        if shares[named.name] >= _NAMED_SHARE and named is not current:
            if current is not None and shares.get(current.name, 0.0) >= shares[named.name]:
                continue  # the clause names the current tool as much: no new segment
            owners.append((start, named))
        elif not owners:
            owners.append((start, first))
    if len({t.name for _, t in owners}) < 2:
        return []
    owners[0] = (0, owners[0][1])
    bounds = [s for s, _ in owners] + [len(question.text)]
    return [(tool, question.part(a, b)) for (a, tool), b in zip(owners, bounds[1:], strict=True)]
