"""One call per listed item: "the weather in Paris and in London", "the GCD of 12 and 15, and of
18 and 24", "the ancient empires Persian Empire and Mauryan Empire".

A sentence that asks for one function several times lays the calls out as a *listing*: a
frame (the words before, between and after the items, shared by every call) and one item per
call. Each call is filled from its own text, the frame with that item alone, so it never sees
another call's values. Two kinds of listing are read here:

- **marked parts** (:func:`marked_parts`): sentences or clauses that start another call with a
  sequence word ("Also, ...", "Lastly, ...", "..., then repeat with ...", "and then do the same
  for ..."), an ordinal ("The first triangle has ... The second triangle has ...") or the
  preposition or quotation the first item began with ("between A and B, and between C and D",
  "named 'A' in X, and 'B' in Y") or a thing named again ("an Italian restaurant ... and a
  Japanese sushi restaurant", a word of the tool's name included). An ordinal
  ties parts written apart to one call ("the first object ... and the second object ... If the
  first object ... and the second object ..."). A part that writes fewer values than a call
  needs changes only what it writes in the call before it ("then repeat with a change in time
  of 10 seconds"), and a part whose values all go to parameters the call before left out adds
  them to that call ("Also, the face value is $1000").
- **a list of values** (:func:`value_lists`): a value the first call gave a parameter that
  takes one value, written in a list with others like it ("Persian Empire and Mauryan Empire",
  "10 years and 20 years", "Los Angeles, CA and Chicago, IL"). A parameter that takes an array
  takes the whole list in one call; a list whose other values the first call already uses
  ("between 12 and 15" for a low and a high) is no list of calls. Two lists make every pairing
  of their values, or pairs in order where the sentence says "respectively".
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from toolwire.strategies.staged.fill import Fill
from toolwire.strategies.staged.matching import required_numbers
from toolwire.strategies.staged.priors import non_null
from toolwire.strategies.staged.values import (
    MAX_CALLS,
    Anchor,
    Filling,
    anchors,
    fits,
    runs,
    values_for,
)
from toolwire.text import lexicon
from toolwire.text.mentions import NumberMention
from toolwire.text.reading import Reading
from toolwire.text.words import split_identifier, stem, terms, word_spans
from toolwire.text.words import words as words_of
from toolwire.tools.registry import Tool

_SEQUENCE = re.compile(
    r"(?:and\s+|but\s+|so\s+)?(?:also|additionally|then|next|after\s+\w+(?=,)|afterwards|after\s+this"
    r"|lastly|finally|moreover|furthermore|plus|besides|later|similarly|likewise|in\s+addition"
    r"|once\s+(?:done|that\s+is\s+done|we\s+have\s+(?:those|that|this|these))|followed\s+by"
    r"|(?:\w+\s+){0,3}compar(?:e|ed|ing))\b",
    re.IGNORECASE,
)
_BOUNDARY = re.compile(r",\s*(?:and\s+|but\s+)?|;\s*|\s+(?:and|but)\s+", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.?!])(?P<close>[\"')\]]*)\s+(?=[\"'(\[]?[A-Z0-9])|\s*\n+\s*")
"""Where a sentence ends (its stop and closing quotes kept) and the next begins."""
_ORDINAL_WINDOW = 4
"""An ordinal within a sentence's first words marks the call it belongs to ("For the first
run")."""
_CLAUSE_ORDINAL_WINDOW = 3
"""An ordinal within a clause's first words marks it ("and the second object")."""
_SHORTEST_PART = 3
"""A clause of fewer words goes on with the part it is in ("Also, in another series")."""


@dataclass(frozen=True)
class Piece:
    """A stretch of the sentence: shared by every call (``owner`` ``None``) or one item's."""

    start: int
    end: int
    owner: int | None


@dataclass(frozen=True)
class Listing:
    """A sentence read as a frame and items, one item per call. The texts it gives are cut
    from the sentence's reading (``Reading.spliced``), never read again."""

    reading: Reading
    pieces: tuple[Piece, ...]

    @property
    def text(self) -> str:
        """The sentence it lists the items of."""
        return self.reading.text

    @property
    def count(self) -> int:
        """How many items (calls) it lists."""
        return len({p.owner for p in self.pieces if p.owner is not None})

    def text_of(self, item: int) -> Reading:
        """The frame with ``item`` alone: the text its call is filled from."""
        return self.text_of_items({item})

    def text_of_items(self, items: set[int]) -> Reading:
        """The frame with ``items`` alone. Where the frame lists one value per item "each" or
        "respectively" ("You sold them at $180, $210 and $300 respectively"), the lone item's
        value alone; where it lists values of which the items name some ("for Microsoft and
        Apple" ... "the revenue of Apple"), those alone."""
        reading = _joined(self.reading, self._kept(items))
        if len(items) == 1:
            reading = _respective(reading, min(items), self.count)
        return _named_only(reading, " ".join(self.own(i).text for i in sorted(items)))

    def _kept(self, items: set[int]) -> list[Piece]:
        """The frame's pieces and those of ``items``; two items written one after the other
        keep the words that joined them ("a client in London *and* another one in Tokyo"), so
        that the text of several items can be read as a listing again."""
        kept: list[Piece] = []
        previous: Piece | None = None
        for piece in self.pieces:
            if piece.owner is not None and piece.owner not in items:
                previous = None
                continue
            if (kept and previous is kept[-1] and previous.owner is not None
                    and piece.owner is not None and previous.owner != piece.owner):
                kept[-1] = replace(previous, end=piece.start)  # the joining words go with it
            kept.append(piece)
            previous = piece
        return kept

    def frame(self) -> Reading:
        """What every call shares: the words around the items."""
        return _joined(self.reading, [p for p in self.pieces if p.owner is None])

    def own(self, item: int) -> Reading:
        """What ``item`` itself writes."""
        return _joined(self.reading, [p for p in self.pieces if p.owner == item])


_EACH = re.compile(r"\b(?:respectively|each)\b", re.IGNORECASE)


def _named_only(reading: Reading, own: str) -> Reading:
    """``reading`` with each list of names of which ``own`` names some, not all, cut to
    those."""
    for run in reversed(runs(reading.text, anchors(reading))):
        named = [a for a in run if isinstance(a.value, str) and a.value.lower() in own.lower()]
        if named and len(named) < len(run):
            kept: list[tuple[int, int] | str] = [(a.start, a.end) for a in named]
            joined = [x for pair in zip(kept, [" and "] * len(kept), strict=True) for x in pair]
            reading = reading.spliced(
                [(0, run[0].start), *joined[:-1], (run[-1].end, len(reading.text))])
    return reading


_COUNTED_WORDS = 3
"""How many words may stand between a count and the list it counts ("two different datasets,
'dataset1' and 'dataset2'")."""


def _counted(reading: Reading, run: list[Anchor], start: int) -> bool:
    """Whether the list ``run`` is introduced by its own size written in words, within its
    sentence (from ``start``): "on two different datasets, 'dataset1' and 'dataset2'"."""
    for number in reading.numbers:
        if (number.text.isalpha() and number.value == len(run)
                and start <= number.start < run[0].start
                and len(words_of(reading.text[number.start : run[0].start])) <= _COUNTED_WORDS):
            return True
    return False


def _respective(reading: Reading, item: int, count: int) -> Reading:
    """``reading`` with each list of ``count`` values in a sentence that says "each" or
    "respectively", or that counts the list ("two datasets, 'A' and 'B'"), cut down to the
    value of ``item``."""
    lists = [run for run in runs(reading.text, anchors(reading)) if len(run) == count]
    for run in reversed(lists):
        start, end = next((a, b) for a, b in sentences(reading) if a <= run[0].start < b)
        if _EACH.search(reading.text[start:end]) or _counted(reading, run, start):
            reading = reading.spliced([(0, run[0].start), (run[item].start, run[item].end),
                                       (run[-1].end, len(reading.text))])
    return reading


def _joined(reading: Reading, pieces: list[Piece]) -> Reading:
    """The pieces' words in order, a stop between those that were not written together."""
    out: list[tuple[int, int] | str] = []
    last = ""
    for piece in pieces:
        written = reading.text[piece.start : piece.end]
        words = written.strip(" ,;\n")
        if not words:
            continue
        if out:
            out.append(("." if last not in ".?!:" and words[0].isupper() else "") + " ")
        start = piece.start + len(written) - len(written.lstrip(" ,;\n"))
        out.append((start, start + len(words)))
        last = words[-1]
    return reading.spliced(out)


# -- marked parts -------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Part:
    start: int
    end: int
    sentence: int
    ordinal: int | None = None
    """The call an ordinal names ("the second triangle": 2)."""
    sequence: bool = False
    """It starts with a word that begins the next call ("Also", "then", "Secondly", "another")."""
    first: bool = False
    """It starts the first call ("First, ...")."""
    counted: bool = False
    """It starts with a step's ordinal ("First, ...", "Secondly, ...")."""
    again: bool = False
    """It names again a thing its sentence named ("... and a Japanese sushi restaurant")."""
    cut: int = 0
    """Where the words that join it to the part before begin (", and then")."""
    lead: int | None = None
    """Where the first item of a repeated preposition starts ("between A and B, and between
    ..."): the part before it continues from there."""


def sentences(reading: Reading) -> list[tuple[int, int]]:
    """Where each sentence of ``reading`` starts and ends (newlines end one too; a stop inside
    a quotation ends none: "The text is 'I had a good day. The weather was fine.'")."""
    text = reading.text
    quotes = [(q.start, q.end) for q in reading.quotes]
    out, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        end = m.end("close") if m.group("close") is not None else m.start()
        if any(a < end < b for a, b in quotes):
            continue
        if text[start:end].strip():
            out.append((start, end))
        start = m.end()
    if text[start:].strip():
        out.append((start, len(text)))
    return out


def _ordinal(words: list[str], window: int, paired: frozenset[str]) -> tuple[int, bool] | None:
    """The call an ordinal among ``words``' first ones names, and whether it names a thing
    ("the second garden": ``(2, True)``) rather than a step ("Second, ...", "another"). An
    ordinal before a word of several parameters' names picks a parameter, not a call ("the
    first dataset" for ``dataset_a`` and ``dataset_b``)."""
    for i, word in enumerate(words[:window]):
        lower = word.lower()
        named = i > 0 and words[i - 1].lower() == "the"
        if named and i + 1 < len(words) and stem(words[i + 1]) in paired:
            return None
        if lower in lexicon.ORDINALS:
            return lexicon.ORDINALS[lower], named and not lower.endswith("ly")
        if lower == "another" or (lower == "other" and named):
            return 0, False
    return None


def _marks(text: str, start: int, end: int, sentence: int, window: int, cut: int,
           paired: frozenset[str]) -> _Part:
    """The part from ``start`` with what marks it: an ordinal among its first ``window`` words,
    a sequence word at its start."""
    head = text[start:end]
    found = _ordinal(words_of(head), window, paired)
    counted = bool(found and not found[1] and found[0] > 0)  # "First, ...", "Secondly, ..."
    return _Part(
        start=start, end=end, sentence=sentence, cut=cut,
        ordinal=found[0] if found and found[1] else None,
        sequence=bool(_SEQUENCE.match(head)) or bool(found and not found[1] and found[0] != 1),
        first=counted and found is not None and found[0] == 1, counted=counted,
    )


def _clause_mark(reading: Reading, boundary: re.Match[str], end: int, sentence: int,
                 names: _Names) -> _Part | None:
    """The clause after ``boundary`` as a part of its own, if something marks it as another
    call: an ordinal or sequence word, a preposition or a thing named again after "and"."""
    text = reading.text
    part = _marks(text, boundary.end(), end, sentence, _CLAUSE_ORDINAL_WINDOW, boundary.start(),
                  names.paired)
    if _marked(part):
        return part
    lead = _repeated_preposition(text, boundary, end)
    if lead is None:
        lead = _repeated_quotation(reading, boundary)
    if lead is not None:
        return replace(part, lead=lead)
    repeated = _repeated_noun(reading, boundary, end, names.parameters)
    if repeated is None:
        return None
    return replace(part, again=True, lead=_article_before(reading.text, boundary, repeated))


def _repeated_preposition(text: str, boundary: re.Match[str], end: int) -> int | None:
    """Where the first item starts when the clause after ``boundary`` (an "and") repeats a
    preposition written before it in the sentence ("of 12 and 15, and of 18 and 24"): that
    earlier preposition."""
    words = word_spans(text[boundary.end() : end])
    if "and" not in boundary.group().lower() or not words:
        return None
    word = words[0].group().lower()
    if word not in lexicon.ITEM_PREPOSITIONS:
        return None
    start = text.rfind("\n", 0, boundary.start()) + 1
    earlier = [m for m in word_spans(text[start : boundary.start()])
               if m.group().lower() == word]
    return start + earlier[-1].start() if earlier else None


def _repeated_quotation(reading: Reading, boundary: re.Match[str]) -> int | None:
    """Where the first item starts when the clause after ``boundary`` (", and") opens with a
    quotation and its sentence quoted once before, then went on ("the exhibition named 'Wonder
    of Nature' in the Louvre, and 'Age of Reptiles' in the British Museum"): that earlier
    quotation. Two quotations side by side ("'A' and 'B'") are a list, not two items."""
    if not re.fullmatch(r",\s*and\s+", boundary.group(), re.IGNORECASE):
        return None
    text = reading.text
    start = next((a for a, b in sentences(reading) if a <= boundary.start() < b), 0)
    if not any(q.start == boundary.end() for q in reading.quotes):
        return None
    earlier = [q for q in reading.quotes if start <= q.start and q.end <= boundary.start()]
    if len(earlier) != 1 or not words_of(text[earlier[0].end : boundary.start()]):
        return None
    return earlier[0].start


def _repeated_noun(reading: Reading, boundary: re.Match[str], end: int,
                   avoid: frozenset[str]) -> str | None:
    """The stem of the thing the clause after ``boundary`` (an "and") names again among its
    first words, named before in its sentence ("an Italian restaurant in New York and a
    Japanese sushi restaurant in Los Angeles": ``restaurant``), else ``None``; the words of the
    tools' parameter names (``avoid``: "a base of 12 and a height of 15 ... and a height of
    24") do not count."""
    if "and" not in boundary.group().lower():
        return None
    text = reading.text
    start = text.rfind("\n", 0, boundary.start()) + 1
    said = {stem(w) for w in words_of(text[start : boundary.start()])}
    head = [w for w in reading.after(boundary.end()) if w.start < end][:_ORDINAL_WINDOW]
    if not head or head[0].text.lower() not in ("a", "an"):
        return None
    return next((stem(w.text) for w in head if len(w.text) > 3
                 and w.text.lower() not in lexicon.STOP_WORDS and not reading.holds_number(w)
                 and stem(w.text) in said and stem(w.text) not in avoid), None)


def _article_before(text: str, boundary: re.Match[str], noun: str) -> int | None:
    """Where the first item starts when the clause after ``boundary`` names ``noun`` again:
    the "a"/"an" a few words before its last mention before the boundary, in the same
    sentence ("Search for *a* Chicken Noodle Soup recipe and a Vegan Salad recipe"), so that
    the words before it ("Search for") are shared."""
    start = max([text.rfind("\n", 0, boundary.start()), *(
        m.end() - 1 for m in re.finditer(r"[.?!]\s", text[: boundary.start()]))]) + 1
    spans = word_spans(text[start : boundary.start()])
    said = [i for i, m in enumerate(spans) if stem(m.group()) == noun]
    if not said:
        return None
    for i in range(said[-1] - 1, max(said[-1] - 1 - _ORDINAL_WINDOW, -1), -1):
        if spans[i].group().lower() in ("a", "an"):
            return start + spans[i].start()
    return None


def _enclosed(text: str, start: int, at: int) -> bool:
    """Whether ``at`` lies inside brackets or a quotation opened after ``start``."""
    before = text[start:at]
    return before.count("[") > before.count("]") or before.count("(") > before.count(")") or (
        before.count('"') % 2 == 1)


def _parts(reading: Reading, names: _Names) -> list[_Part]:
    """The sentence's parts: each sentence, cut again where a clause marks another call."""
    text = reading.text
    parts: list[_Part] = []
    for index, (s_start, s_end) in enumerate(sentences(reading)):
        sentence = [_marks(text, s_start, s_end, index, _ORDINAL_WINDOW, s_start, names.paired)]
        for m in _BOUNDARY.finditer(text, s_start, s_end):
            if _enclosed(text, s_start, m.start()) or len(
                words_of(text[sentence[-1].start : m.start()])
            ) < _SHORTEST_PART:
                continue
            mark = _clause_mark(reading, m, s_end, index, names)
            if mark is not None:
                sentence.append(mark)
        for a, b in itertools.pairwise(sentence):
            parts.append(replace(a, end=b.cut))
        parts.append(sentence[-1])
    return parts


def _marked(part: _Part) -> bool:
    return (part.ordinal is not None or part.sequence or part.first or part.again
            or part.lead is not None)


def _owners(text: str, parts: list[_Part], valued: Callable[[_Part], bool], *,
            near: bool = False) -> list[int | None]:
    """Which call each part belongs to (``None``: shared by all); ``valued`` tells a part that
    writes values from one that only talks. Where the sentence counts its steps ("First, ...
    Then, ..."), an ordinal naming a thing ("the first dataset") is part of a step. The
    sentences after the last marked part go on with it while they write values and speak of
    no calls together ("both", "each", "these"); from there on they are shared. ``near``:
    only parts of its own sentence may be the first call of a later "also" (a segment's
    earlier sentences are its frame)."""
    steps = any(p.counted for p in parts)
    if steps:
        parts = [replace(p, ordinal=None) for p in parts]
    owner: list[int | None] = [None] * len(parts)
    top = 0
    current: int | None = None
    for i, part in enumerate(parts):
        if not _marked(part):
            owner[i] = current  # an unmarked sentence goes on with the call before it
            continue
        if part.ordinal is not None:
            number = part.ordinal
        elif part.first and top == 0:
            number = 1
        else:
            if top == 0:  # the parts with values right before the first "also": the first call
                before = i - 1
                while before >= 0 and not valued(parts[before]):
                    before -= 1
                while before >= 0 and owner[before] is None and valued(parts[before]) and (
                        not near or parts[before].sentence == part.sentence):
                    owner[before] = top = 1
                    before -= 1
            number = top + 1 if top else 1
        owner[i] = current = number
        top = max(top, number)
    last = max((i for i, p in enumerate(parts) if owner[i] is not None and _marked(p)),
               default=-1)
    shared = False
    for i, part in enumerate(parts):
        if i <= last or _marked(part) or parts[last].sentence == part.sentence:
            continue
        shared = shared or not valued(part) or bool(_TOGETHER.search(text[part.start : part.end]))
        if shared:
            owner[i] = None
    return owner


_ALL_OF_THEM = re.compile(r"[,;]\s*(?:both|each|all)\b", re.IGNORECASE)
"""A clause that closes the last item by speaking of every item ("..., both in the state of
California"): the quantifiers of :data:`_TOGETHER` that stand for the items themselves."""


def _together_shared(text: str, pieces: list[Piece]) -> list[Piece]:
    """``pieces`` with a clause at the end of the last item that speaks of every item
    ("and then do the same for Facebook in San Mateo, both in the state of California") made
    shared: it belongs to every call, not to the last alone."""
    last = max((i for i, p in enumerate(pieces) if p.owner is not None), default=None)
    if last is None:
        return pieces
    piece = pieces[last]
    for m in _ALL_OF_THEM.finditer(text, piece.start, piece.end):
        if not _enclosed(text, piece.start, m.start()):
            return [*pieces[:last], Piece(piece.start, m.start(), piece.owner),
                    Piece(m.start(), piece.end, None), *pieces[last + 1 :]]
    return pieces


_TOGETHER = re.compile(r"\b(?:both|each|all|these|those|every|them)\b", re.IGNORECASE)
"""Words of a sentence that speaks of the calls together ("the final speed of both objects")."""


def _item_end(text: str, part: _Part, first: str) -> int:
    """Where the last item of a repeated preposition ends: before the first linking word the
    first item did not use ("between A and B *with* the shortest route")."""
    used = {w.lower() for w in words_of(first)}
    end = part.end
    stop = re.search(r"[,;:]", text[part.start : part.end])
    if stop is not None:
        end = part.start + stop.start()
    for m in word_spans(text[part.start : end]):
        word = m.group().lower()
        if m.start() and word in lexicon.FUNCTION_WORDS | lexicon.ITEM_PREPOSITIONS and word not in used:
            return part.start + m.start()
    return end


def marked_parts(
    reading: Reading, tool: Tool | None = None, *, others: Sequence[Tool] = (),
    segment: bool = False,
) -> Listing | None:
    """``reading`` as a listing of marked parts, or ``None`` when fewer than two calls are
    marked (parts that write no value ``tool`` could take mark none; a thing named again marks
    a part unless it is a word of the parameter names of ``tool`` or ``others``). A ``segment`` (the
    parts of one function in a longer message) takes its earlier sentences as its frame."""
    reading = _unwrapped(reading)
    text = reading.text
    parts = _parts(reading, _Names.of([*([tool] if tool else []), *others]))
    owners = _owners(text, parts, lambda p: bool(values_for(reading.part(p.start, p.end), tool)),
                     near=segment)
    if len({o for o in owners if o is not None}) < 2:
        return None
    pieces: list[Piece] = []
    for i, (part, owner) in enumerate(zip(parts, owners, strict=True)):
        start, end = part.start, part.end
        if (part.lead is not None and i and owners[i - 1] is not None
                and pieces[-1].start <= part.lead < pieces[-1].end):
            previous = pieces.pop()  # the earlier part: shared up to the preposition
            pieces += [Piece(previous.start, part.lead, None),
                       Piece(part.lead, previous.end, previous.owner)]
            if i + 1 == len(parts) or parts[i + 1].sentence != part.sentence:
                end = _item_end(text, part, text[part.lead : previous.end])
                pieces += [Piece(start, end, owner), Piece(end, part.end, None)]
                continue
        pieces.append(Piece(start, end, owner))
    pieces = _together_shared(text, pieces)
    listing = Listing(reading=reading, pieces=tuple(p for p in pieces if p.end > p.start))
    ordered = {o for p, o in zip(parts, owners, strict=True) if p.ordinal and o is not None
               and not any(q.counted for q in parts)}
    return _with_values_only(listing, tool, ordered)


@dataclass(frozen=True)
class _Names:
    """The words of the tools' names, as the marks of parts read them."""

    parameters: frozenset[str]
    """The stems of the tools' parameter names. (A word of a tool's own name may be named
    again: "an Italian restaurant ... and a Japanese sushi restaurant" for
    ``restaurant_finder`` asks for the tool twice.)"""
    paired: frozenset[str]
    """The stems of words in the names of two parameters or more of one tool (``dataset_a``,
    ``dataset_b``)."""

    @classmethod
    def of(cls, tools: Sequence[Tool]) -> _Names:
        paired: set[str] = set()
        for t in tools:
            counts: dict[str, int] = {}
            for param in t.parameters.get("properties", {}):
                for word in {stem(w) for w in split_identifier(param) if len(w) > 2}:
                    counts[word] = counts.get(word, 0) + 1
            paired |= {w for w, n in counts.items() if n > 1}
        parameters = frozenset(stem(w) for t in tools for n in t.parameters.get("properties", {})
                               for w in split_identifier(n))
        return cls(parameters=parameters, paired=frozenset(paired))


def _unwrapped(reading: Reading) -> Reading:
    """``reading`` with quotes around the whole of it blanked (offsets kept)."""
    text = reading.text
    stripped = text.strip()
    if len(stripped) > 1 and stripped[0] == stripped[-1] and stripped[0] in "\"'":
        first, last = text.index(stripped[0]), text.rindex(stripped[0])
        return reading.spliced([(0, first), " ", (first + 1, last), " ", (last + 1, len(text))])
    return reading


def _with_values_only(listing: Listing, tool: Tool | None, ordered: set[int]) -> Listing | None:
    """The listing with items that write no value made shared (an item an ordinal names is
    kept: "The second one was a large bird"); ``None`` if under two remain."""
    empty = {o for o in {p.owner for p in listing.pieces} if o is not None
             and o not in ordered and not values_for(listing.own(o), tool)}
    kept = sorted({p.owner for p in listing.pieces if p.owner is not None} - empty)
    if len(kept) < 2:
        return None
    number = {old: new for new, old in enumerate(kept)}
    pieces = tuple(Piece(p.start, p.end, number.get(p.owner) if p.owner is not None else None)
                   for p in listing.pieces)
    return Listing(reading=listing.reading, pieces=pieces)


# -- filling a listing --------------------------------------------------------------------------
def _digits(reading: Reading) -> list[NumberMention]:
    """The numbers ``reading`` writes in digits ("two objects" counts the calls, it is no
    value)."""
    return [n for n in reading.numbers if not n.text.isalpha()]


async def listed_calls(
    reading: Reading, tool: Tool, fill: Filling, *, sets: int = 0, segment: bool = False
) -> list[dict[str, Any]] | None:
    """The calls of ``tool`` the marked parts of ``reading`` ask for; ``None`` when it marks
    no parts, or the first call cannot be filled from its own text, or the sentence writes
    more ``sets`` of the tool's numbers (see ``segments.number_sets``) than it marks parts and
    a part holds two of them ("John weighs 85 kg and is 1.8 m tall, and Sarah ...")."""
    listing = marked_parts(reading, tool, segment=segment)
    if listing is None:
        return None
    need = required_numbers(tool)
    if sets > listing.count and need and any(
            len(_digits(listing.own(i))) >= 2 * need for i in range(listing.count)):
        return None
    return await calls_of(listing, tool, fill)


_SAME = re.compile(r"\b(?:do|does|did|doing)\s+the\s+same\b|\brepeat|\bagain\b", re.IGNORECASE)
"""A part that asks for the call before it again, changed ("then do the same for Rome")."""


async def calls_of(listing: Listing, tool: Tool, fill: Filling) -> list[dict[str, Any]] | None:
    """One call per item of ``listing``, each filled from its own text; an item that writes
    too few values for a call of its own, or asks for the same again, changes or completes
    the call before it."""
    need = required_numbers(tool)
    first = await fill(listing.text_of(0))
    if first.missing or len(listing.text_of(0).numbers) < need:
        return None
    calls = [first.arguments]
    for item in range(1, min(listing.count, MAX_CALLS)):
        own = listing.own(item)
        made: Fill | None = None
        whole = (len(listing.text_of(item).numbers) >= need and not _SAME.search(own.text)
                 and len(values_for(own, tool)) >= len(values_for(listing.own(0), tool)))
        if whole:
            made = await fill(listing.text_of(item))
        if made is not None and not made.missing and _writes_own(made.arguments, own):
            if made.arguments not in calls:
                calls.append(made.arguments)
            continue
        calls += [c for c in changed(calls[-1], tool, own) if c not in calls]
    return calls if len(calls) > 1 else None


def _writes_own(arguments: dict[str, Any], own: Reading) -> bool:
    """Whether some argument is a value the item itself writes."""
    numbers = {n.value for n in own.numbers}
    values = list(arguments.values())
    for value in [*values, *(x for v in values if isinstance(v, list) for x in v)]:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if float(value) in numbers or any(abs(float(value) * 100 - n) < 1e-9
                                              for n in numbers):
                return True
        elif isinstance(value, str) and len(value) > 1 and value.lower() in own.text.lower():
            return True
    return False


def changed(previous: dict[str, Any], tool: Tool, own: Reading) -> list[dict[str, Any]]:
    """The calls a part that writes only some values asks for: ``previous`` with those values
    in place (one call per value where it lists several for one parameter). When every value
    goes to a parameter ``previous`` left out, they complete it instead (no new call)."""
    slots: dict[str, list[Anchor]] = {}
    written = values_for(own, tool)
    for i, anchor in enumerate(written):
        start = written[i - 1].end if i else 0
        end = written[i + 1].start if i + 1 < len(written) else len(own.text)
        slot = _slot(tool, previous, own, anchor, slots, between=(start, end))
        if slot is not None:
            slots.setdefault(slot, []).append(anchor)
    for listed in slots.values():  # several values for one parameter: a list, or no call
        if len(listed) > 1 and not re.search(r"\b(?:and|or)\b", own.text[listed[-2].end :
                                                                         listed[-1].start]):
            return []
    values = {slot: [_value(tool, slot, a) for a in listed] for slot, listed in slots.items()}
    if not values:
        return []
    flags = any(a.kind == "flag" for listed in slots.values() for a in listed)
    if not set(values) & set(previous) and not flags:
        previous.update({slot: listed[0] for slot, listed in values.items()})
        return []
    slots_ = values
    width = max(len(v) for v in slots_.values())
    return [previous | {s: v[min(i, len(v) - 1)] for s, v in slots_.items()} for i in range(width)]


def _value(tool: Tool, slot: str, anchor: Anchor) -> Any:
    """The written value as ``slot``'s type takes it (a whole number for an integer)."""
    schema = non_null(tool.parameters.get("properties", {}).get(slot, {}))
    if anchor.kind == "number":
        if schema.get("type") == "integer" or float(anchor.value).is_integer():
            return int(anchor.value)
        return float(anchor.value)
    return anchor.value


def _slot(
    tool: Tool, previous: dict[str, Any], reading: Reading, anchor: Anchor,
    taken: dict[str, list[Anchor]], *, between: tuple[int, int] | None = None,
) -> str | None:
    """The parameter ``anchor`` fills: one of the same kind whose name is written beside it
    (the nearest such name), else the first of that kind in the previous call not yet given a
    value by this part. A name is read only up to the values written beside it (``between``:
    from the end of the value before to the start of the next): "the company 'Apple' in the
    'NASDAQ' market" names the company of 'Apple' and the market of 'NASDAQ'."""
    own = reading.text
    start, end = between or (0, len(own))
    props: dict[str, Any] = tool.parameters.get("properties", {})
    kind = [name for name, schema in props.items()
            if isinstance(schema, dict) and fits(non_null(schema), anchor)]
    if not kind:
        return None
    before = [w for w in words_of(own[start : anchor.start])
              if w.lower() not in lexicon.STOP_WORDS][-_NEAR_WORDS:][::-1]
    after = words_of(own[anchor.end : end])[:2]
    around = [w for pair in itertools.zip_longest(before, after) for w in pair if w]
    near = [stem(w) for w in around]  # the nearest first: "the entity X in the county of Y"
    named = [(min(near.index(w) for w in words), n) for n in kind
             if (words := {stem(w) for w in split_identifier(n) if len(w) > 2} & set(near))]
    if named:
        return min(named, key=lambda d: d[0])[1]
    listed = [s for s in kind if s in taken and anchor.kind != "number" and re.search(
        r"\b(?:and|or)\b", own[taken[s][-1].end : anchor.start], re.IGNORECASE)]
    if listed:
        return listed[0]  # "Rome and Madrid": a list of values for one parameter
    free = [n for n in kind if n in previous and n not in taken] or [n for n in kind if n in taken]
    return free[0] if free else None


_NEAR_WORDS = 3
"""How many words (other than stop words) before a value may name its parameter."""


# -- a function per part ------------------------------------------------------------------------
def tool_items(
    question: Reading, first: Tool, candidates: list[Tool]
) -> list[tuple[Tool, Reading]]:
    """The marked parts of ``question`` grouped by the function each asks for: ``[(tool,
    text), ...]``, each text the frame with that tool's parts ("First, the GCD of 56 and 98.
    Then, the LCM of 15 and 25." -> gcd's text, lcm's text). A part goes to the candidate its
    words share most with (name, parameters, description), else to the function of the part
    before it (``first`` for the first). Fewer than two functions: ``[]``."""
    listing = marked_parts(question, others=candidates)
    if listing is None or len(candidates) < 2:
        return []
    chosen = [_closest(set(terms(listing.own(item).text)), candidates)
              for item in range(listing.count)]
    decided = [t for t in chosen if t is not None]
    owners: list[Tool] = []
    for tool in chosen:  # undecided: the function of the part before (the first: the next)
        owners.append(tool or (owners[-1] if owners else decided[0] if decided else first))
    if len({t.name for t in owners}) < 2:
        return []
    groups: list[tuple[Tool, set[int]]] = []
    for item, owner in enumerate(owners):
        if groups and groups[-1][0] is owner:
            groups[-1][1].add(item)
        else:
            groups.append((owner, {item}))
    return [(owner, listing.text_of_items(items)) for owner, items in groups]


def _closest(own: set[str], candidates: list[Tool]) -> Tool | None:
    """The candidate a part's terms share most with; ``None`` for none or a tie."""
    scores = {t.name: _affinity(own, t) for t in candidates}
    best = max(candidates, key=lambda t: scores[t.name])
    tied = [t for t in candidates if scores[t.name] == scores[best.name]]
    return best if scores[best.name] > 0 and len(tied) == 1 else None


def _affinity(own: set[str], tool: Tool) -> float:
    """How much a part's terms share with a tool's name (each word written counts most),
    parameter names and descriptions (its own and its parameters')."""
    props: dict[str, Any] = tool.parameters.get("properties", {})
    name = set(terms(tool.name))
    params = set(terms(" ".join(props)))
    notes = [str(p.get("description", "")) for p in props.values() if isinstance(p, dict)]
    described = set(terms(" ".join([tool.description or "", *notes]))) - name - params
    return (2 * len(own & name) + len(own & params) / max(len(params), 1)
            + 0.5 * len(own & described) / math.sqrt(max(len(described), 1)))
