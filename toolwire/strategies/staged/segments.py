"""Several calls from one sentence, cut into segments:

- **sets of numbers** (:func:`number_sets`): it writes a whole set of the function's numbers
  several times over ("a base of 12 and a height of 15 ... a base of 18 and a height of 24"),
  each set in words alike; the sentence is cut into one segment per set and each is filled on
  its own.
- **functions** (:func:`tool_segments`): clauses that name different functions ("the GCD of
  ... and the LCM of ...") go each to its own.

(Items listed after a verb, "weather in Paris and London", are ``items.py``'s.) Both read the
sentence's ``Reading``: its clauses (``text.clauses``, the splitter retrieval uses too), its
numbers and names; a segment is a part of that reading.

No model call is needed to find them, so a sentence without either costs nothing.
"""

from __future__ import annotations

import itertools

from toolwire.strategies.staged.items import tool_items
from toolwire.strategies.staged.matching import name_share, required_numbers
from toolwire.strategies.staged.values import values_for
from toolwire.text import lexicon, mentions
from toolwire.text.reading import Reading, Word
from toolwire.text.words import stem
from toolwire.tools.registry import Tool

_MAX_CALLS = 8


def clauses(sentence: Reading) -> list[str]:
    """The sentence's clauses (``Reading.clauses``); a single clause when nothing joins two."""
    return [c.text for c in sentence.clauses]


_CONTEXT_WORDS = 2
"""Content words each side of a number that say what it counts (its unit, the name before
it). Three reached past the next number's own words on BFCL's tuning split ("serves 2 people,
is vegan, and takes under 30 minutes" read as two sets through "vegan" and "takes"): at 2, of
the tuning split's simple, multiple and parallel questions whose numbers form sets, 13 are cut
into as many calls as expected (13 at 3) and 5 into another count (8 at 3)."""


def _context(question: Reading, number: mentions.NumberMention) -> set[tuple[str, int]]:
    """The words around a number (its unit, the name before it), numbers and fillers left out:
    each word's stem and where it is written."""

    def content(words: list[Word]) -> list[Word]:
        return [w for w in words if not question.holds_number(w)
                and w.text.lower() not in lexicon.CORE_FUNCTION_WORDS]

    before = content(question.before(number.start))[-_CONTEXT_WORDS:]
    after = content(question.after(number.start + len(number.text)))[:_CONTEXT_WORDS]
    return {(stem(w.text), w.start) for w in before + after}


def _alike(question: Reading, a: mentions.NumberMention, b: mentions.NumberMention) -> bool:
    """Whether two numbers are written in words alike: a word of one's context written again
    in the other's, or one label before both ("side lengths: 3 and 4, 5 and 12"). One word
    written once between them ("16 measures long, at 120 beats") is the context of one of
    them, not a sign that they count the same thing."""
    first, second = _context(question, a), _context(question, b)
    between = range(a.start + len(a.text), b.start)
    return any(w == v and (at != to or at not in between) for w, at in first for v, to in second)


def number_sets(question: Reading, tool: Tool) -> list[Reading] | None:
    """The segments of ``question`` that each write one whole set of ``tool``'s numbers.

    ``None`` unless the sentence writes the required numbers at least twice over (2, 3...
    sets of the same size), each set starting a clause and written in words like the first
    ("weighs 85 kilograms and is 1.8 meters tall, and ... weighs 60 kilograms and is 1.65
    meters tall"). The numbers of a set are then read in order from its own segment. Sets
    that all write the same numbers are one call said again, not several.
    """
    size = required_numbers(tool)
    found = list(question.numbers)
    digits = [n for n in found if not n.text.isalpha()]
    if size and (len(found) % size or (len(digits) >= 2 * size and not len(digits) % size)):
        found = digits  # "two side lengths: 3 and 4, 5 and 12": the counts are no set
    if size == 0 or len(found) < 2 * size or len(found) % size:
        return None
    sets = [found[i : i + size] for i in range(0, len(found), size)]
    if all([n.value for n in later] == [n.value for n in sets[0]] for later in sets[1:]):
        return None  # "calls for 2 cups of flour ... convert 2 cups of flour": said again
    for later in sets[1:]:
        alike = sum(_alike(question, a, b) for a, b in zip(sets[0], later, strict=True))
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
    names another; a segment that writes no value of its tool, where another of that tool
    does, only introduced it and is left out. Fewer than two different tools: ``[]``.
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
    parts = [(tool, question.part(a, b))
             for (a, tool), b in zip(owners, bounds[1:], strict=True)]
    return _without_introductions(parts)


def _without_introductions(parts: list[tuple[Tool, Reading]]) -> list[tuple[Tool, Reading]]:
    """``parts`` less those that name a function without writing any value it takes, where
    another part of that function writes some: "You have two shapes, a triangle and a circle
    ... For the triangle, the sides are 5, 7 and 9 ... For the circle, the radius is 3" names
    the shapes first to introduce them, and asks for one call of each. Fewer than two
    different functions left: ``[]``."""
    valued = [bool(values_for(part, tool)) for tool, part in parts]
    named = {tool.name for (tool, _), has in zip(parts, valued, strict=True) if has}
    kept = [(tool, part) for (tool, part), has in zip(parts, valued, strict=True)
            if has or tool.name not in named]
    return kept if len({t.name for t, _ in kept}) >= 2 else []
