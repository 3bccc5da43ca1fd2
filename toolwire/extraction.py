"""What a sentence literally contains: numbers, word spans, mentions of names and values.

The staged filler only lets a small model choose among values the user actually wrote, so
these helpers define the candidates: they never invent anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# digits not glued to a word before them ("mp3", "h264"), but maybe to a unit or ordinal after
# them ("150lbs", "16th", "5ft")
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:e[-+]?\d+)?(?![\d.]\d|\d)|"
                     r"(?<![\w.])[-+]?\.\d+(?!\d)", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'&._/-]*[A-Za-z0-9]|[A-Za-z0-9]")
_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "hundred": 100, "thousand": 1000, "dozen": 12,
    "half": 0.5, "twice": 2, "double": 2, "triple": 3, "once": 1,
}
_SPLIT_IDENT = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


@dataclass(kw_only=True, frozen=True)
class NumberMention:
    """A number written in the sentence, with where it stood."""

    value: float
    text: str
    start: int

    @property
    def is_integer(self) -> bool:
        return float(self.value).is_integer()

    def literal(self, integer: bool) -> str:
        """The JSON literal for this value (``42``, ``42.5``)."""
        if integer or self.is_integer:
            return str(int(self.value))
        return repr(float(self.value))


def numbers(text: str) -> list[NumberMention]:
    """Numbers in ``text`` in order: digits (``1,000``, ``3.5``, ``-2``) and common number words."""
    found = [
        NumberMention(value=float(m.group().replace(",", "")), text=m.group(), start=m.start())
        for m in _NUMBER.finditer(text)
    ]
    for m in re.finditer(r"[A-Za-z]+", text):
        value = _NUMBER_WORDS.get(m.group().lower())
        if value is not None:
            found.append(NumberMention(value=float(value), text=m.group(), start=m.start()))
    found.sort(key=lambda n: n.start)
    return found


def words(text: str) -> list[str]:
    """The words of ``text``, punctuation dropped, case kept."""
    return _WORD.findall(text)


def identifier_words(name: str) -> list[str]:
    """``get_weatherForecast.v2`` -> ``['get', 'weather', 'forecast', 'v', '2']`` (lower case)."""
    return [w.lower() for w in _SPLIT_IDENT.findall(name)]


def stem(word: str) -> str:
    """A crude plural fold (``dollars`` -> ``dollar``, ``francs`` -> ``franc``), lower case."""
    w = word.lower()
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        return w[:-1]
    return w


def mention_position(text: str, phrase: str) -> int | None:
    """Word index where ``phrase`` occurs in ``text`` (plurals folded), or ``None``."""
    hay = [stem(w) for w in words(text)]
    needle = [stem(w) for w in words(phrase)]
    if not needle:
        return None
    for i in range(len(hay) - len(needle) + 1):
        if hay[i : i + len(needle)] == needle:
            return i
    return None


def mentions(text: str, phrase: str) -> bool:
    """Whether ``phrase`` (or, for identifiers, all its words) occurs in ``text`` as words."""
    if mention_position(text, phrase) is not None:
        return True
    haystack = " " + " ".join(w.lower() for w in words(text)) + " "
    needle = " ".join(w.lower() for w in words(phrase))
    if needle and f" {needle} " in haystack:
        return True
    parts = identifier_words(phrase)
    return bool(parts) and all(f" {p} " in haystack for p in parts if len(p) > 2) and any(
        len(p) > 2 for p in parts
    )
