"""The example values a parameter's description gives ("the source currency, e.g. USD"), and
the codes of the example's code system a sentence names.

    example_of({"description": "The source currency to convert from, e.g. USD"})    # "USD"
    named_codes(read("convert 42 Canadian dollars"), "USD")                   # {"CAD": ...}

An example that is a code ("USD", "EUR") tells how a value is written: the conversion rule
(``settled.py``) reads the two sides of a conversion through it.
"""

from __future__ import annotations

import re
from typing import Any

from toolwire.text import lexicon
from toolwire.text.reading import CodeSystem, Reading, code_table

_EXAMPLE = re.compile(
    "(?:" + "|".join(re.escape(m) for m in lexicon.EXAMPLE_MARKERS) + r")[:,]?\s*['\"`]?([^,;'\"`)]+)",
    re.IGNORECASE,
)
_CODE = re.compile(r"^[A-Z]{2,5}$")


def example_of(schema: dict[str, Any]) -> str | None:
    """The first example value the description gives, if any."""
    found = _EXAMPLE.search(str(schema.get("description", "")))
    if found is None:
        return None
    first = re.split(r"\s+(?:or|and)\s+", found.group(1).strip(), maxsplit=1)[0]
    example = first.rstrip(".").strip()  # "Tokyo or America/New_York": Tokyo
    return example or None


def code_shape(example: str | None) -> int | None:
    """The length of a code-like example ("USD" -> 3), else ``None``."""
    return len(example) if example and _CODE.match(example) else None


def code_names(example: str | None) -> CodeSystem | None:
    """The code system the example belongs to (``"USD"``: the currencies), or ``None`` when it
    is no code of a known system."""
    if not code_shape(example):
        return None
    systems: tuple[CodeSystem, ...] = ("currencies", "regions")
    return next((system for system in systems if example in code_table(system)), None)


def named_codes(reading: Reading, example: str | None) -> dict[str, str]:
    """The codes of the example's system that the sentence names, by name ("Canadian dollars"
    -> CAD, plurals folded) or as the code itself in capitals ("CAD"), in the order written:
    code -> the name used for it."""
    system = code_names(example)
    return {} if system is None else reading.codes(system)
