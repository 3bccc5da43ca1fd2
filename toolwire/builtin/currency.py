"""``convert_currency``: money between currencies at the configured rate table.

Rates come from ``Settings.currency_rates`` (units of each currency per one US dollar). The
registered tool's currency parameters are a ``Literal`` of exactly the configured ISO 4217
codes, so the schema's ``enum`` tells the model what it may ask for, and the parameter
descriptions name each currency ("CAD (Canadian dollar)") so "US dollars" maps to ``USD``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from toolwire.config import Settings, get_settings

#: English names of common ISO 4217 codes, for the parameter descriptions.
CURRENCY_NAMES: dict[str, str] = {
    "USD": "US dollar",
    "CAD": "Canadian dollar",
    "EUR": "euro",
    "GBP": "British pound sterling",
    "JPY": "Japanese yen",
    "CHF": "Swiss franc",
    "AUD": "Australian dollar",
    "CNY": "Chinese yuan renminbi",
    "INR": "Indian rupee",
    "MXN": "Mexican peso",
    "NZD": "New Zealand dollar",
    "SEK": "Swedish krona",
    "NOK": "Norwegian krone",
    "DKK": "Danish krone",
    "BRL": "Brazilian real",
    "HKD": "Hong Kong dollar",
    "SGD": "Singapore dollar",
    "KRW": "South Korean won",
    "ZAR": "South African rand",
}

DESCRIPTION = "Convert an amount of money from one currency to another at exchange rates."
KEYWORDS = ("exchange", "money", "forex", "rate", "dollars", "euros", "currency")


class CurrencyError(ValueError):
    """An unknown currency code or an unusable rate table."""


def check_rates(rates: Mapping[str, float]) -> dict[str, float]:
    """``rates`` checked: ISO 4217 codes (three capital letters) with positive rates."""
    checked: dict[str, float] = {}
    for code, rate in rates.items():
        if len(code) != 3 or not code.isascii() or not code.isalpha() or not code.isupper():
            raise CurrencyError(f"{code!r} is not an ISO 4217 currency code (like 'USD')")
        if not rate > 0:
            raise CurrencyError(f"the rate of {code} must be positive, not {rate!r}")
        checked[code] = float(rate)
    if not checked:
        raise CurrencyError("the currency rate table is empty")
    return checked


def convert(
    amount: float, from_currency: str, to_currency: str, rates: Mapping[str, float]
) -> float:
    """``amount`` of ``from_currency`` in ``to_currency``, rounded to cents."""
    for code in (from_currency, to_currency):
        if code not in rates:
            known = ", ".join(sorted(rates))
            raise CurrencyError(f"unknown currency {code!r}: use one of {known}")
    return round(amount / rates[from_currency] * rates[to_currency], 2)


def convert_currency(amount: float, from_currency: str, to_currency: str) -> float:
    """Convert an amount of money from one currency to another at exchange rates.

    Args:
        amount: how much money to convert
        from_currency: ISO 4217 code of the currency the amount is in, e.g. USD
        to_currency: ISO 4217 code of the currency wanted, e.g. CAD
    """
    return convert(amount, from_currency, to_currency, check_rates(get_settings().currency_rates))


def _code_list(codes: list[str]) -> str:
    return ", ".join(f"{c} ({CURRENCY_NAMES[c]})" if c in CURRENCY_NAMES else c for c in codes)


def currency_tool(settings: Settings | None = None) -> Callable[..., float]:
    """The ``convert_currency`` handler to register, its parameters typed by the rate table.

    With the process settings' rates (the usual case) its import path is this module's
    ``convert_currency``, so snippets and the sandbox reproduce it; a handler bound to other
    rates has no import path.
    """
    rates = check_rates((settings or get_settings()).currency_rates)
    codes = sorted(rates)
    currency: Any = Literal.__getitem__(tuple(codes))

    def handler(amount: float, from_currency: str, to_currency: str) -> float:
        return convert(amount, from_currency, to_currency, rates)

    handler.__name__ = "convert_currency"
    handler.__annotations__ = {
        "amount": float,
        "from_currency": currency,
        "to_currency": currency,
        "return": float,
    }
    handler.__doc__ = (
        f"{DESCRIPTION}\n\nArgs:\n"
        "    amount: how much money to convert\n"
        f"    from_currency: currency the amount is in: {_code_list(codes)}\n"
        f"    to_currency: currency to convert to: {_code_list(codes)}\n"
    )
    if rates == check_rates(get_settings().currency_rates):
        handler.__qualname__ = "convert_currency"
    return handler
