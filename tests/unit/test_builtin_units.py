"""convert_units: the five dimensions, and clear errors across them."""

from __future__ import annotations

from typing import get_args

import pytest

from toolwire.builtin.units import LINEAR, TEMPERATURE, Unit, UnitError, convert_units


@pytest.mark.parametrize(
    ("value", "source", "target", "expected"),
    [
        (1, "mile", "kilometer", 1.609344),
        (100, "centimeter", "meter", 1.0),
        (12, "inch", "foot", 1.0),
        (1, "kilogram", "pound", 2.204622622),
        (16, "ounce", "pound", 1.0),
        (1, "tonne", "gram", 1_000_000.0),
        (100, "celsius", "fahrenheit", 212.0),
        (32, "fahrenheit", "celsius", 0.0),
        (0, "kelvin", "celsius", -273.15),
        (-40, "celsius", "fahrenheit", -40.0),
        (1, "gallon", "liter", 3.785411784),
        (1, "cup", "tablespoon", 16.0),
        (2, "pint", "quart", 1.0),
        (36, "kilometers_per_hour", "meters_per_second", 10.0),
        (1, "knot", "kilometers_per_hour", 1.852),
        (60, "miles_per_hour", "kilometers_per_hour", 96.56064),
        (5, "meter", "meter", 5.0),
    ],
)
def test_conversions(value: float, source: str, target: str, expected: float) -> None:
    assert convert_units(value, source, target) == pytest.approx(expected, rel=1e-9)  # type: ignore[arg-type]


def test_float_noise_is_rounded_away() -> None:
    assert convert_units(0.1, "meter", "centimeter") == 10.0


def test_every_listed_unit_has_a_definition() -> None:
    assert set(get_args(Unit)) == set(LINEAR) | set(TEMPERATURE)


def test_incompatible_units() -> None:
    with pytest.raises(UnitError, match=r"cannot convert kilogram \(mass\) to meter \(length\)"):
        convert_units(1, "kilogram", "meter")


def test_unknown_unit() -> None:
    with pytest.raises(UnitError, match="unknown unit 'furlong'"):
        convert_units(1, "furlong", "meter")  # type: ignore[arg-type]


def test_below_absolute_zero() -> None:
    with pytest.raises(UnitError, match="below absolute zero"):
        convert_units(-300, "celsius", "kelvin")
    assert convert_units(-459.67, "fahrenheit", "kelvin") == pytest.approx(0.0, abs=1e-9)
