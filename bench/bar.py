"""The acceptance bar of issue 2: sentences, the call each must produce, and how a run is scored.

Shared by ``bench/engine_e2e.py`` (accuracy next to latency) and
``tests/integration/test_bar.py`` (the assertion "at least 9 of 10").

A run is right when it makes exactly the expected call (name and arguments; an argument left
out counts as its schema default, so ``get_weather(city="Paris")`` equals ``unit="celsius"``),
and its outcome is the expected one: the converted amount for currencies; for the weather and
for opening an app, whose outcome depends on the machine, the error this machine must give when
the network is down (:func:`offline_env`) and there is no display.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

UNREACHABLE_URL = "http://127.0.0.1:9/v1"
"""A URL nothing answers on (the discard port): the weather service is "down"."""


@dataclass(kw_only=True, frozen=True)
class Expected:
    """What one sentence must produce."""

    name: str | None
    """The one tool to call; ``None``: no call at all (a plain answer)."""
    arguments: Mapping[str, Any] = field(default_factory=dict)
    result: Any = None
    """The result of an ``ok`` call (numbers compare to the cent); ``None`` when not ``ok``."""
    error_contains: str | None = None
    """For a call that must fail here (offline, headless): a phrase of its error message."""
    status: str | None = None
    """For a call that must not run yet (``pending_approval``): its status."""


@dataclass(kw_only=True, frozen=True)
class Case:
    sentence: str
    expected: Expected


def _weather(city: str, unit: str) -> Expected:
    return Expected(
        name="get_weather",
        arguments={"city": city, "unit": unit},
        error_contains="unreachable",
    )


def _currency(amount: float, source: str, target: str, result: float) -> Expected:
    arguments = {"amount": amount, "from_currency": source, "to_currency": target}
    return Expected(name="convert_currency", arguments=arguments, result=result)


_CALCULATOR = Expected(
    name="open_app", arguments={"app_name": "calculator"}, status="pending_approval"
)
"""``open_app`` changes the user's screen: it waits for a person's approval."""

#: The ten sentences of the bar (issue 2), in its order. Amounts at the default rate table.
BAR: tuple[Case, ...] = (
    Case(sentence="What's the weather like in Paris right now? Use celsius.",
         expected=_weather("Paris", "celsius")),
    Case(sentence="How much is 250 US dollars in euros?",
         expected=_currency(250, "USD", "EUR", 230.0)),
    Case(sentence="Please open the calculator app.", expected=_CALCULATOR),
    Case(sentence="Is it hot in Tokyo today? Tell me in fahrenheit.",
         expected=_weather("Tokyo", "fahrenheit")),
    Case(sentence="Convert 1000 Japanese yen to British pounds.",
         expected=_currency(1000, "JPY", "GBP", 5.28)),
    Case(sentence="Weather forecast for London in fahrenheit please",
         expected=_weather("London", "fahrenheit")),
    Case(sentence="I want to know the temperature in Madrid in celsius.",
         expected=_weather("Madrid", "celsius")),
    Case(sentence="Exchange 75 euros into US dollars.",
         expected=_currency(75, "EUR", "USD", 81.52)),
    Case(sentence="Launch the calculator.", expected=_CALCULATOR),
    Case(sentence="How many Swiss francs do I get for 500 Canadian dollars?",
         expected=_currency(500, "CAD", "CHF", 140.06)),
)

#: The issue's other examples: the spec's 42 USD -> 131.95, and a sentence no tool fits.
EXTRA: tuple[Case, ...] = (
    Case(sentence="I want to exchange 42 US dollars to Canadian dollars",
         expected=_currency(42, "USD", "CAD", 131.95)),
    Case(sentence="write me a poem about the sea", expected=Expected(name=None)),
    Case(sentence="what is 17 * 23 + 4",
         expected=Expected(name="calculate", arguments={"expression": "17 * 23 + 4"},
                           result=395)),
    Case(sentence="convert 1000 JPY to GBP", expected=_currency(1000, "JPY", "GBP", 5.28)),
    Case(sentence="open the calculator", expected=_CALCULATOR),
)

PASS_MARK = 9
"""Bar sentences (of 10) that must be right."""


def offline_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default ``os.environ``) with the weather service down and no display."""
    env = {k: v for k, v in (base or os.environ).items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["TOOLWIRE_WEATHER_URL"] = UNREACHABLE_URL
    env["TOOLWIRE_GEOCODING_URL"] = UNREACHABLE_URL
    return env


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, float | int) and not isinstance(want, bool):
        return (isinstance(got, float | int) and not isinstance(got, bool)
                and math.isclose(got, want, abs_tol=0.005))
    return bool(got == want)


def with_defaults(arguments: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """``arguments`` plus the schema default of every parameter left out."""
    props: Mapping[str, Any] = schema.get("properties", {})
    filled = {k: p["default"] for k, p in props.items() if isinstance(p, dict) and "default" in p}
    return {**filled, **arguments}


def problems(expected: Expected, calls: list[Mapping[str, Any]],
             schemas: Mapping[str, Mapping[str, Any]], *, outcome: bool = True) -> list[str]:
    """What is wrong with ``calls`` (dicts with name, arguments, result, error); [] if right.

    ``schemas`` maps tool names to their JSON Schema (for argument defaults); with
    ``outcome=False`` only the calls are checked, not their results.
    """
    if expected.name is None:
        return [f"expected no call, got {[c['name'] for c in calls]}"] if calls else []
    if len(calls) != 1:
        return [f"expected one call to {expected.name}, got {[c['name'] for c in calls]}"]
    call = calls[0]
    if call["name"] != expected.name:
        return [f"called {call['name']} instead of {expected.name}"]
    found: list[str] = []
    schema = schemas.get(expected.name, {})
    got = with_defaults(call["arguments"], schema)
    want = with_defaults(expected.arguments, schema)
    if set(got) != set(want) or not all(_same(got[k], want[k]) for k in want):
        found.append(f"arguments {call['arguments']} instead of {dict(expected.arguments)}")
    if outcome:
        found.extend(_outcome_problems(expected, call))
    return found


def _outcome_problems(expected: Expected, call: Mapping[str, Any]) -> list[str]:
    error = call.get("error")
    if expected.status is not None:
        if call.get("status") != expected.status:
            return [f"expected status {expected.status}, got {call.get('status')!r}"]
        return []
    if expected.error_contains is not None:
        message = str((error or {}).get("message", ""))
        if expected.error_contains not in message:
            return [f"expected an error with {expected.error_contains!r}, got "
                    f"result={call.get('result')!r} error={error!r}"]
        return []
    if error is not None or not _same(call.get("result"), expected.result):
        return [f"result {call.get('result')!r} (error {error!r}) instead of {expected.result!r}"]
    return []
