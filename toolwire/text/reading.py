"""One reading of a sentence, made once per turn: what it writes, with where each thing stands.

    reading = read("convert 5 miles to km and 10 miles too")
    reading.numbers        # 5 and 10, where they stand
    reading.clauses        # "convert 5 miles to km", "10 miles too"
    reading.conversion     # amount 5, source "miles", target "km" (read on first use)

Everything below the pipeline that looks at the sentence (retrieval's clauses aside) reads it
here: words and their stems, numbers, dates, times, quoted passages and clauses are read when
the reading is made; places (the gazetteer), names, the currencies it names, the conversion
and the arithmetic it asks for on first use, and kept. A part of the sentence (a clause, the
words after a number) is a reading too (:meth:`Reading.part`), cut from the whole one rather
than read again; so is a text made of its stretches and words put between them
(:meth:`Reading.spliced`: a listed item with the words around it, "the GCD of 18 and 24").
Units are not read here: each tool's own normaliser reads its units.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache, cached_property
from typing import TYPE_CHECKING, Literal, TypeVar

from toolwire.text import clauses as clause_splitter
from toolwire.text import lexicon, mentions
from toolwire.text.clauses import Clause
from toolwire.text.mentions import DateMention, NumberMention, Quote, TimeMention
from toolwire.text.words import split_identifier, stem, word_spans, words

if TYPE_CHECKING:
    from toolwire.text.conversions import Conversion
    from toolwire.text.places import PlaceMention


@dataclass(frozen=True, slots=True)
class Word:
    """A surface word of the sentence (see ``words.word_spans``)."""

    text: str
    start: int
    end: int


@dataclass(frozen=True, kw_only=True)
class Name:
    """A run of capitalised words that names something ("Los Angeles", "Sarah")."""

    text: str
    start: int
    end: int


_Mention = TypeVar("_Mention", NumberMention, DateMention, TimeMention, Quote)
_Located = TypeVar("_Located", "PlaceMention", Name)


@dataclass(frozen=True, eq=False, kw_only=True)
class Reading:
    """What a sentence writes, read once; positions are offsets into ``text``."""

    text: str
    spans: tuple[Word, ...]
    """Its surface words, in order."""
    numbers: tuple[NumberMention, ...]
    dates: tuple[DateMention, ...]
    times: tuple[TimeMention, ...]
    quotes: tuple[Quote, ...]
    clauses: tuple[Clause, ...]
    """Its clauses (``clauses.split``): one when nothing joins two."""
    whole: Reading | None = field(default=None, repr=False)
    """The reading this one is cut from (``None`` for a whole sentence)."""
    origin: tuple[Stretch, ...] = ()
    """Where its stretches of ``whole``'s text stand, here and there (empty for a whole)."""

    # -- words -------------------------------------------------------------------------------
    @cached_property
    def words(self) -> tuple[str, ...]:
        """The surface words, case kept."""
        return tuple(w.text for w in self.spans)

    @cached_property
    def lowered(self) -> tuple[str, ...]:
        """The surface words in lower case."""
        return tuple(w.lower() for w in self.words)

    @cached_property
    def stems(self) -> tuple[str, ...]:
        """Each word's stem (``words.stem``), in order."""
        return tuple(stem(w) for w in self.words)

    @cached_property
    def stem_set(self) -> frozenset[str]:
        """The stems, as a set."""
        return frozenset(self.stems)

    @cached_property
    def _joined(self) -> str:
        return " " + " ".join(self.lowered) + " "

    def position(self, phrase: str) -> int | None:
        """The index of the word where ``phrase`` is written (plurals folded), or ``None``."""
        needle = _stemmed(phrase)
        if not needle:
            return None
        hay = self.stems
        for i in range(len(hay) - len(needle) + 1):
            if hay[i : i + len(needle)] == needle:
                return i
        return None

    def mentions(self, phrase: str) -> bool:
        """Whether ``phrase`` (or, for an identifier, each of its longer words) is written."""
        if self.position(phrase) is not None:
            return True
        needle = " ".join(w.lower() for w in words(phrase))
        if needle and f" {needle} " in self._joined:
            return True
        parts = [p for p in split_identifier(phrase) if len(p) > 2]
        return bool(parts) and all(f" {p} " in self._joined for p in parts)

    def holds_number(self, word: Word) -> bool:
        """Whether a number is written in ``word`` ("150lbs", "five", "-2")."""
        return any(n.start < word.end and word.start < n.start + len(n.text)
                   for n in self.numbers)

    def before(self, position: int) -> list[Word]:
        """The words written before ``position``; of a word it cuts, the part before."""
        i = bisect.bisect_left([w.end for w in self.spans], position + 1)
        out = list(self.spans[:i])
        if i < len(self.spans) and self.spans[i].start < position:
            out += self._pieces(self.spans[i].start, position)
        return out

    def after(self, position: int) -> list[Word]:
        """The words written from ``position`` on; of a word it cuts, the part after."""
        i = bisect.bisect_right([w.start for w in self.spans], position - 1)
        out = list(self.spans[i:])
        if i > 0 and self.spans[i - 1].end > position:
            out = self._pieces(position, self.spans[i - 1].end) + out
        return out

    def _pieces(self, start: int, end: int) -> list[Word]:
        """The words of ``text[start:end]``, a cut word's part."""
        return [Word(m.group(), start + m.start(), start + m.end())
                for m in word_spans(self.text[start:end])]

    def terms_outside(self, ranges: list[tuple[int, int]]) -> set[str]:
        """Search terms (``words.terms``) of the words outside ``ranges``."""
        kept = [w for w in self.spans if not any(a < w.end and w.start < b for a, b in ranges)]
        return {stem(p) for w in kept for p in split_identifier(w.text)
                if p not in lexicon.STOP_WORDS}

    # -- read on first use -------------------------------------------------------------------
    @cached_property
    def places(self) -> tuple[PlaceMention, ...]:
        """The places it names (``places.place_mentions``: the gazetteer, read on first use)."""
        if self.whole is not None:
            return tuple(self._shifted(self.whole.places))
        from toolwire.text.places import place_mentions

        return tuple(place_mentions(self.text))

    @cached_property
    def names(self) -> tuple[Name, ...]:
        """The names it writes: runs of capitalised words, less the words capitalised for
        another reason (see :func:`_names`)."""
        if self.whole is not None:
            return tuple(self._shifted(self.whole.names))
        return tuple(_names(self))

    @cached_property
    def conversion(self) -> Conversion | None:
        """The conversion it asks for (``conversions.conversion``), or ``None``."""
        from toolwire.text.conversions import conversion

        return conversion(self)

    @cached_property
    def expression(self) -> str | None:
        """The arithmetic it asks for as a calculator expression (``arithmetic.expression``),
        or ``None``."""
        from toolwire.text.arithmetic import expression

        return expression(self.text)

    @cached_property
    def currencies(self) -> dict[str, str]:
        """The ISO 4217 currencies it names (see :meth:`codes`)."""
        return self._codes("currencies")

    @cached_property
    def regions(self) -> dict[str, str]:
        """The ISO 3166 regions it names (see :meth:`codes`)."""
        return self._codes("regions")

    def codes(self, system: CodeSystem) -> dict[str, str]:
        """The codes of ``system`` (``lexicon.currencies`` or ``lexicon.regions``) it names,
        in the order written, by a name ("Canadian dollars" -> CAD, plurals folded) or as the
        code in capitals ("CAD"): code -> the name used for it. Read on first use."""
        return self.currencies if system == "currencies" else self.regions

    def _codes(self, system: CodeSystem) -> dict[str, str]:
        hay = self.stems
        found: dict[str, tuple[int, str]] = {}
        for code, name, needle in _stemmed_names(system):
            for i in range(len(hay) - len(needle) + 1):
                if needle and hay[i : i + len(needle)] == needle:
                    if code not in found or i < found[code][0]:
                        found[code] = (i, name)
                    break
        table = code_table(system)
        for i, word in enumerate(self.words):
            if 2 <= len(word) <= 3 and word.isupper() and word in table and word not in found:
                found[word] = (i, word)
        return {code: name for code, (_, name) in sorted(found.items(), key=lambda kv: kv[1][0])}

    # -- parts -------------------------------------------------------------------------------
    def part(self, start: int, end: int | None = None) -> Reading:
        """The reading of ``text[start:end]``, cut from this one (positions in the part)."""
        end = len(self.text) if end is None else end
        if max(0, start) == 0 and end >= len(self.text):
            return self
        return self.spliced([(start, end)])

    def spliced(self, pieces: Sequence[tuple[int, int] | str]) -> Reading:
        """The reading of a text made of this one's ranges ``(start, end)`` and words put
        between them (``" and "``, ``". "``), cut from this reading rather than read again:
        what a range writes whole is kept, in the new text's positions; what is put between
        is words only (no number, date, time or quote is read in it). A range's clauses are
        its clauses here, and a range that starts inside a clause goes on with the clause
        before it. ``spliced([(a, b)])`` is ``part(a, b)``."""
        text, placed = "", []
        for piece in pieces:
            if isinstance(piece, str):
                text += piece
                continue
            start, end = max(0, piece[0]), min(len(self.text), piece[1])
            if start < end:
                placed.append(Stretch(here=len(text), there=start, length=end - start))
                text += self.text[start:end]
        return Reading(
            text=text,
            spans=tuple(self._spliced_words(text, placed)),
            numbers=tuple(_moved(self.numbers, placed, lambda n: len(n.text))),
            dates=tuple(_moved(self.dates, placed, lambda d: len(d.text))),
            times=tuple(_moved(self.times, placed, lambda t: 1)),  # its first digit
            quotes=tuple(_moved_quotes(self.quotes, placed)),
            clauses=tuple(self._spliced_clauses(text, placed)),
            whole=self.whole or self,
            origin=tuple(self._rooted(placed)),
        )

    def _spliced_words(self, text: str, placed: list[Stretch]) -> list[Word]:
        """The words of a splice: each range's (a word it cuts, the part inside), and those
        of the words put between."""
        out: list[Word] = []
        at = 0
        for s in placed:
            out += [Word(w.group(), at + w.start(), at + w.end())
                    for w in word_spans(text[at : s.here])]
            start, end = s.there, s.there + s.length
            kept = [w for w in self.spans if start <= w.start and w.end <= end]
            for w in self.spans:
                if w.start < end and start < w.end and w not in kept:
                    kept += self._pieces(max(w.start, start), min(w.end, end))
            out += [Word(w.text, w.start - start + s.here, w.end - start + s.here)
                    for w in sorted(kept, key=lambda w: w.start)]
            at = s.here + s.length
        out += [Word(w.group(), at + w.start(), at + w.end()) for w in word_spans(text[at:])]
        return out

    def _spliced_clauses(self, text: str, placed: list[Stretch]) -> list[Clause]:
        """The clauses of a splice: each range's, the first of a range that starts inside a
        clause joined to the clause before it."""
        out: list[Clause] = []
        for s in placed:
            for n, c in enumerate(_clipped(self.clauses, s.there, s.there + s.length)):
                start = c.start + s.here
                if n == 0 and out and c.separator == "" and not any(
                        k.start == s.there + c.start for k in self.clauses):
                    last = out.pop()
                    out.append(last._replace(text=text[last.start : start + len(c.text)]))
                else:
                    out.append(c._replace(start=start))
        return out

    def _rooted(self, placed: list[Stretch]) -> list[Stretch]:
        """``placed`` (stretches of this reading) as stretches of the whole one."""
        if self.whole is None:
            return placed
        out = []
        for s in placed:
            for o in self.origin:  # where a stretch here meets one of this reading's own
                a, b = max(s.there, o.here), min(s.there + s.length, o.here + o.length)
                if a < b:
                    out.append(Stretch(here=s.here + a - s.there, there=o.there + a - o.here,
                                       length=b - a))
        return out

    def clause_parts(self) -> list[tuple[Clause, Reading]]:
        """Each clause with its reading."""
        return [(c, self.part(c.start, c.start + len(c.text))) for c in self.clauses]

    def source(self, position: int) -> int | None:
        """Where ``position`` stands in the whole reading (``None`` inside words put between
        the stretches of a splice)."""
        if self.whole is None:
            return position
        return next((o.there + position - o.here for o in self.origin
                     if o.here <= position < o.here + o.length), None)

    def opens_sentence(self, position: int) -> bool:
        """Whether a word at ``position`` is the first of a sentence or line of the whole
        reading (English capitalises it for its place, whatever it is)."""
        there = self.source(position)
        if there is None or self.whole is None:
            return _opens_sentence(self.text, position)
        return _opens_sentence(self.whole.text, there)

    def _shifted(self, found: tuple[_Located, ...]) -> list[_Located]:
        """Of the whole reading's ``found``, those inside one of this reading's stretches, in
        its positions."""
        return [replace(f, start=f.start - o.there + o.here, end=f.end - o.there + o.here)
                for o in self.origin for f in found
                if o.there <= f.start and f.end <= o.there + o.length]


@dataclass(frozen=True, slots=True)
class Stretch:
    """A stretch of text cut from another: where it stands here, where there, how long."""

    here: int
    there: int
    length: int


def read(sentence: str) -> Reading:
    """The reading of ``sentence``."""
    return Reading(
        text=sentence,
        spans=tuple(Word(m.group(), m.start(), m.end()) for m in word_spans(sentence)),
        numbers=tuple(mentions.numbers(sentence)),
        dates=tuple(mentions.dates(sentence)),
        times=tuple(mentions.times(sentence)),
        quotes=tuple(mentions.quoted(sentence)),
        clauses=tuple(clause_splitter.split(sentence)),
    )


def _moved(found: tuple[_Mention, ...], placed: list[Stretch],
           size: Callable[[_Mention], int]) -> list[_Mention]:
    """Of ``found``, those written inside one of the ``placed`` stretches, in their positions
    there."""
    return [replace(m, start=m.start + s.here - s.there) for s in placed for m in found
            if s.there <= m.start and m.start + size(m) <= s.there + s.length]


def _moved_quotes(found: tuple[Quote, ...], placed: list[Stretch]) -> list[Quote]:
    """Of ``found``, those inside one of the ``placed`` stretches, in their positions there."""
    return [replace(q, start=q.start + s.here - s.there, end=q.end + s.here - s.there)
            for s in placed for q in found if s.there <= q.start and q.end <= s.there + s.length]


def _clipped(found: tuple[Clause, ...], start: int, end: int) -> list[Clause]:
    out = []
    for c in found:
        a, b = max(c.start, start), min(c.start + len(c.text), end)
        if a < b and c.text[a - c.start : b - c.start].strip():
            text = c.text[a - c.start : b - c.start]
            lead = len(text) - len(text.lstrip())
            out.append(Clause(separator=c.separator if a == c.start else "",
                              text=text.strip(), start=a - start + lead))
    return out


def _stemmed(phrase: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in words(phrase))


CodeSystem = Literal["currencies", "regions"]
"""The code systems a sentence's names are read in: ISO 4217 and ISO 3166."""


def code_table(system: CodeSystem) -> dict[str, list[str]]:
    """The codes of ``system`` with their English names (``lexicon``)."""
    return lexicon.currencies() if system == "currencies" else lexicon.regions()


@cache
def _stemmed_names(system: CodeSystem) -> list[tuple[str, str, tuple[str, ...]]]:
    """(code, name, the name's stems) of every name of a code system, made once."""
    return [(code, name, _stemmed(name))
            for code, names in code_table(system).items() for name in names]


# -- names -----------------------------------------------------------------------------------
_NOT_NAMES = lexicon.STOP_WORDS | lexicon.WEEKDAYS | frozenset(lexicon.MONTHS) | (
    lexicon.RELATIVE_DAYS)
"""Capitalised words that are no names here: function and request words (capitalised when
they open a sentence), and the names of months, weekdays and relative days (English
capitalises them; a date is read as a date)."""


def _names(reading: Reading) -> list[Name]:
    """Runs of capitalised words joined by a space or hyphen ("Los Angeles"), each a name once
    the words of ``_NOT_NAMES`` at either end are left out, and the first word of a sentence
    (capitalised for its place) unless the run is a place the gazetteer knows ("London")."""
    runs: list[list[Word]] = []
    for word in reading.spans:
        if not _capitalised(word.text):
            continue
        last = runs[-1][-1] if runs else None
        if last is not None and reading.text[last.end : word.start] in (" ", "-"):
            runs[-1].append(word)
        else:
            runs.append([word])
    return [name for run in runs if (name := _name(reading.text, run)) is not None]


def _name(text: str, run: list[Word]) -> Name | None:
    """The name a run of capitalised words makes (see :func:`_names`), if any."""
    from toolwire.text.places import is_place

    while run and run[0].text.lower() in _NOT_NAMES:
        run = run[1:]
    while run and run[-1].text.lower() in _NOT_NAMES:
        run = run[:-1]
    if run and _opens_sentence(text, run[0].start) and not is_place(
            text[run[0].start : run[-1].end]):
        run = run[1:]
    if not run:
        return None
    end = run[-1].end - (2 if run[-1].text.endswith(("'s", "’s")) else 0)
    return Name(text=text[run[0].start : end], start=run[0].start, end=end)


def _capitalised(word: str) -> bool:
    """A capital and lower-case letters after it, in each part of a hyphenated word ("Paris",
    "Saint-Denis", not "USD" nor "iPhone"); a possessive "'s" aside ("Sarah's")."""
    word = word[:-2] if word.endswith(("'s", "’s")) else word
    return all(len(p) > 1 and p[0].isupper() and p[1:].isalpha() and p[1:].islower()
               for p in word.split("-"))


def _opens_sentence(text: str, start: int) -> bool:
    """Whether a word at ``start`` is the first of a sentence or line."""
    before = text[:start].rstrip(" \t\"'(")
    return not before or before[-1] in ".?!:\n"
