"""``convert_units``: length, mass, temperature, volume and speed conversions.

Each linear unit is a factor to its dimension's base unit (metre, kilogram, litre, metre per
second); temperatures go through kelvin with an offset.
"""

from __future__ import annotations

from typing import Literal, get_args

Unit = Literal[
    "millimeter",
    "centimeter",
    "meter",
    "kilometer",
    "inch",
    "foot",
    "yard",
    "mile",
    "nautical_mile",
    "milligram",
    "gram",
    "kilogram",
    "tonne",
    "ounce",
    "pound",
    "stone",
    "celsius",
    "fahrenheit",
    "kelvin",
    "milliliter",
    "liter",
    "cubic_meter",
    "teaspoon",
    "tablespoon",
    "cup",
    "fluid_ounce",
    "pint",
    "quart",
    "gallon",
    "meters_per_second",
    "kilometers_per_hour",
    "miles_per_hour",
    "knot",
]

#: (dimension, factor to the dimension's base unit) of each linear unit; US customary volumes.
LINEAR: dict[str, tuple[str, float]] = {
    "millimeter": ("length", 0.001),
    "centimeter": ("length", 0.01),
    "meter": ("length", 1.0),
    "kilometer": ("length", 1000.0),
    "inch": ("length", 0.0254),
    "foot": ("length", 0.3048),
    "yard": ("length", 0.9144),
    "mile": ("length", 1609.344),
    "nautical_mile": ("length", 1852.0),
    "milligram": ("mass", 1e-6),
    "gram": ("mass", 0.001),
    "kilogram": ("mass", 1.0),
    "tonne": ("mass", 1000.0),
    "ounce": ("mass", 0.028349523125),
    "pound": ("mass", 0.45359237),
    "stone": ("mass", 6.35029318),
    "milliliter": ("volume", 0.001),
    "liter": ("volume", 1.0),
    "cubic_meter": ("volume", 1000.0),
    "teaspoon": ("volume", 0.00492892159375),
    "tablespoon": ("volume", 0.01478676478125),
    "cup": ("volume", 0.2365882365),
    "fluid_ounce": ("volume", 0.0295735295625),
    "pint": ("volume", 0.473176473),
    "quart": ("volume", 0.946352946),
    "gallon": ("volume", 3.785411784),
    "meters_per_second": ("speed", 1.0),
    "kilometers_per_hour": ("speed", 1 / 3.6),
    "miles_per_hour": ("speed", 0.44704),
    "knot": ("speed", 1852 / 3600),
}
#: (scale, offset) so that kelvin = value * scale + offset.
TEMPERATURE: dict[str, tuple[float, float]] = {
    "kelvin": (1.0, 0.0),
    "celsius": (1.0, 273.15),
    "fahrenheit": (5 / 9, 273.15 - 32 * 5 / 9),
}
SIGNIFICANT_DIGITS = 10
"""Results are rounded to this many significant digits (hides binary-float noise)."""


class UnitError(ValueError):
    """An unknown unit, or units of different kinds (a mass into a length)."""


def dimension(unit: str) -> str:
    """What ``unit`` measures: length, mass, temperature, volume or speed."""
    if unit in TEMPERATURE:
        return "temperature"
    if unit in LINEAR:
        return LINEAR[unit][0]
    raise UnitError(f"unknown unit {unit!r}: use one of {', '.join(get_args(Unit))}")


def convert_units(value: float, from_unit: Unit, to_unit: Unit) -> float:
    """Convert a measurement between units of length, weight, temperature, volume or speed.

    Args:
        value: the quantity to convert
        from_unit: unit the value is in, e.g. mile, kilogram, fahrenheit, gallon, knot
        to_unit: unit wanted, of the same kind as from_unit, e.g. kilometer, pound, celsius
    """
    source, target = dimension(from_unit), dimension(to_unit)
    if source != target:
        raise UnitError(f"cannot convert {from_unit} ({source}) to {to_unit} ({target})")
    if source == "temperature":
        kelvin = value * TEMPERATURE[from_unit][0] + TEMPERATURE[from_unit][1]
        if kelvin < -1e-9:
            raise UnitError(f"{value} {from_unit} is below absolute zero")
        result = (kelvin - TEMPERATURE[to_unit][1]) / TEMPERATURE[to_unit][0]
    else:
        result = value * LINEAR[from_unit][1] / LINEAR[to_unit][1]
    return float(f"{result:.{SIGNIFICANT_DIGITS}g}")
