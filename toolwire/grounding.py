"""Where an answer's numbers come from: no number without a source.

An answer may state a number only when a source explains it. The sources are the sentence,
and each call's name, arguments, result and error, searched at any depth: dict keys and
values, lists, numbers inside strings ("161.5 JPY", "rate=3"), ISO dates and times
("2026-12-03T19:45:00+09:00" holds 2026, 12, 3, 19, 45, 0 and 9). Booleans are not numbers;
"1,221" is 1221 and "1.5e3" is 1500.

A written number is explained by a source it equals, or by one it is rounded from: "131.95"
and "132" by 131.9499, "0.13" by 0.125 (half-up or half-even), "42" by 42.0. Signs are
ignored ("-5 °C" and "5" are one number). Every run of digits counts, even inside a word
("mp3" writes 3): a name with digits is explained by the same name among the sources.

    calls = [convert_currency(amount=42, from_currency="USD", to_currency="CAD") -> 131.9499]
    known = sources("exchange 42 USD to CAD", calls)
    ungrounded("42 US dollars is 131.95 Canadian dollars.", known)   # []
    ungrounded("42 US dollars is 13.19 Canadian dollars.", known)    # ["13.19"]
    unstated("That went well.", calls)                               # ["131.9499"]
"""

from __future__ import annotations

import bisect
import decimal
import math
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from toolwire.run import CallResult
from toolwire.text.mentions import numbers as number_mentions

_NUMBER = re.compile(
    r"\d{1,3}(?:,\d{3})+(?!\d)(?:\.\d+)?"  # 1,221 and 1,221.5
    r"|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"  # 42, 131.95, 1.5e3
)
_GROUPED = re.compile(r"\d+")
_MAX_EXPONENT = 10_000
"""Numbers larger or smaller than 10^±10,000 are not compared (nothing states them)."""
_ENVELOPE = frozenset({"status", "body", "headers"})
"""The keys of an HTTP tool's result (``{"status": 200, "body": ...}``)."""


def _value(text: str) -> Decimal | None:
    """The absolute value ``text`` (a match of ``_NUMBER``) writes, or ``None`` when absurd."""
    value = Decimal(text.replace(",", ""))
    return value if abs(value.adjusted()) <= _MAX_EXPONENT else None


def written(text: str) -> list[tuple[str, Decimal]]:
    """The numbers ``text`` writes, in order: each as written and its value (a sign is not
    part of a number here)."""
    found = ((m.group(), _value(m.group())) for m in _NUMBER.finditer(text))
    return [(shown, value) for shown, value in found if value is not None]


def numbers_in(value: Any) -> Iterator[Decimal]:
    """Every number ``value`` holds, at any depth, as absolute values: numbers, the numbers
    written in strings (a grouped "1,221" also as 1 and 221), dict keys and values, lists."""
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        yield Decimal(value).copy_abs()
    elif isinstance(value, float):
        if math.isfinite(value):  # as written (half-up rounds this) and as stored
            yield Decimal(repr(value)).copy_abs()
            yield Decimal(value).copy_abs()
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from numbers_in(key)
            yield from numbers_in(item)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from numbers_in(item)
    else:
        yield from _in_text(str(value))


def _in_text(text: str) -> Iterator[Decimal]:
    for shown, number in written(text):
        yield number
        if "," in shown:
            yield from (Decimal(part) for part in _GROUPED.findall(shown))


class Sources:
    """The numbers an answer may state (absolute values), sorted for lookup."""

    def __init__(self, numbers: Iterable[Decimal]) -> None:
        self.numbers = sorted(set(numbers))

    @classmethod
    def of(cls, *values: Any) -> Sources:
        """The numbers ``values`` hold, at any depth (``numbers_in``)."""
        return cls(n for value in values for n in numbers_in(value))

    def __or__(self, other: Sources) -> Sources:
        return Sources([*self.numbers, *other.numbers])

    def explains(self, shown: str) -> bool:
        """Whether a number written as ``shown`` equals a source or a source rounded to the
        places ``shown`` writes (within half a unit of its last place, either way)."""
        value = _value(shown)
        if value is None:
            return False
        digits, places = len(value.as_tuple().digits), value.as_tuple().exponent
        assert isinstance(places, int)  # a finite number: no NaN or infinity is ever written
        exact = decimal.Context(prec=digits + 3, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)
        slack = exact.scaleb(Decimal(5), places - 1)
        low, high = exact.subtract(value, slack), exact.add(value, slack)
        at = bisect.bisect_left(self.numbers, low)
        return at < len(self.numbers) and self.numbers[at] <= high


def sources(question: str, calls: list[CallResult], *, names: Iterable[str] = ()) -> Sources:
    """The numbers an answer to ``question`` may state: the sentence's (digits, and number
    words such as "twelve"), and each call's name, arguments, result and error (an error
    message is what a failed call returned). ``names`` are more identifiers the answer may
    name (the tools it offers instead)."""
    words = [Decimal(repr(abs(m.value))) for m in number_mentions(question)
             if math.isfinite(m.value)]
    return Sources.of(question, *names, *(
        (c.name, c.arguments, c.result, c.error) for c in calls
    )) | Sources(words)


def ungrounded(text: str, known: Sources) -> list[str]:
    """The numbers written in ``text`` that no source in ``known`` explains, as written."""
    return [shown for shown, _ in written(text) if not known.explains(shown)]


def grounded(text: str, known: Sources) -> bool:
    """Whether every number written in ``text`` is explained by ``known``."""
    return not ungrounded(text, known)


def stated(text: str, value: Decimal) -> bool:
    """Whether ``text`` writes ``value``, exactly or rounded ("132" states 131.9499)."""
    one = Sources([value.copy_abs()])
    return any(one.explains(shown) for shown, _ in written(text))


def single_value(result: Any) -> Decimal | None:
    """The one number a result holds, if it holds exactly one: a number, a string with one
    number in it ("161.5 JPY"), or a structure with one numeric leaf once an HTTP envelope's
    status code is set aside (``{"status": 200, "body": {"rate": 161.5}}`` -> 161.5). Keys
    do not count."""
    leaves = list(_leaves(payload(result)))
    return leaves[0] if len(leaves) == 1 else None


def payload(result: Any) -> Any:
    """An HTTP tool's ``body`` without its envelope (``{"status": 200, "body": ...}``); any
    other result as it is."""
    if (isinstance(result, dict) and "body" in result and set(result) <= _ENVELOPE
            and isinstance(result.get("status"), int)):
        return result["body"]
    return result


def _leaves(value: Any) -> Iterator[Decimal]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, str):
        yield from (number for _, number in written(value))
    elif isinstance(value, int) and not isinstance(value, bool):
        yield Decimal(value).copy_abs()
    elif isinstance(value, float) and math.isfinite(value):
        yield Decimal(repr(value)).copy_abs()


def unstated(text: str, calls: list[CallResult]) -> list[str]:
    """The single values of the ``ok`` calls' results (``single_value``) that ``text`` does
    not state: a sentence about such a result must give its number."""
    missing: list[str] = []
    for call in calls:
        value = single_value(call.result) if call.status == "ok" else None
        if value is not None and not stated(text, value):
            missing.append(str(value))
    return missing
