"""The values a text writes, and the lists it writes them in: "Persian Empire and Mauryan
Empire", "10 years and 20 years", "'dataset1' and 'dataset2'".

A value is what a sentence can be trusted on (:func:`anchors`): a number, a quoted passage, a
place, a code ("BRCA1"), a capitalised name, an enum value of the tool it names, a boolean
parameter whose name it writes. Values of one kind joined by commas and a last "and"/"or" are
a list (:func:`runs`); the words each value stands between may be written again ("a Chicken
Soup recipe and a Vegan Salad recipe").

A value the first call gave a parameter that takes one value, written in such a list
(:func:`value_lists`), asks for one call per listed value (:func:`value_calls`), each filled
from the sentence with the list cut down to its value. A parameter that takes an array takes
the whole list in one call; a list whose other values the first call already uses ("between
12 and 15" for a low and a high) is no list of calls. Two lists make every pairing of their
values, or pairs in order where the sentence says "respectively".
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from toolwire.strategies.staged.fill import Fill
from toolwire.strategies.staged.matching import enum_labels, is_numeric
from toolwire.strategies.staged.priors import non_null
from toolwire.text import lexicon
from toolwire.text.reading import Reading
from toolwire.text.words import split_identifier, stem, word_spans
from toolwire.text.words import words as words_of
from toolwire.tools.registry import Tool

MAX_CALLS = 8
"""The most calls one listing makes."""

Filling = Callable[[Reading], Awaitable[Fill]]
"""Fills the chosen tool's arguments from a text (the strategy's own filler), read as a part
of the turn's reading (``Reading.spliced``)."""

_PROPER = re.compile(r"[A-Z][\w'.&-]*(?:\s+(?:of\s+|the\s+|de\s+)?[A-Z0-9][\w'.&-]*)*")
"""A capitalised name, maybe of several words ("Age of Reptiles", "Apple Inc.")."""
_CODE = re.compile(r"\b(?=[A-Za-z]*\d)(?=\w*[A-Z])\w{2,}\b")
"""Capitals and digits in one word ("BRCA1", "C6H12O6", "2D")."""


@dataclass(frozen=True)
class Anchor:
    """A value written in a text: a number, a quoted passage, a place, a code, a name."""

    kind: str
    """``number``, ``quote``, ``place``, ``code``, ``name``, ``enum`` (a value of the tool's
    enum), ``flag`` (a boolean parameter's name written: ``True``) or ``word`` (words a call
    took that no other reading finds)."""
    value: Any
    start: int
    end: int


def anchors(reading: Reading, tool: Tool | None = None) -> list[Anchor]:
    """The values ``reading`` writes, in order, none inside another: numbers, quoted passages,
    places, codes ("BRCA1"), capitalised names (not a word capitalised for another reason:
    see :func:`_for_its_place`), and the enum values of ``tool`` it names (an enum value
    before any other reading of the same words). A name in brackets right after another
    value is that value's gloss ("C6H12O6 (Glucose)"), not a value of its own."""
    text = reading.text
    found = _enum_anchors(text, tool) if tool is not None else []
    found += [Anchor("quote", q.text, q.start, q.end) for q in reading.quotes]
    found += [Anchor("place", p.text, p.start, p.end) for p in reading.places]
    found += [Anchor("code", m.group(), m.start(), m.end()) for m in _CODE.finditer(text)]
    for m in _PROPER.finditer(text):
        name = m.group()
        if name.endswith(".") and re.match(r"\s*(?:$|\s[A-Z\"'])", text[m.end() :]):
            name = name[:-1]  # a sentence's stop, not an abbreviation's ("Apple Inc.,")
        if not _for_its_place(reading, m.start(), name):
            found.append(Anchor("name", name, m.start(), m.start() + len(name)))
    found += [Anchor("number", n.value, n.start, n.start + len(n.text))
              for n in reading.numbers if not n.text.isalpha() or n.value > 1]
    out: list[Anchor] = []
    for a in sorted(found, key=lambda a: (a.start, -(a.end - a.start))):
        if any(b.start <= a.start and a.end <= b.end for b in out):
            continue
        if out and a.kind != "enum" and re.fullmatch(r"\s*\(", text[out[-1].end : a.start]):
            continue
        out.append(a)
    return out


def _for_its_place(reading: Reading, start: int, name: str) -> bool:
    """Whether a capitalised run at ``start`` is capitalised for another reason than naming
    something: it starts with a function or request word ("The", "If", "I'm": English
    capitalises them only where they open a sentence, or "I" always), or it opens a sentence
    of the whole turn ("Calculate the ...", "Find ..."). A place that opens a sentence is
    read as a place all the same (``Reading.places``)."""
    first = words_of(name)[0].lower().split("'")[0].split("’")[0]
    return first in lexicon.STOP_WORDS or reading.opens_sentence(start)


def _same_word(written: str, name: str) -> bool:
    """Whether a written word is a word of a parameter's name: the same stem, or the same
    first six letters ("standardization", ``standardize``)."""
    written = written.lower()
    return stem(written) == stem(name) or (len(name) >= 6 and written[:6] == name[:6])


def values_for(reading: Reading, tool: Tool | None) -> list[Anchor]:
    """The values ``reading`` writes that ``tool`` has a parameter for (numbers for a numeric
    one, names and quotes for a string, its enum values), numbers written as words left out."""
    text = reading.text
    if tool is None:
        return [a for a in anchors(reading) if a.kind != "number" or not text[a.start].isalpha()]
    schemas = [non_null(s) for s in tool.parameters.get("properties", {}).values()
               if isinstance(s, dict)]
    return [a for a in anchors(reading, tool)
            if not (a.kind == "number" and text[a.start].isalpha())
            and any(fits(s, a) for s in schemas)]


def _enum_anchors(text: str, tool: Tool) -> list[Anchor]:
    """The enum values ``text`` names (as written: "Aa" is not "AA" where the enum holds both;
    "six_months" written "six months"), and the booleans whose name it writes ("allow
    transfer": ``True``)."""
    found = []
    for name, schema in tool.parameters.get("properties", {}).items():
        schema = non_null(schema) if isinstance(schema, dict) else {}
        if schema.get("type") == "boolean":
            words = {w for w in split_identifier(name) if len(w) > 3}
            hit = {w: m for m in word_spans(text) for w in words if _same_word(m.group(), w)}
            if words and len(hit) == len(words):
                first = min(hit.values(), key=lambda m: m.start())
                found.append(Anchor("flag", True, first.start(), first.end()))
            continue
        labels = enum_labels(schema)
        folded = [str(json.loads(v)).lower() for v in labels]
        for literal, written in labels.items():
            value = json.loads(literal)
            exact = folded.count(str(value).lower()) > 1
            for label in dict.fromkeys([*written, str(value).replace("_", " ")]):
                if len(label) < 2:
                    continue
                flags = 0 if exact else re.IGNORECASE
                m = re.search(r"(?<!\w)" + re.escape(label) + r"(?!\w)", text, flags)
                if m:
                    found.append(Anchor("enum", value, m.start(), m.end()))
                    break
    return found


def fits(schema: dict[str, Any], anchor: Anchor) -> bool:
    """Whether a parameter of ``schema`` can take the value: a flag a boolean, an enum value
    its enum, a number a number, any other written value a string."""
    if anchor.kind == "flag":
        return schema.get("type") == "boolean"
    if "enum" in schema:
        return anchor.kind == "enum" and anchor.value in schema["enum"]
    if anchor.kind == "number":
        return is_numeric(schema)
    return anchor.kind != "enum" and schema.get("type") == "string"


def runs(text: str, written: list[Anchor]) -> list[list[Anchor]]:
    """The lists among ``written``: values of one family joined by commas and a last "and"."""
    runs: list[list[Anchor]] = []
    for anchor in written:
        if runs and _family(runs[-1][-1]) == _family(anchor) and _joins(text, runs[-1][-1],
                                                                         anchor):
            runs[-1].append(anchor)
        else:
            runs.append([anchor])
    return [r for r in runs if len(r) > 1 and re.search(
        r"\b(?:and|or)\b", text[r[-2].end : r[-1].start], re.IGNORECASE)]


# -- lists of values ---------------------------------------------------------------------------
_LIST_SEPARATOR = re.compile(r"\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+", re.IGNORECASE)
_WORD_SEPARATOR = re.compile(
    r"(?:\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+)(?:(?:the|a|an)\s+)?", re.IGNORECASE)
"""Between words listed as values, maybe with an article ("the length and the width")."""
_LIST_WORDS = 6
"""The most words a listed value has."""


@dataclass(frozen=True)
class _ValueList:
    """Values of one parameter written as a list, with where each stands."""

    param: str
    spans: tuple[tuple[int, int], ...]
    values: tuple[Any, ...]


def value_lists(reading: Reading, tool: Tool, first: dict[str, Any]) -> list[_ValueList]:
    """The lists of values ``reading`` writes for parameters of ``tool`` that take one value,
    each holding the value the first call gave that parameter."""
    props: dict[str, Any] = tool.parameters.get("properties", {})
    found: list[_ValueList] = []
    written = anchors(reading, tool)
    for name, value in first.items():
        schema = non_null(props.get(name, {})) if isinstance(props.get(name), dict) else {}
        if schema.get("type") in ("array", "object") or isinstance(value, (list, dict, bool)):
            continue
        listed = _list_around(reading, written, value)
        if listed is None or _used_elsewhere(first, name, listed):
            continue
        if any(_overlap(listed.spans, other.spans) for other in found):
            continue
        found.append(_ValueList(param=name, spans=listed.spans, values=listed.values))
    return found


def _overlap(a: tuple[tuple[int, int], ...], b: tuple[tuple[int, int], ...]) -> bool:
    return a[0][0] < b[-1][1] and b[0][0] < a[-1][1]


def _matches(anchor: Anchor, value: Any) -> bool:
    if anchor.kind == "number":
        return isinstance(value, (int, float)) and float(value) == anchor.value
    if isinstance(value, str) and isinstance(anchor.value, str):
        return value.strip().lower() == anchor.value.strip().lower()
    return bool(anchor.value == value)


def _list_around(reading: Reading, written: list[Anchor], value: Any) -> _ValueList | None:
    """The list ``value`` is written in: values of its kind joined by commas and a last
    "and"/"or", or ``None``."""
    text = reading.text
    at = next((i for i, a in enumerate(written) if _matches(a, value)), None)
    if at is None and isinstance(value, str):
        inside = _listed_inside(text, written, value)
        if inside is not None:
            return inside
        written = _word_anchors(reading, value)
        at = next((i for i, a in enumerate(written) if _matches(a, value)), None)
    if at is None:
        return None
    kind = _family(written[at])
    members = [at]
    for step in (-1, 1):
        i = at
        while 0 <= i + step < len(written):
            a, b = sorted((written[i], written[i + step]), key=lambda x: x.start)
            if _family(written[i + step]) != kind or not _joins(text, a, b):
                break
            i += step
            members.append(i)
    members.sort()
    if len(members) < 2 or len(members) > MAX_CALLS:
        return None
    chosen = [written[i] for i in members]
    gaps = [text[a.end : b.start] for a, b in itertools.pairwise(chosen)]
    if not re.search(r"\b(?:and|or)\b", gaps[-1], re.IGNORECASE):
        return None  # "New York, NY": no list without a last "and"
    return _ValueList(param="", spans=tuple((a.start, a.end) for a in chosen),
                      values=tuple(a.value for a in chosen))


def _listed_inside(text: str, written: list[Anchor], value: str) -> _ValueList | None:
    """The list ``value`` itself is, when a call took a whole list as one value ("Apple Inc.,
    Google LLC. and Microsoft")."""
    m = re.search(re.escape(value), text, re.IGNORECASE)
    if m is None:
        return None
    inside = [a for a in written if m.start() <= a.start and a.end <= m.end()]
    if len(inside) < 2 or inside[0].start != m.start() or text[inside[-1].end : m.end()].strip(
            " .,"):
        return None
    if len({_family(a) for a in inside}) > 1 or not all(
            _joins(text, a, b) for a, b in itertools.pairwise(inside)):
        return None
    if not re.search(r"\b(?:and|or)\b", text[inside[-2].end : inside[-1].start], re.IGNORECASE):
        return None
    return _ValueList(param="", spans=tuple((a.start, a.end) for a in inside),
                      values=tuple(a.value for a in inside))


def _family(anchor: Anchor) -> str:
    """Values that may stand in one list: numbers, enum values, quotes, or written names (a
    name, a place, a code: "Apple, Google and Microsoft")."""
    return anchor.kind if anchor.kind in ("number", "enum", "quote") else "text"


def _joins(text: str, a: Anchor, b: Anchor) -> bool:
    """Whether ``a`` and ``b`` are neighbours in a list: a separator between them, maybe with
    the words each value stands between written again ("a Chicken Soup recipe and a Vegan
    Salad recipe", "10 years and 20 years", "$150, $200")."""
    gap = text[a.end : b.start].rstrip("$€£")
    for sep in _LIST_SEPARATOR.finditer(gap):
        tail, head = words_of(gap[: sep.start()]), words_of(gap[sep.end() :])
        if len(tail) > _LIST_CONTEXT or len(head) > _LIST_CONTEXT:
            continue
        if gap[: sep.start()].strip(" .()[]'\"") and not tail:
            continue
        if gap[sep.end() :].strip(" ()[]'\"") and not head:
            continue
        after = words_of(text[b.end :])[: len(tail)]
        before = words_of(text[: a.start])[-len(head) :] if head else []
        if _alike(tail, after) and _alike(head, before):
            return True
    return False


_LIST_CONTEXT = 3
"""The most words a list may write again around each value ("homozygous dominant genotype
(AA), heterozygous genotype (Aa)")."""


def _alike(written: list[str], again: list[str]) -> bool:
    """Whether words written around one listed value are those around another: the same, or
    (for two words or more) ending on the same word ("dominant genotype", "heterozygous
    genotype")."""
    if not written:
        return True
    if len(again) < len(written):
        return False
    same = [w.lower() for w in written] == [w.lower() for w in again]
    return same or (len(written) > 1 and stem(written[-1]) == stem(again[-1]))


def _word_anchors(reading: Reading, value: str) -> list[Anchor]:
    """``value`` (words the first call took that no other reading finds) and the runs of as
    many words listed beside it ("water and iron")."""
    text = reading.text
    size = len(words_of(value))
    m = re.search(r"(?<!\w)" + re.escape(value) + r"(?!\w)", text, re.IGNORECASE)
    if m is None or not 0 < size <= _LIST_WORDS:
        return []
    spans = reading.spans
    index = {w.start: i for i, w in enumerate(spans)}
    ends = {w.end: i for i, w in enumerate(spans)}

    def run(first: int) -> Anchor | None:
        group = spans[first : first + size] if first >= 0 else ()
        if len(group) < size or any(
            w.text.lower() in lexicon.STOP_WORDS or reading.holds_number(w) for w in group
        ):
            return None
        return Anchor("word", text[group[0].start : group[-1].end], group[0].start,
                      group[-1].end)

    found = [Anchor("word", m.group(), m.start(), m.end())]
    edge = found[0]
    while (sep := _WORD_SEPARATOR.match(text, edge.end)) and sep.end() in index:
        nxt = run(index[sep.end()])
        if nxt is None:
            break
        found.append(edge := nxt)
    edge = found[0]
    while True:
        before = text[: edge.start]
        sep = next((s for s in _WORD_SEPARATOR.finditer(before) if s.end() == len(before)), None)
        if sep is None or sep.start() not in ends:
            break
        nxt = run(ends[sep.start()] - size + 1)
        if nxt is None:
            break
        found.insert(0, edge := nxt)
    return found


def _used_elsewhere(first: dict[str, Any], name: str, listed: _ValueList) -> bool:
    """Whether another listed value is one the first call gave another parameter ("between
    12 and 15" for a low and a high)."""
    others = [v for k, v in first.items() if k != name]
    others += [x for v in others if isinstance(v, list) for x in v]
    for value in listed.values:
        for other in others:
            same = (isinstance(other, (int, float)) and not isinstance(other, bool)
                    and isinstance(value, (int, float)) and float(other) == float(value))
            if same or (isinstance(other, str) and isinstance(value, str)
                        and value.lower() in other.lower()):
                return True
    return False


async def value_calls(
    reading: Reading, tool: Tool, first: dict[str, Any], fill: Filling
) -> list[dict[str, Any]] | None:
    """One call per listed value (per pairing of values, for two lists), each filled from the
    text with the lists cut down to that value; ``None`` when nothing is listed."""
    lists = value_lists(reading, tool, first)
    if not lists:
        return None
    if len(lists) > 1 and re.search(r"\brespectively\b", reading.text, re.IGNORECASE):
        width = {len(v.values) for v in lists}
        combos = [tuple([i] * len(lists)) for i in range(width.pop())] if len(width) == 1 else []
    else:
        combos = list(itertools.product(*(range(len(v.values)) for v in lists)))
    if not combos or len(combos) > MAX_CALLS:
        return None
    calls: list[dict[str, Any]] = []
    for combo in combos:
        own = _with_values(reading, lists, combo)
        made = await fill(own)
        arguments = made.arguments if not made.missing else None
        if arguments is None:
            return None
        for listed, index in zip(lists, combo, strict=True):
            arguments[listed.param] = _as_type(tool, listed.param, listed.values[index],
                                               arguments.get(listed.param))
        if arguments not in calls:
            calls.append(arguments)
    return calls if len(calls) > 1 else None


def _with_values(reading: Reading, lists: list[_ValueList], combo: tuple[int, ...]) -> Reading:
    """``reading`` with each list cut down to one of its values."""
    cuts = sorted((v.spans[0][0], v.spans[-1][1], v.spans[i])
                  for v, i in zip(lists, combo, strict=True))
    pieces: list[tuple[int, int]] = []
    at = 0
    for start, end, kept in cuts:
        pieces += [(at, start), kept]
        at = end
    return reading.spliced([*pieces, (at, len(reading.text))])


def _as_type(tool: Tool, param: str, value: Any, filled: Any) -> Any:
    """The listed value as the parameter's type takes it (the filled one where it agrees)."""
    if isinstance(value, float):
        schema = non_null(tool.parameters.get("properties", {}).get(param, {}))
        return int(value) if schema.get("type") == "integer" or value.is_integer() else value
    if isinstance(filled, str) and isinstance(value, str) and value.lower() in filled.lower():
        return filled
    return value
