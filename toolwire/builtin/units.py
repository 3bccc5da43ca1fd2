"""``convert_units``: length, mass, temperature, volume and speed conversions.

Each linear unit is a factor to its dimension's base unit (metre, kilogram, litre, metre per
second); temperatures go through kelvin with an offset.

The schema offers the model the canonical names (``Unit``); the function also takes the names
people write (``canonical_unit``): "miles", "feet", "km", "lbs", "°F", "degC", "mph", "km/h",
"ml", "fl oz", "metre", "litres", "degrees celsius". They come from Unicode CLDR's English unit
names (US and British spellings; long, short and narrow forms; singular and plural), as the
``babel`` package ships them, plus ``EXTRA_NAMES``; ``unit_label`` gives the readable name back
("42 miles", "1 mile", "degrees Fahrenheit").
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import re
from typing import Any, Literal, get_args

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
#: The CLDR unit identifier of each unit (where babel finds its English names).
CLDR_UNITS: dict[str, str] = {
    "millimeter": "length-millimeter",
    "centimeter": "length-centimeter",
    "meter": "length-meter",
    "kilometer": "length-kilometer",
    "inch": "length-inch",
    "foot": "length-foot",
    "yard": "length-yard",
    "mile": "length-mile",
    "nautical_mile": "length-nautical-mile",
    "milligram": "mass-milligram",
    "gram": "mass-gram",
    "kilogram": "mass-kilogram",
    "tonne": "mass-tonne",
    "ounce": "mass-ounce",
    "pound": "mass-pound",
    "stone": "mass-stone",
    "celsius": "temperature-celsius",
    "fahrenheit": "temperature-fahrenheit",
    "kelvin": "temperature-kelvin",
    "milliliter": "volume-milliliter",
    "liter": "volume-liter",
    "cubic_meter": "volume-cubic-meter",
    "teaspoon": "volume-teaspoon",
    "tablespoon": "volume-tablespoon",
    "cup": "volume-cup",
    "fluid_ounce": "volume-fluid-ounce",
    "pint": "volume-pint",
    "quart": "volume-quart",
    "gallon": "volume-gallon",
    "meters_per_second": "speed-meter-per-second",
    "kilometers_per_hour": "speed-kilometer-per-hour",
    "miles_per_hour": "speed-mile-per-hour",
    "knot": "speed-knot",
}
#: Names people write that CLDR's English names lack; they win over CLDR's ("c" is a cup there).
EXTRA_NAMES: dict[str, str] = {
    "lbs": "pound",
    "c": "celsius",
    "degc": "celsius",
    "deg c": "celsius",
    "centigrade": "celsius",
    "degrees centigrade": "celsius",
    "f": "fahrenheit",
    "degf": "fahrenheit",
    "deg f": "fahrenheit",
    "k": "kelvin",
    "degk": "kelvin",
    "°k": "kelvin",
    "cc": "milliliter",
    "floz": "fluid_ounce",
    "kph": "kilometers_per_hour",
    "kmh": "kilometers_per_hour",
    "kmph": "kilometers_per_hour",
    "km per hour": "kilometers_per_hour",
    "mps": "meters_per_second",
    "kt": "knot",
    "kts": "knot",
    "kilo": "kilogram",
    "kilos": "kilogram",
}
_WIDTHS: tuple[Literal["long", "short", "narrow"], ...] = ("long", "short", "narrow")
_DEGREES = re.compile(r"^(?:degrees?|deg|°)\s*(?=[cfk]$)")
SIGNIFICANT_DIGITS = 10
"""Results are rounded to this many significant digits (hides binary-float noise)."""


class UnitError(ValueError):
    """An unknown unit, or units of different kinds (a mass into a length)."""


def canonical_unit(name: str) -> str:
    """The ``Unit`` that ``name`` names, as people write it ("miles", "km/h", "°F", "litre");
    a ``UnitError`` naming the closest units when none fits."""
    if name in LINEAR or name in TEMPERATURE:
        return name
    key = _key(name) if isinstance(name, str) else ""
    unit = _names().get(key) or _names().get(_DEGREES.sub("°", key))  # "degrees F" -> "°f"
    if unit is None:
        close = difflib.get_close_matches(key, _names(), n=3, cutoff=0.75)
        units = list(dict.fromkeys(_names()[c] for c in close))
        hint = (f"did you mean {' or '.join(units)}?" if units
                else f"use one of {', '.join(get_args(Unit))}")
        raise UnitError(f"unknown unit {name!r}: {hint}")
    return unit


def dimension(unit: str) -> str:
    """What ``unit`` measures: length, mass, temperature, volume or speed."""
    unit = canonical_unit(unit)
    return "temperature" if unit in TEMPERATURE else LINEAR[unit][0]


def unit_label(unit: str, value: float) -> str:
    """The readable English name of ``unit`` for ``value`` of it: "miles", "mile" (for 1),
    "degrees Fahrenheit", "kilometers per hour"; a name it does not know, as written."""
    from babel.units import format_unit

    try:
        cldr = CLDR_UNITS[canonical_unit(unit)]
    except UnitError:
        return str(unit).replace("_", " ")
    count = 1 if abs(value) == 1 else 2
    return _without_number(format_unit(count, cldr, length="long", locale="en"), count)


def canonical_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    """``arguments`` with ``from_unit`` and ``to_unit`` in their canonical names where known (the
    others left as written, for the schema to refuse)."""
    fixed = dict(arguments)
    for name in ("from_unit", "to_unit"):
        with contextlib.suppress(KeyError, UnitError):
            fixed[name] = canonical_unit(fixed[name])
    return fixed


def convert_units(value: float, from_unit: Unit, to_unit: Unit) -> float:
    """Convert a measurement between units of length, weight, temperature, volume or speed.

    Args:
        value: the quantity to convert
        from_unit: unit the value is in, e.g. mile, kilogram, fahrenheit, gallon, knot
        to_unit: unit wanted, of the same kind as from_unit, e.g. kilometer, pound, celsius
    """
    unit_in, unit_out = canonical_unit(from_unit), canonical_unit(to_unit)  # "miles" -> mile
    source, target = dimension(unit_in), dimension(unit_out)
    if source != target:
        raise UnitError(f"cannot convert {unit_in} ({source}) to {unit_out} ({target})")
    if source == "temperature":
        kelvin = value * TEMPERATURE[unit_in][0] + TEMPERATURE[unit_in][1]
        if kelvin < -1e-9:
            raise UnitError(f"{value} {unit_in} is below absolute zero")
        result = (kelvin - TEMPERATURE[unit_out][1]) / TEMPERATURE[unit_out][0]
    else:
        result = value * LINEAR[unit_in][1] / LINEAR[unit_out][1]
    return float(f"{result:.{SIGNIFICANT_DIGITS}g}")


def _key(name: str) -> str:
    """A unit name as compared: no case, spaces for underscores and hyphens, no dots, one space
    at most ("Fl. Oz." and "fl oz", "nautical_mile", "Degrees-Celsius")."""
    text = name.casefold().replace("_", " ").replace("-", " ").replace(".", " ")
    text = re.sub(r"\s*/\s*", "/", text)
    return " ".join(text.split())


def _without_number(text: str, count: int) -> str:
    """ "2 miles" -> "miles", "1°C" -> "°C"."""
    return text.replace(str(count), "", 1).strip()


@functools.cache
def _names() -> dict[str, str]:
    """Every name of every unit, to the unit: its own, CLDR's long and short ones, singular and
    plural, in US and British English (a name two units shared would be dropped: there is none
    today), then ``EXTRA_NAMES``. CLDR's narrow forms are left out: "°" is Fahrenheit there."""
    from babel.units import format_unit, get_unit_name

    found: dict[str, set[str]] = {}
    for unit, cldr in CLDR_UNITS.items():
        names = {unit}
        for locale in ("en", "en_GB"):
            for length in ("long", "short"):
                names |= {_without_number(format_unit(n, cldr, length=length, locale=locale), n)
                          for n in (1, 2)}
            for width in _WIDTHS:
                names.add(get_unit_name(cldr, length=width, locale=locale) or "")
        for name in names:
            if name:
                found.setdefault(_key(name), set()).add(unit)
    table = {name: units.pop() for name, units in found.items() if len(units) == 1}
    table.update({_key(unit): unit for unit in CLDR_UNITS})
    table.update({_key(name): unit for name, unit in EXTRA_NAMES.items()})
    return table
