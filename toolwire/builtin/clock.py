"""``get_time`` and ``convert_timezone``: wall-clock time in IANA time zones (``zoneinfo``)."""

from __future__ import annotations

from datetime import date, datetime
from datetime import time as clock_time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ClockError(ValueError):
    """An unknown time zone or an unreadable time."""


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` ("Europe/Paris", "UTC"); a ``ClockError`` when unknown."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, TypeError, AttributeError):
        raise ClockError(
            f"unknown time zone {name!r}: use an IANA name like 'Europe/Paris' or 'UTC'"
        ) from None


def get_time(timezone: str = "UTC") -> str:
    """Get the current date and time (what time is it now) in a time zone.

    Args:
        timezone: IANA time zone name, e.g. "America/New_York", "Europe/Paris" or "Asia/Tokyo"
    """
    return datetime.now(zone(timezone)).isoformat(timespec="seconds")


def convert_timezone(time: str, from_timezone: str, to_timezone: str) -> str:
    """Convert a date and time from one time zone to another.

    Args:
        time: the time to convert, ISO 8601 like "2024-05-01T15:30" or just "15:30" (today)
        from_timezone: IANA time zone the time is in, e.g. "Europe/London"
        to_timezone: IANA time zone wanted, e.g. "Asia/Tokyo"
    """
    source, target = zone(from_timezone), zone(to_timezone)
    moment = _parse(time, source)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=source)
    return moment.astimezone(target).isoformat(timespec="seconds")


def _parse(text: str, source: ZoneInfo) -> datetime:
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
