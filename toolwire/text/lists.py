"""Lists of words a sentence writes: "engine size and fuel economy", "the Lakers and Clippers",
"timings, exhibitions, and accessibility".

    written_lists(read("compare the S&P 500 and the Dow Jones over 5 days"))
    -> [[["S&P 500", "Dow Jones"], ["S&P 500", "Dow"]]]

A list is items joined by commas and a last "and"/"or". Where an item in the middle starts and
ends the commas say; where the first starts and the last ends they do not ("a model using
engine size and fuel economy variables"), so each list comes as its readings, one per width
of its first and last items, for a model (or a caller's words) to choose among. An item is a
run of content words: no function or request word ("using", "the", "over"), not opening with a
number ("three pumpkins and two dozen eggs" lists pumpkins and eggs), and at most
:data:`WIDEST` words.
"""

from __future__ import annotations

import itertools
import re

from toolwire.text import lexicon
from toolwire.text.reading import Reading, Word

WIDEST = 3
"""The most words an item of a written list has."""

_LEADS = lexicon.DETERMINERS
"""Words that may stand before an item and are not part of it ("and the Dow Jones")."""

Item = tuple[int, int]
"""An item's first and last word, by index among the sentence's words."""


def written_lists(reading: Reading, stops: frozenset[str] = frozenset()) -> list[list[list[str]]]:
    """The lists of two items or more ``reading`` writes, each as its readings (lists of
    items as written), the evenest first (:func:`_unevenness`), then the widest. The last
    item ends before a word of ``stops`` (lower case: what the caller knows names the
    things listed, which English writes after the list: "fuel economy variables"); the
    words before "and" are items whatever they hold ("Data Analyst" for data labels)."""
    found: list[list[list[str]]] = []
    for k, word in enumerate(reading.spans):
        if word.text.lower() not in lexicon.LIST_JOINERS:
            continue
        listed = _list_at(reading, k, stops)
        if listed is None:
            continue
        firsts, middle, lasts = listed
        readings = [(first, middle, last) for first, last in itertools.product(firsts, lasts)]
        readings.sort(key=_unevenness)
        found.append([[_text(reading, item) for item in (first, *middle, last)]
                      for first, middle, last in readings])
    return found


def _list_at(
    reading: Reading, k: int, stops: frozenset[str]
) -> tuple[list[Item], list[Item], list[Item]] | None:
    """The list the "and"/"or" at word ``k`` ends: the readings of its first item, its middle
    items (whole between commas: "A, B and C" lists three) and the readings of its last;
    ``None`` where no item stands on one side."""
    words = reading.spans
    start = k + 1
    while start < len(words) and (words[start].text.lower() in _LEADS
                                  or reading.holds_number(words[start])):
        start += 1
    lasts = _rightward(reading, start, stops)
    if not lasts or k == 0 or not re.fullmatch(r"\s*,?\s*", _gap(reading, k - 1, k)):
        return None
    middle: list[Item] = []
    run = _leftward(reading, k - 1)
    while run:
        first = run[0][0]
        if first == 0 or not re.fullmatch(r"\s*,\s*", _gap(reading, first - 1, first)):
            break
        before = _leftward(reading, first - 1)
        if not before:
            break
        middle.insert(0, run[0])
        run = before
    return (run, middle, lasts) if run else None


def _unevenness(listed: tuple[Item, list[Item], Item]) -> int:
    """How far a reading's first and last items are from the length of the others: the
    items of an English list are alike in form ("engine size and fuel economy"), so the
    even readings come first."""
    first, middle, last = listed
    widths = [b - a for a, b in middle] or [last[1] - last[0]]
    return sum(min(abs((b - a) - w) for w in widths) for a, b in (first, last))


def _content(word: Word, stops: frozenset[str] = frozenset()) -> bool:
    """Whether ``word`` may stand in an item: no function, request or stop word, nor one of
    ``stops``."""
    lowered = word.text.lower()
    return lowered not in lexicon.STOP_WORDS and lowered not in stops


def _rightward(reading: Reading, start: int, stops: frozenset[str]) -> list[Item]:
    """The readings of an item starting at word ``start``: one per width, widest first."""
    words = reading.spans
    end = start
    while (end < len(words) and end - start < WIDEST and _content(words[end], stops)
           and (end == start or not _gap(reading, end - 1, end).strip())):
        end += 1
    return [(start, last) for last in reversed(range(start, end))]


def _leftward(reading: Reading, end: int) -> list[Item]:
    """The readings of an item ending at word ``end``: one per width, widest first, none
    opening with a number."""
    words = reading.spans
    start = end + 1
    while (start > 0 and end - start + 1 < WIDEST and _content(words[start - 1])
           and (start == end + 1 or not _gap(reading, start - 1, start).strip())):
        start -= 1
    return [(first, end) for first in range(start, end + 1)
            if not reading.holds_number(words[first])]


def _gap(reading: Reading, i: int, j: int) -> str:
    """What stands between words ``i`` and ``j``."""
    return reading.text[reading.spans[i].end : reading.spans[j].start]


def _text(reading: Reading, item: Item) -> str:
    """An item as written, separators kept ("S&P 500")."""
    return reading.text[reading.spans[item[0]].start : reading.spans[item[1]].end]
