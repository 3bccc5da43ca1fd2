"""Words, identifiers and stems: the one tokenizer shared by keyword search and the staged strategy.

Two views of a text, on purpose:

- **surface words** (:func:`words`, :func:`word_spans`): letters and digits of any script, case
  kept, inner apostrophes and dots kept ("Käärijä", "it's", "3.5"): what the staged filler may
  copy out of a sentence;
- **terms** (:func:`terms`): surface words with identifiers split, lower-cased, stop words dropped
  and stemmed, so a question and a tool description meet on the same terms (keyword search).

Identifiers are split one way everywhere (:func:`split_identifier`), and there is one stemmer
(:func:`stem`). The stop words :func:`terms` drops are ``lexicon.STOP_WORDS``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from toolwire.text.lexicon import STOP_WORDS

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_IDENTIFIER_PART = re.compile(r"[^\W_]+")
# letters and digits of any script, with inner apostrophes, ampersands, dots, slashes and dashes
_SURFACE = re.compile(r"[^\W_][\w'&./-]*[^\W_]|[^\W_]")

def words(text: str) -> list[str]:
    """The surface words of ``text``, punctuation dropped, case kept."""
    return _SURFACE.findall(text)


def word_spans(text: str) -> list[re.Match[str]]:
    """The surface words of ``text`` with where they stand."""
    return list(_SURFACE.finditer(text))


def split_identifier(name: str) -> list[str]:
    """Lower-cased words of an identifier: ``get_weatherForecast.v2`` → get weather forecast v2."""
    return [w.lower() for w in _IDENTIFIER_PART.findall(_CAMEL.sub(" ", name))]


@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """A light suffix stemmer, lower case: plurals, ``-ing``/``-ed`` and a final ``e``.

    Not linguistics, only consistency: ``create``, ``creates``, ``created`` and ``creating`` all
    become ``creat``; ``box``/``boxes`` → ``box``; ``city``/``cities`` → ``city``.
    """
    word = word.lower()
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


def stems(text: str) -> set[str]:
    """The stems of the surface words of ``text``."""
    return {stem(w) for w in words(text)}


def terms(text: str) -> list[str]:
    """Search terms of ``text``: identifiers split, stop words dropped, stemmed."""
    return [stem(w) for w in split_identifier(text) if w not in STOP_WORDS]
