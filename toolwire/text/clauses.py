"""The clauses of a sentence: the one splitter retrieval and the staged strategy share.

    split("weather in Paris and London")   # [Clause("", "weather in Paris", 0), Clause("and", "London", 20)]

A sentence is cut at the words that join one request to the next (``lexicon.CLAUSE_LINKS``:
"and", "and then", "also", "as well as", ...), at commas, semicolons and line breaks, and where
a sentence ends after a word and the next begins with a letter ("... in Paris. What about
..."; not in "3.5").
"""

from __future__ import annotations

import re
from typing import NamedTuple

from toolwire.text.lexicon import CLAUSE_LINKS

_LINKS = "|".join(r"\s+".join(map(re.escape, link.split())) for link in CLAUSE_LINKS)
_SPLIT = re.compile(
    rf"(?:\s*,\s*|\s+)(?:{_LINKS})\s+|\s*;\s*|\s*,\s+|\s*\n+\s*|(?<=[^\W_])[.?!]+\s+(?=[^\W\d_])",
    re.IGNORECASE,
)


class Clause(NamedTuple):
    """A clause of a sentence."""

    separator: str
    """What was written before it, spaces stripped ("and", ",", ", and"; "" for the first)."""
    text: str
    start: int
    """Where it starts in the sentence."""


def split(sentence: str) -> list[Clause]:
    """The clauses of ``sentence`` in order (blank ones dropped); one clause when nothing
    joins two."""
    out: list[Clause] = []
    separator, position = "", 0
    for m in [*_SPLIT.finditer(sentence), None]:
        end = m.start() if m else len(sentence)
        text = sentence[position:end]
        if text.strip():
            lead = len(text) - len(text.lstrip())
            out.append(Clause(separator=separator, text=text.strip(), start=position + lead))
        if m is not None:
            separator, position = m.group().strip(), m.end()
    return out
