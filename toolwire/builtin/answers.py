"""The sentences that state the built-in tools' results ("42 US dollars is 131.95 Canadian
dollars."): each is a tool's ``answer`` (see ``toolwire.tools.registry.AnswerTemplate``), a
function of the call's arguments and its result.

They are what the answer falls back to when the model's own sentence loses a number or is cut
off, so they state the inputs as well as the result, in the names people write.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from toolwire.builtin.currency import currency_label
from toolwire.builtin.units import unit_label

_FUNCTION = re.compile(r"[A-Za-z_]\w*\s*\(")


def number(value: Any) -> str:
    """42 -> "42", 42.0 -> "42", 131.949999 -> "131.95" (at most two decimals, none to spare)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value)}"
    return f"{value:.2f}".rstrip("0").rstrip(".") if abs(value) >= 0.01 else f"{value:.4g}"


def calculation(arguments: dict[str, Any], result: Any) -> str:
    """ "3 * (4 + 5) is 27." (an expression with a function in it: "The result is 4.")."""
    expression = " ".join(str(arguments.get("expression", "")).split())
    if not expression or _FUNCTION.search(expression):
        return f"The result is {number(result)}."
    return f"{expression} is {number(result)}."


def money(arguments: dict[str, Any], result: Any) -> str:
    amount, source, target = (arguments["amount"], arguments["from_currency"],
                              arguments["to_currency"])
    return (f"{number(amount)} {currency_label(source, amount)} is {result:.2f} "
            f"{currency_label(target, result)}.")


def measurement(arguments: dict[str, Any], result: Any) -> str:
    value, source, target = arguments["value"], arguments["from_unit"], arguments["to_unit"]
    return (f"{number(value)} {unit_label(source, value)} is {number(result)} "
            f"{unit_label(target, result)}.")


def place_of(zone: str) -> str:
    """ "America/New_York" -> "New York"; a city or "UTC" as written."""
    return zone.rsplit("/", 1)[-1].replace("_", " ") if "/" in zone else zone.strip()


def _moment(iso: str) -> str:
    moment = datetime.fromisoformat(iso)
    return f"{moment:%H:%M} on {moment:%A}, {moment.day} {moment:%B %Y}"


def clock(arguments: dict[str, Any], result: Any) -> str:
    return f"It is {_moment(result)} in {place_of(str(arguments.get('timezone', 'UTC')))}."


def time_zone_change(arguments: dict[str, Any], result: Any) -> str:
    return (f"{arguments['time']} in {place_of(arguments['from_timezone'])} is "
            f"{_moment(result)} in {place_of(arguments['to_timezone'])}.")


def weather(arguments: dict[str, Any], result: dict[str, Any]) -> str:
    degrees = "°F" if result.get("unit") == "fahrenheit" else "°C"
    city = result.get("city") or arguments.get("city")
    text = f"In {city} it is {number(result['temperature'])} {degrees}"
    if result.get("feels_like") is not None:
        text += f" (feels like {number(result['feels_like'])} {degrees})"
    if result.get("conditions"):
        text += f", {result['conditions'].lower()}"
    extras = []
    if result.get("humidity_percent") is not None:
        extras.append(f"humidity {number(result['humidity_percent'])}%")
    if result.get("wind_speed_kmh") is not None:
        extras.append(f"wind {number(result['wind_speed_kmh'])} km/h")
    return f"{text}{', with ' + ' and '.join(extras) if extras else ''}."


def opened(arguments: dict[str, Any], result: Any) -> str:
    return f"Opened {arguments['app_name']}."
