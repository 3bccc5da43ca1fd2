"""What a sentence literally contains: numbers, dates, times of day, quoted passages, and
which date or time pattern a parameter wants.

The staged filler only lets a small model choose among values the user actually wrote, so
these readers define the candidates: they never invent anything. A sentence is read by them
once, into its ``Reading`` (``reading.py``); the grounding of answers reads numbers here too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from toolwire.text.lexicon import CLOCK_WORDS, DAY_PARTS, MONTHS, NUMBER_WORDS, SCALES
from toolwire.text.words import split_identifier

# digits not glued to a word before them ("mp3", "h264"), but maybe to a unit or ordinal after
# them ("150lbs", "16th", "5ft")
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:e[-+]?\d+)?(?![\d.]\d|\d)|"
                     r"(?<![\w.])[-+]?\.\d+(?!\d)", re.IGNORECASE)
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
    """Numbers in ``text`` in order: digits (``1,000``, ``3.5``, ``-2``) and number words, one
    word each (``lexicon.NUMBER_WORDS``: "five", "twenty", "dozen"); a number followed by a
    scale word is one number ("100 million" is 100,000,000, "two thousand" 2,000)."""
    found = [
        NumberMention(value=float(m.group().replace(",", "")), text=m.group(), start=m.start())
        for m in _NUMBER.finditer(text)
    ]
    for m in re.finditer(r"[A-Za-z]+", text):
        value = NUMBER_WORDS.get(m.group().lower())
        if value is not None:
            found.append(NumberMention(value=float(value), text=m.group(), start=m.start()))
    found.sort(key=lambda n: n.start)
    return _scaled(text, found)


def _scaled(text: str, found: list[NumberMention]) -> list[NumberMention]:
    """``found`` with each number and the scale words right after it made one number."""
    out: list[NumberMention] = []
    for n in found:
        scale = SCALES.get(n.text.lower())
        before = out[-1] if out else None
        if scale and before is not None and not text[
                before.start + len(before.text) : n.start].strip(" -"):
            out[-1] = NumberMention(value=before.value * scale, start=before.start,
                                    text=text[before.start : n.start + len(n.text)])
        else:
            out.append(n)
    return out


_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"
_BEFORE_YEAR = r"(?:\s*,\s*|\s+)"
"""Between a day or month and its year: a space, or a comma with or without spaces
("15th October,2023")."""
_DATE_PATTERNS = [
    re.compile(rf"\b{_MONTH}(?:(?<=\.)\s*|\s+){_DAY}{_BEFORE_YEAR}{_YEAR}\b",
               re.IGNORECASE),  # April 25th, 2023; Mar. 11, 2022; March.11, 2022
    re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}{_BEFORE_YEAR}{_YEAR}\b",
               re.IGNORECASE),  # 25 April 2023, 15th October,2023
    re.compile(r"\b(?P<year>\d{4})([-./])(?P<month>\d{1,2})\2(?P<day>\d{1,2})\b"),  # 2023-04-25
    re.compile(r"\b(?P<month>\d{1,2})/(?P<day>\d{1,2})/(?P<year>\d{4})\b"),  # 04/25/2023
    re.compile(r"\b(?P<year>(?:19|20)\d{2})(?P<month>[01]\d)(?P<day>[0-3]\d)\b"),  # 20230425
]


@dataclass(kw_only=True, frozen=True)
class DateMention:
    """A calendar date written in the sentence."""

    year: int
    month: int
    day: int
    text: str
    start: int

    def render(self, pattern: str = "YYYY-MM-DD") -> str:
        """The date in ``pattern`` (``YYYY``, ``MM``, ``DD`` placeholders; ISO by default)."""
        return (
            pattern.replace("YYYY", f"{self.year:04d}")
            .replace("MM", f"{self.month:02d}")
            .replace("DD", f"{self.day:02d}")
        )


def dates(text: str) -> list[DateMention]:
    """Calendar dates written in ``text``, in order ("April 25th 2023", "2023-04-25"...)."""
    found: dict[int, DateMention] = {}
    for pattern in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            month_text = m.group("month")
            month = MONTHS.get(month_text.lower().rstrip(".")) if month_text.isalpha() else int(
                month_text
            )
            day, year = int(m.group("day")), int(m.group("year"))
            if month is None or not (1 <= month <= 12 and 1 <= day <= 31):
                continue
            if not any(s <= m.start() < s + len(d.text) for s, d in found.items()):
                found[m.start()] = DateMention(
                    year=year, month=month, day=day, text=m.group(), start=m.start()
                )
    return [found[s] for s in sorted(found)]


_DATE_FORMAT = re.compile(r"\b(YYYY[-/.]MM[-/.]DD|MM[-/.]DD[-/.]YYYY|DD[-/.]MM[-/.]YYYY|YYYYMMDD)\b",
                          re.IGNORECASE)


def date_format(name: str, schema: dict[str, object]) -> str | None:
    """The pattern a date parameter wants (``YYYY-MM-DD``...), or ``None`` if it is no date.

    A parameter is a date when its JSON Schema ``format`` is ``date``, or its description
    spells a pattern, or its name says ``date``; one that wants a date *and* time is not.
    """
    description = str(schema.get("description", ""))
    if _CLOCK_FORMAT.search(description) and _DATE_FORMAT.search(description):
        return None
    spelled = _DATE_FORMAT.search(description)
    if spelled:
        return spelled.group(1).upper()
    if schema.get("format") == "date" or "date" in split_identifier(name):
        return "YYYY-MM-DD"
    return None


_QUOTED = re.compile(r"""(?<![\w'"])(['"`])([^'"`\n]{1,200}?)\1(?![\w'"])""")


@dataclass(kw_only=True, frozen=True)
class Quote:
    """Text the user put in quotes ("set the mode to 'COOL'")."""

    text: str
    start: int
    end: int


def quoted(text: str) -> list[Quote]:
    """Quoted passages of ``text`` in order, quotes stripped (apostrophes inside words are not
    quotes: "it's", "Sarah's")."""
    return [
        Quote(text=m.group(2).strip(), start=m.start(), end=m.end())
        for m in _QUOTED.finditer(text)
        if m.group(2).strip()
    ]


_MERIDIEM = r"(?P<half>[ap])\.?m\.?"
_TIME_PATTERNS = [
    re.compile(rf"\b(?P<hour>\d{{1,2}}):(?P<minute>\d{{2}})(?::\d{{2}})?(?:\s*{_MERIDIEM})?(?!\w)",
               re.IGNORECASE),  # 19:00, 7:30 pm
    re.compile(rf"\b(?P<hour>\d{{1,2}})\s*{_MERIDIEM}(?!\w)", re.IGNORECASE),  # 3pm, 3 p.m.
    re.compile(r"\b(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s+(?:o'clock\s+)?in the "
               r"(?P<part>" + "|".join(DAY_PARTS) + r")\b", re.IGNORECASE),
    re.compile(r"\b(?P<word>" + "|".join(CLOCK_WORDS) + r")\b", re.IGNORECASE),
]
_CLOCK_FORMAT = re.compile(r"HH:MM(?::SS)?|hh:mm(?::ss)?|24-hour", re.IGNORECASE)
_CLOCK_EXAMPLE = re.compile(r"(?<![\d:])(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?(?![\d:])")
"""A time of day given as an example ("just \"15:30\""): the parameter writes times so."""


@dataclass(kw_only=True, frozen=True)
class TimeMention:
    """A time of day written in the sentence."""

    hour: int
    minute: int
    start: int

    def render(self, pattern: str = "HH:MM") -> str:
        """The time in 24-hour ``HH:MM`` (or ``HH:MM:SS``)."""
        text = f"{self.hour:02d}:{self.minute:02d}"
        return text + ":00" if pattern.upper().endswith(":SS") else text


def times(text: str) -> list[TimeMention]:
    """Times of day written in ``text``, in order ("19:00", "3pm", "2 in the afternoon")."""
    found: dict[int, TimeMention] = {}
    for pattern in _TIME_PATTERNS:
        for m in pattern.finditer(text):
            groups = m.groupdict()
            if groups.get("word"):
                hour, minute = CLOCK_WORDS[groups["word"].lower()], 0
            else:
                hour, minute = int(groups["hour"]), int(groups.get("minute") or 0)
                half = (groups.get("half") or "").lower()
                part = (groups.get("part") or "").lower()
                if (half == "p" or DAY_PARTS.get(part) == "pm") and hour < 12:
                    hour += 12
                elif half == "a" and hour == 12:
                    hour = 0
            if hour > 23 or minute > 59 or any(s <= m.start() < s + 5 for s in found):
                continue
            found[m.start()] = TimeMention(hour=hour, minute=minute, start=m.start())
    return [found[s] for s in sorted(found)]


def time_format(name: str, schema: dict[str, object]) -> str | None:
    """``HH:MM`` or ``HH:MM:SS`` for a parameter whose description spells a 24-hour clock (or
    whose ``format`` is ``time``) and that wants no date with it; else ``None``."""
    description = str(schema.get("description", ""))
    if _DATE_FORMAT.search(description):
        return None
    spelled = _CLOCK_FORMAT.search(description)
    if spelled:
        return "HH:MM:SS" if spelled.group().upper().endswith(":SS") else "HH:MM"
    example = _CLOCK_EXAMPLE.search(description)
    if example:
        return "HH:MM:SS" if example.group().count(":") == 2 else "HH:MM"
    return "HH:MM:SS" if schema.get("format") == "time" else None
