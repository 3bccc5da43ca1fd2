"""Word splitting shared by keyword search and tool documents.

Identifiers are split into words (``get_currentWeather.v2`` → ``get current weather v2``), text is
lower-cased, stop words dropped and a light suffix stemmer folds plurals and verb forms together
(``converts``, ``converted``, ``converting`` → ``convert``), so a question and a tool description
meet on the same terms.
"""

from __future__ import annotations

import re

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*|[0-9]+")

_STOP_WORDS_TEXT = """a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its itself
just me more most my myself no nor not now of off on once only or other our ours ourselves out
over own please same she should so some such than that the their theirs them themselves then
there these they this those through to too under until up very was we were what when where
which while who whom why will with would you your yours yourself yourselves also given using
use used want wants need needs like let lets tell show find get"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
"""Words too common to tell tools apart (question words and politeness included)."""


def split_identifier(name: str) -> list[str]:
    """Words of an identifier: snake_case, camelCase, dotted and dashed names, lower-cased."""
    return [w.lower() for w in _WORD.findall(_CAMEL.sub(" ", name))]


def words(text: str) -> list[str]:
    """Lower-cased words of free text, identifiers inside it split too."""
    return split_identifier(text)


def stem(word: str) -> str:
    """A light suffix stemmer: plurals, ``-ing``/``-ed`` and a final ``e`` (enough for tool text).

    Not linguistics, only consistency: ``create``, ``creates``, ``created`` and ``creating`` all
    become ``creat``; ``box``/``boxes`` → ``box``; ``city``/``cities`` → ``city``.
    """
    if len(word) <= 3 or not word.isalpha():
        return word
    word = _strip_plural(word)
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]
            break
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    return word


def _strip_plural(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("es") and word[:-2].endswith(("x", "ch", "sh", "ss", "z")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def terms(text: str) -> list[str]:
    """Search terms of ``text``: words without stop words, stemmed."""
    return [stem(w) for w in words(text) if w not in STOP_WORDS]
