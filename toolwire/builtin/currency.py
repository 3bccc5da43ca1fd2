"""``convert_currency``: money between currencies at the configured rate table.

Rates come from ``Settings.currency_rates`` (units of each currency per one US dollar). The
registered tool's currency parameters are a ``Literal`` of exactly the configured ISO 4217
codes, so the schema's ``enum`` tells the model what it may ask for, and the parameter
descriptions name each currency ("CAD (Canadian dollar)") so "US dollars" maps to ``USD``.

The functions also take what people write (``currency_code``): a code in any case ("usd"), a
name ("US dollars", "Canadian dollars", "euros", "yen"), a symbol ("$", "£", "€", "US$"). Names
and symbols are Unicode CLDR's English ones, as the ``babel`` package ships them;
``currency_label`` gives the name back for answers ("131.95 Canadian dollars", "1 US dollar").
"""

from __future__ import annotations

import contextlib
import functools
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

from toolwire.config import Settings, get_settings

#: What a bare noun means when several convertible currencies share it ("dollars": US, Canadian,
#: Australian...); a noun that names one convertible currency ("yen", "rupees") needs no entry.
PREFERRED: dict[str, str] = {"dollar": "USD", "dollars": "USD", "pound": "GBP", "pounds": "GBP"}
#: Names people write that CLDR's English names lack.
EXTRA_NAMES: dict[str, str] = {
    "buck": "USD",
    "bucks": "USD",
    "quid": "GBP",
    "sterling": "GBP",
    "pound sterling": "GBP",
    "pounds sterling": "GBP",
    "renminbi": "CNY",
    "rmb": "CNY",
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


def currency_code(name: str, codes: Iterable[str] = ()) -> str:
    """The ISO 4217 code ``name`` stands for: a code in any case, a name ("US dollars",
    "euros"), a symbol ("£"), or a bare noun ("yen", "dollars") naming one of ``codes`` (the
    convertible ones; ``PREFERRED`` when several); a ``CurrencyError`` when none or several fit."""
    if name in codes:
        return name
    key = _key(name) if isinstance(name, str) else ""
    code = _names().get(key)
    if code is not None:
        return code
    candidates = sorted(_nouns().get(key, set()) & set(codes))
    if len(candidates) == 1:
        return candidates[0]
    if PREFERRED.get(key) in candidates:
        return PREFERRED[key]
    if candidates:
        raise CurrencyError(f"{name!r} is ambiguous: use one of {_code_list(candidates)}")
    known = ", ".join(sorted(codes))
    raise CurrencyError(f"unknown currency {name!r}: use one of {known}")


def currency_label(code: str, amount: float) -> str:
    """The English name of the currency ``code`` for ``amount`` of it: "US dollars",
    "Canadian dollars", "euros", "US dollar" (for 1); a currency it does not know, as written."""
    from babel.numbers import get_currency_name

    try:
        code = currency_code(code)
    except CurrencyError:
        return str(code)
    return get_currency_name(code, count=1 if abs(amount) == 1 else 2, locale="en")


def convert(
    amount: float, from_currency: str, to_currency: str, rates: Mapping[str, float]
) -> float:
    """``amount`` of ``from_currency`` in ``to_currency`` (codes or names), rounded to cents."""
    source, target = (currency_code(c, rates) for c in (from_currency, to_currency))
    for name, code in ((from_currency, source), (to_currency, target)):
        if code not in rates:
            known = ", ".join(sorted(rates))
            raise CurrencyError(f"unknown currency {name!r}: use one of {known}")
    return round(amount / rates[source] * rates[target], 2)


def canonical_arguments(
    arguments: dict[str, Any], rates: Mapping[str, float] | None = None
) -> dict[str, Any]:
    """``arguments`` with ``from_currency`` and ``to_currency`` as ISO codes where known (the
    others left as written, for the schema to refuse); ``rates`` default to the settings'."""
    fixed = dict(arguments)
    known = get_settings().currency_rates if rates is None else rates
    for name in ("from_currency", "to_currency"):
        with contextlib.suppress(KeyError, CurrencyError):
            fixed[name] = currency_code(fixed[name], known)
    return fixed


def convert_currency(amount: float, from_currency: str, to_currency: str) -> float:
    """Convert an amount of money from one currency to another at exchange rates.

    Args:
        amount: how much money to convert
        from_currency: ISO 4217 code of the currency the amount is in, e.g. USD
        to_currency: ISO 4217 code of the currency wanted, e.g. CAD
    """
    return convert(amount, from_currency, to_currency, check_rates(get_settings().currency_rates))


def currency_name(code: str) -> str:
    """CLDR's English name of one unit of ``code`` ("US dollar"); the code when unknown."""
    from babel.numbers import get_currency_name

    return get_currency_name(code, count=1, locale="en")


def _code_list(codes: list[str]) -> str:
    return ", ".join(f"{c} ({name})" if (name := currency_name(c)) != c else c for c in codes)


def _key(name: str) -> str:
    """A currency's name as compared: no case, accents nor dots, single spaces ("U.S. Dollars")."""
    text = unicodedata.normalize("NFKD", name.replace(".", ""))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.casefold().split())


@functools.cache
def _names() -> dict[str, str]:
    """Every currency's code, English names (singular, plural) and symbols, to its code."""
    from babel import Locale

    table: dict[str, str] = {}
    for locale in (Locale.parse("en_001"), Locale.parse("en")):  # en's "$" wins over en_001's
        for code, name in locale.currencies.items():
            table[_key(code)] = code
            table[_key(name)] = code
            for plural in _plurals(locale, code):
                table[_key(plural)] = code
        for code, symbol in locale.currency_symbols.items():
            table[_key(symbol)] = code
    table.update({_key(name): code for name, code in EXTRA_NAMES.items()})
    return table


@functools.cache
def _nouns() -> dict[str, set[str]]:
    """The last word of every currency's names ("dollar", "dollars", "yen") to the codes."""
    from babel import Locale

    nouns: dict[str, set[str]] = {}
    locale = Locale.parse("en")
    for code, name in locale.currencies.items():
        for text in (name, *_plurals(locale, code)):
            nouns.setdefault(_key(text).rsplit(" ", 1)[-1], set()).add(code)
    return nouns


def _plurals(locale: Any, code: str) -> set[str]:
    """The names of one and of several ("US dollar", "US dollars") of ``code`` in ``locale``."""
    from babel.numbers import get_currency_name

    return {get_currency_name(code, count=n, locale=locale) for n in (1, 2)}


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
