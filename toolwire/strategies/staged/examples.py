"""The example values a parameter's description gives ("the source currency, e.g. USD"), and
whether the sentence names something of that kind, by meaning.

    example_of({"description": "The source currency to convert from, e.g. USD"})    # "USD"
    names_the_kind(read("exchange 42 US dollars to Canadian dollars"), "USD")      # True

"US dollars" is not the word "currency", yet it is plainly a value like "USD": the shipped
sentence-embedding model (the retriever's) compares each short phrase of the sentence with the
example. An example that is a code ("USD", "EUR", "NYC") also tells how the value is written,
so the model writes a code of that shape (``code_grammar``), not the user's words.
"""

from __future__ import annotations

import re
import threading
from typing import Any

import numpy as np

from toolwire.text import lexicon
from toolwire.text.reading import CodeSystem, Reading, code_table

EXAMPLE_SIMILARITY = 0.5
"""Cosine similarity of a sentence phrase and the description's example above which the
sentence names a value of that kind. Measured on BFCL's tuning split (the optional parameters
of simple, multiple, parallel, live_simple and live_multiple, embeddings only): at 0.5 the
rule adds about as many right parameters as wrong ones there (of 756, +7 right and +8 wrong:
accuracy 0.696 -> 0.694; 52 have an example), while "US dollars" vs "USD" is 0.85 and "US
dollars" vs "EUR" 0.31. Below 0.5 it adds more wrong than right."""

_EXAMPLE = re.compile(
    "(?:" + "|".join(re.escape(m) for m in lexicon.EXAMPLE_MARKERS) + r")[:,]?\s*['\"`]?([^,;'\"`)]+)",
    re.IGNORECASE,
)
_CODE = re.compile(r"^[A-Z]{2,5}$")
_MAX_PHRASE_WORDS = 3
_lock = threading.Lock()


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


def names_a_place(reading: Reading, example: str) -> bool:
    """When the example is a place ("Tokyo", "Paris, France"), whether the sentence names one
    (``Reading.places``: "New York", "Japan")."""
    from toolwire.text.places import gazetteer

    return gazetteer().lookup(example) is not None and bool(reading.places)


def code_grammar(length: int) -> str:
    """GBNF for a JSON string of ``length`` capital letters."""
    letters = " ".join(["[A-Z]"] * length)
    return f'root ::= "\\"" {letters} "\\""'


def phrases(reading: Reading) -> list[str]:
    """The sentence's runs of one to three words that neither start nor end on a stop word."""
    words = reading.words
    found: dict[str, None] = {}
    for size in range(1, _MAX_PHRASE_WORDS + 1):
        for start in range(len(words) - size + 1):
            run = words[start : start + size]
            if run[0].lower() in lexicon.STOP_WORDS or run[-1].lower() in lexicon.STOP_WORDS:
                continue
            found[" ".join(run)] = None
    return list(found)


def names_the_kind(reading: Reading, example: str) -> bool:
    """Whether a phrase of the sentence is close in meaning to ``example``."""
    candidates = phrases(reading)
    if not candidates:
        return False
    vectors = _vectors((example, *candidates))
    return bool(np.max(vectors[1:] @ vectors[0]) >= EXAMPLE_SIMILARITY)


_CACHE_SIZE = 8192
_cache: dict[str, Any] = {}


def _vectors(texts: tuple[str, ...]) -> Any:
    """Unit vectors of ``texts``; phrases seen before are not embedded again."""
    from toolwire.retrieval.embeddings import default_embedder

    with _lock:
        new = [t for t in dict.fromkeys(texts) if t not in _cache]
        if new:
            if len(_cache) + len(new) > _CACHE_SIZE:
                _cache.clear()
            _cache.update(zip(new, default_embedder().encode(new), strict=True))
        return np.stack([_cache[t] for t in texts])
