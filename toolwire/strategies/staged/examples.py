"""The example values a parameter's description gives ("the source currency, e.g. USD"), and
whether the sentence names something of that kind, by meaning.

    example_of({"description": "The source currency to convert from, e.g. USD"})  # "USD"
    names_the_kind("exchange 42 US dollars to Canadian dollars", "USD")          # True

"US dollars" is not the word "currency", yet it is plainly a value like "USD": the shipped
sentence-embedding model (the retriever's) compares each short phrase of the sentence with the
example. An example that is a code ("USD", "EUR", "NYC") also tells how the value is written,
so the model writes a code of that shape (``code_grammar``), not the user's words.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any

import numpy as np

from toolwire.text import words as lexicon

EXAMPLE_SIMILARITY = 0.5
"""Cosine similarity of a sentence phrase and the description's example above which the
sentence names a value of that kind. Measured on BFCL's tuning split (the optional parameters
of simple, multiple, parallel, live_simple and live_multiple, embeddings only): at 0.5 the
rule adds about as many right parameters as wrong ones there (of 756, +7 right and +8 wrong:
accuracy 0.696 -> 0.694; 52 have an example), while "US dollars" vs "USD" is 0.85 and "US
dollars" vs "EUR" 0.31. Below 0.5 it adds more wrong than right."""

_EXAMPLE = re.compile(
    r"(?:e\.g\.|eg\.|for example|such as|for instance)[:,]?\s*['\"`]?([^,;'\"`)]+)", re.IGNORECASE
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


@lru_cache(maxsize=1)
def _code_systems() -> tuple[dict[str, list[str]], ...]:
    """ISO 4217 currencies and ISO 3166 regions with their English names (CLDR data from
    ``babel``): code -> names, the plural too ("USD" -> "US Dollar", "US dollars")."""
    from babel import Locale
    from babel.numbers import get_currency_name

    english = Locale("en")
    currencies = {code: list(dict.fromkeys([
        name, get_currency_name(code, count=1, locale=english),
        get_currency_name(code, count=2, locale=english),
    ])) for code, name in english.currencies.items()}
    regions = {code: [name] for code, name in english.territories.items() if code.isalpha()}
    return currencies, regions


def code_names(example: str | None) -> dict[str, list[str]] | None:
    """The names of every code of the system the example belongs to (``"USD"``: all currency
    codes with their names), or ``None`` when it is no code of a known system."""
    if not code_shape(example):
        return None
    return next((system for system in _code_systems() if example in system), None)


@lru_cache(maxsize=4)
def _stemmed_names(system_index: int) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(code, name, tuple(lexicon.stem(w) for w in lexicon.words(name)))
            for code, names in _code_systems()[system_index].items() for name in names]


def named_codes(question: str, example: str | None) -> dict[str, str]:
    """The codes of the example's system that ``question`` names, by name ("Canadian dollars"
    -> CAD, plurals folded) or as the code itself in capitals ("CAD"), in the order written:
    code -> the name used for it."""
    system = code_names(example)
    if system is None:
        return {}
    index = next(i for i, s in enumerate(_code_systems()) if s is system)
    hay = [lexicon.stem(w) for w in lexicon.words(question)]
    found: dict[str, tuple[int, str]] = {}
    for code, name, needle in _stemmed_names(index):
        for i in range(len(hay) - len(needle) + 1):
            if needle and tuple(hay[i : i + len(needle)]) == needle:
                if code not in found or i < found[code][0]:
                    found[code] = (i, name)
                break
    for match in re.finditer(r"\b[A-Z]{2,3}\b", question):
        if match.group() in system and match.group() not in found:
            found[match.group()] = (len(lexicon.words(question[: match.start()])), match.group())
    return {code: name for code, (_, name) in sorted(found.items(), key=lambda kv: kv[1][0])}


_CAPITALISED = re.compile(r"[A-Z][\w'.-]*(?:\s+[A-Z][\w'.-]*){0,2}")


def names_a_place(question: str, example: str) -> bool:
    """When the example is a place ("Tokyo", "Paris, France"), whether the sentence names one:
    a capitalised run of one to three words that the gazetteer knows ("New York", "Japan");
    a sentence-initial stop word ("What") is left out."""
    from toolwire.text.places import gazetteer, is_place

    if gazetteer().lookup(example) is None:
        return False
    for match in _CAPITALISED.finditer(question):
        run = match.group().rstrip(".")
        words = run.split()
        if match.start() == 0 and words[0].lower() in lexicon.STOP_WORDS:
            words = words[1:]
        for size in range(len(words), 0, -1):
            for start in range(len(words) - size + 1):
                if is_place(" ".join(words[start : start + size])):
                    return True
    return False


def code_grammar(length: int) -> str:
    """GBNF for a JSON string of ``length`` capital letters."""
    letters = " ".join(["[A-Z]"] * length)
    return f'root ::= "\\"" {letters} "\\""'


def phrases(question: str) -> list[str]:
    """The sentence's runs of one to three words that neither start nor end on a stop word."""
    words = lexicon.words(question)
    found: dict[str, None] = {}
    for size in range(1, _MAX_PHRASE_WORDS + 1):
        for start in range(len(words) - size + 1):
            run = words[start : start + size]
            if run[0].lower() in lexicon.STOP_WORDS or run[-1].lower() in lexicon.STOP_WORDS:
                continue
            found[" ".join(run)] = None
    return list(found)


def names_the_kind(question: str, example: str) -> bool:
    """Whether a phrase of ``question`` is close in meaning to ``example``."""
    candidates = phrases(question)
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
