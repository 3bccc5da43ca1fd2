"""get_time and convert_timezone: IANA zones, ISO text, clear errors."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from toolwire.builtin.clock import ClockError, convert_timezone, get_time


def test_get_time_is_now_in_the_zone() -> None:
    text = get_time("Asia/Tokyo")
    moment = datetime.fromisoformat(text)
    assert moment.utcoffset() == timedelta(hours=9)
    assert abs(moment - datetime.now(ZoneInfo("UTC"))) < timedelta(seconds=5)


def test_get_time_defaults_to_utc() -> None:
    assert get_time().endswith("+00:00")


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "../../etc/passwd", "EST5EDT/x"])
def test_unknown_zone(zone: str) -> None:
    with pytest.raises(ClockError, match="unknown time zone"):
        get_time(zone)


def test_convert_a_full_datetime_across_dst() -> None:
    assert convert_timezone("2024-07-01T15:30", "Europe/London", "Asia/Tokyo") == (
        "2024-07-01T23:30:00+09:00"
    )
    assert convert_timezone("2024-01-01T15:30", "Europe/London", "America/New_York") == (
        "2024-01-01T10:30:00-05:00"
    )


def test_convert_a_bare_time_means_today() -> None:
    result = datetime.fromisoformat(convert_timezone("09:00", "UTC", "Europe/Paris"))
    assert result.hour in (10, 11)  # CET or CEST
    assert result.date() in {
        datetime.now(ZoneInfo("UTC")).date(),
        datetime.now(ZoneInfo("UTC")).date() + timedelta(days=1),
    }


def test_an_explicit_offset_wins_over_the_source_zone() -> None:
    assert convert_timezone("2024-03-10T12:00+02:00", "Asia/Tokyo", "UTC") == (
        "2024-03-10T10:00:00+00:00"
    )


def test_unreadable_time() -> None:
    with pytest.raises(ClockError, match="cannot read the time 'noonish'"):
        convert_timezone("noonish", "UTC", "UTC")
