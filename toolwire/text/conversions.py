"""Which way a sentence converts: the amount, what it is in (the source) and what is wanted
(the target), for units, currencies and time zones alike.

    conversion(read("how many kilometers is 42 miles?"))  # amount 42, source "miles", target "kilometers"
    conversion(read("convert 5000 yen into dollars"))      # amount 5000, source "yen", target "dollars"
    conversion(read("If it's 9am in London, what time is it in Tokyo?"))  # "London" to "Tokyo"

The forms read, Y being the source and X the target: "how many X is/in/are N Y", "N Y is how
many X", "N Y in/to/into/as X", "change/convert N Y into X", "from Y to X", "X from Y"; and for
a time of day, "T in P1 … in P2" (the place beside the time is the source). Each phrase is the
user's own words (one to four of them), for the tool's own name resolution to read ("yen" is
JPY to the currency tool, "km/h" a speed to the unit tool). A sentence's reading holds its
conversion (``Reading.conversion``), read on first use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from toolwire.text import mentions
from toolwire.text.lexicon import (
    ARTICLES,
    CLOCK_WORDS,
    CONVERSION_LINKS,
    DETERMINERS,
    PHRASE_ENDS,
)

if TYPE_CHECKING:
    from toolwire.text.reading import Reading

_WORD = r"(?:[^\W\d_][\w'./°-]*|[$€£¥°])"
_LINK = "(?:" + "|".join(r"\s+".join(map(re.escape, link.split())) for link in CONVERSION_LINKS) + ")"
_MAX_WORDS = 4


@dataclass(kw_only=True, frozen=True)
class Phrase:
    """Words of the sentence, with where they stand."""

    text: str
    start: int
    end: int


@dataclass(kw_only=True, frozen=True)
class Conversion:
    """A conversion the sentence asks for."""

    source: Phrase
    target: Phrase
    amount: mentions.NumberMention | None = None
    """The quantity converted, when one is written."""


def conversion(reading: Reading) -> Conversion | None:
    """The conversion the sentence asks for, or ``None`` when it reads as none."""
    for form in (_how_many, _is_how_many, _from_to, _time_between, _amount_to, _that_in):
        found = form(reading)
        if found is not None:
            return found
    return None


def _phrase(sentence: str, start: int) -> Phrase | None:
    """The phrase of up to four words starting at ``start``, cut at the first link,
    politeness or time word, and at punctuation."""
    words: list[re.Match[str]] = []
    last_end = 0
    for m in re.finditer(_WORD, sentence[start:]):
        gap = sentence[start + last_end : start + m.start()]
        if words and (gap.strip() or len(words) == _MAX_WORDS):
            break
        if m.group().lower().rstrip(".") in PHRASE_ENDS and (words or m.group().lower()
                                                             not in DETERMINERS):
            break
        if not words and m.group().lower() in DETERMINERS:
            last_end = m.end()
            continue
        if not words and sentence[start:start + m.start()].strip():
            break
        words.append(m)
        last_end = m.end()
    if not words:
        return None
    a, b = start + words[0].start(), start + words[-1].end()
    text = sentence[a:b].rstrip(".'")
    return Phrase(text=text, start=a, end=a + len(text))


def _number_at(reading: Reading, position: int) -> mentions.NumberMention | None:
    for n in reading.numbers:
        if n.start == position:
            return n
    return None


_NUM = r"(?:[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[A-Za-z]+)"
_HOW_MANY = re.compile(
    rf"\bhow\s+(?:many|much)\s+(?P<target>{_WORD}(?:\s+{_WORD}){{0,3}}?)\s+{_LINK}\s+"
    rf"(?:there\s+(?:in|are\s+in|is\s+in)\s+|(?:[^\W\d_]+\s+){{0,3}}?(?:for|in|with)\s+)?"
    rf"(?:(?:a|an)\s+(?=[$€£¥\d]))?"  # "how many litres does *a* 15-gallon tank hold"
    rf"(?P<sym>[$€£¥]\s?)?(?P<num>{_NUM})(?:-(?=[^\W\d_])|\s*)"  # "15-gallon"
    r"(?P<rest>.*)$",
    re.IGNORECASE,
)


def _article(word: str, start: int) -> mentions.NumberMention | None:
    """The indefinite article where an amount is expected, as the count one ("how many cups
    in *a* liter"); ``None`` for another word."""
    if word.lower() not in ARTICLES:
        return None
    return mentions.NumberMention(value=1.0, text=word, start=start)


def _how_many(reading: Reading) -> Conversion | None:
    """ "how many X is N Y", "how many X in N Y", "how much X for N Y"."""
    sentence = reading.text
    m = _HOW_MANY.search(sentence)
    if m is None:
        return None
    amount = _number_at(reading, m.start("num")) or _article(m.group("num"), m.start("num"))
    if amount is None:
        return None
    target = _phrase(sentence, m.start("target"))
    source = (Phrase(text=m.group("sym").strip(), start=m.start("sym"), end=m.start("sym") + 1)
              if m.group("sym") else _phrase(sentence, m.start("rest")))
    if target is None or source is None:
        return None
    return Conversion(source=source, target=target, amount=amount)


_IS_HOW_MANY = re.compile(
    rf"(?P<num>{_NUM})\s*(?P<source>{_WORD}(?:\s+{_WORD}){{0,3}}?)\s+(?:is|are|equals?|makes?|=)"
    rf"\s+how\s+(?:many|much)\s+(?P<target>{_WORD})",
    re.IGNORECASE,
)


def _is_how_many(reading: Reading) -> Conversion | None:
    """ "N Y is how many X"."""
    sentence = reading.text
    m = _IS_HOW_MANY.search(sentence)
    amount = _number_at(reading, m.start("num")) if m else None
    if m is None or amount is None:
        return None
    source, target = _phrase(sentence, m.start("source")), _phrase(sentence, m.start("target"))
    if source is None or target is None:
        return None
    return Conversion(source=source, target=target, amount=amount)


_FROM_TO = re.compile(rf"\bfrom\s+(?P<source>{_WORD})[^.?!]*?\b(?:to|into)\s+(?P<target>{_WORD})",
                      re.IGNORECASE)


def _from_to(reading: Reading) -> Conversion | None:
    """ "from Y to X" (the amount anywhere): "convert 100 from USD to EUR"."""
    sentence = reading.text
    m = _FROM_TO.search(sentence)
    if m is None:
        return None
    source, target = _phrase(sentence, m.start("source")), _phrase(sentence, m.start("target"))
    if source is None or target is None:
        return None
    amounts = [n for n in reading.numbers if n.start < m.start()]
    return Conversion(source=source, target=target, amount=amounts[-1] if amounts else None)


_AMOUNT_TO = re.compile(
    rf"(?P<sym>[$€£¥]\s?)?(?P<num>{_NUM})\s*(?P<source>{_WORD}(?:\s+{_WORD}){{0,3}}?)?\s*"
    r"(?:(?:is|are)\s+)?(?:worth\s+)?(?P<link>in\s+terms\s+of|into|to|in|as|->|→|=)\s+"
    rf"(?:the\s+)?(?P<target>{_WORD})",
    re.IGNORECASE,
)


def _amount_to(reading: Reading) -> Conversion | None:
    """ "N Y in X", "N Y to X", "change N Y into X", "$N to X"."""
    sentence = reading.text
    at_times = {t.start for t in reading.times}
    for m in _AMOUNT_TO.finditer(sentence):
        amount = _number_at(reading, m.start("num"))
        if amount is None or amount.start in at_times:
            continue
        if m.group("sym"):
            s = m.start("sym")
            source: Phrase | None = Phrase(text=m.group("sym").strip(), start=s, end=s + 1)
        elif m.group("source"):
            source = _phrase(sentence, m.start("source"))
        else:
            continue
        target = _phrase(sentence, m.start("target"))
        if source is not None and target is not None:
            return Conversion(source=source, target=target, amount=amount)
    return None


_IN_PLACE = re.compile(r"\b(?:in|at)\s+(?P<place>[^\W\d_][\w'.-]*(?:\s+[A-Z][\w'.-]*){0,3})")
_CLOCK = re.compile(r"\d{1,2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?|" + "|".join(CLOCK_WORDS),
                    re.IGNORECASE)
_PLACE_TO_PLACE = re.compile(
    rf"^\s*(?:in\s+|at\s+)?(?P<source>{_WORD}(?:\s+{_WORD}){{0,3}}?)\s+(?:time\s+)?"
    rf"(?:to|into|in)\s+(?P<target>{_WORD})", re.IGNORECASE)


def _time_between(reading: Reading) -> Conversion | None:
    """A time of day and two places: "3pm London time to New York time", or the place beside
    the time is the source ("if it's 9am in London, what time is it in Tokyo?", "what time is
    it in Tokyo when it is 3pm in Paris")."""
    sentence = reading.text
    times = reading.times
    if len(times) != 1:
        return None
    at = times[0].start
    clock = _CLOCK.match(sentence, at)
    after = clock.end() if clock else at
    m = _PLACE_TO_PLACE.match(sentence[after:])
    if m:
        source = _phrase(sentence, after + m.start("source"))
        target = _phrase(sentence, after + m.start("target"))
        if source is not None and target is not None:
            return Conversion(source=_without_time(source), target=_without_time(target))
    places = [p for m in _IN_PLACE.finditer(sentence)
              if (p := _phrase(sentence, m.start("place"))) is not None]
    if len(places) < 2:  # a place without "in" ("10am london = ? in dubai")
        seen = {p.start for p in places}
        places = sorted([*places, *(Phrase(text=p.text, start=p.start, end=p.end)
                                    for p in reading.places if p.start not in seen)],
                        key=lambda p: p.start)
    if len(places) != 2:
        return None
    source = min(places, key=lambda p: abs(p.start - at))
    target = next(p for p in places if p is not source)
    return Conversion(source=_without_time(source), target=_without_time(target))


def _without_time(phrase: Phrase) -> Phrase:
    """ "London time" -> "London"."""
    text = re.sub(r"\s+time$", "", phrase.text, flags=re.IGNORECASE)
    return Phrase(text=text, start=phrase.start, end=phrase.start + len(text))


_THAT = re.compile(
    rf"\b(?:how\s+(?:many|much)\s+(?P<asked>{_WORD}(?:\s+{_WORD}){{0,3}}?)\s+(?:is|are|would|does)"
    rf"\s+(?:that|it|this)|(?:that|it|this)\s+(?:in|into|to|as)\s+(?P<target>{_WORD}))",
    re.IGNORECASE,
)


def _that_in(reading: Reading) -> Conversion | None:
    """An amount written first, then "what is that in X" or "how many X is that": "180
    degrees Celsius. What is that in Fahrenheit?"."""
    sentence = reading.text
    m = _THAT.search(sentence)
    if m is None:
        return None
    amounts = [n for n in reading.numbers if n.start < m.start()]
    if not amounts:
        return None
    amount = amounts[-1]
    source = _phrase(sentence, amount.start + len(amount.text))
    target = _phrase(sentence, m.start("asked") if m.group("asked") else m.start("target"))
    if source is None or target is None:
        return None
    return Conversion(source=source, target=target, amount=amount)
