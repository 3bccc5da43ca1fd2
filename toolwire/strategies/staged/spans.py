"""Grammars that let a model write only spans of the user's own words.

    span_grammar(read("British Pounds to Japanese Yen"), no_cross={"to"})

gives a GBNF grammar whose strings are JSON-quoted runs of consecutive words of the sentence,
separators kept as written, with rules on where a span may start, end and what it may not cross.
"""

from __future__ import annotations

import itertools
import json
import re

from toolwire.text import lexicon
from toolwire.text.reading import Reading
from toolwire.text.words import words

_GBNF_ESCAPE = re.compile(r'["\\\n\r\t]')


def _gbnf_literal(text: str) -> str:
    escaped = _GBNF_ESCAPE.sub(
        lambda m: {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(m.group(), "\\" + m.group()), text
    )
    return f'"{escaped}"'


def span_grammar(
    reading: Reading,
    *,
    exclude: str | None = None,
    no_start: set[str] | None = None,
    no_cross: set[str] | None = None,
) -> str | None:
    """A GBNF grammar whose strings are the JSON-quoted spans of consecutive words of the
    sentence.

    Separators between words are kept as written (``Paris, France``), minus quotes and escapes.
    A span may not start with a word of ``no_start`` (lower case) nor with the first word of
    ``exclude`` (a value that failed), unless that leaves no start at all; it never holds a
    word of ``no_cross`` ("to" in a source currency: "British pounds to yen" is two values),
    nor an "and" between a name and a lower-case word ("David Leitch and acted by ..."), and
    it does not end on a function word ("Portland, that's", "the weather in") unless it
    cannot go on to a better end.
    """
    matches = reading.spans
    if not matches:
        return None
    tokens = [json.dumps(m.text)[1:-1] for m in matches]
    seps = [
        re.sub(r'["\\\n\r\t]', " ", reading.text[a.end : b.start]) or " "
        for a, b in itertools.pairwise(matches)
    ]
    walls = {w.lower() for w in (no_cross or set())}
    lowered = reading.lowered
    inside = [w not in walls for w in lowered]
    for i in range(1, len(matches) - 1):  # "Leitch and acted by": a name ends, a clause starts
        before, after = matches[i - 1].text, matches[i + 1].text
        if lowered[i] in lexicon.COORDINATORS and before[:1].isupper() and after[:1].islower():
            inside[i] = False
    n = len(tokens)
    goes_on = [i < n - 1 and inside[i + 1] for i in range(n)]
    ends = [w not in lexicon.FUNCTION_WORDS for w in lowered]
    can_end = [False] * n  # a span from here can reach a proper last word
    for i in reversed(range(n)):
        can_end[i] = ends[i] or (goes_on[i] and can_end[i + 1])
    rules = []
    for i, tok in enumerate(tokens):
        more = goes_on[i] and can_end[i + 1]
        options = [_gbnf_literal(tok)] if ends[i] or not more else []
        if more:
            options.append(f"{_gbnf_literal(tok)} {_gbnf_literal(seps[i])} s{i + 1}")
        rules.append(f"s{i} ::= " + " | ".join(options))
    banned = {w.lower() for w in (no_start or set())} | walls
    if exclude:
        banned |= {w.lower() for w in words(exclude)[:1]}
    allowed = [i for i, w in enumerate(lowered) if w not in banned]
    starts = " | ".join(f"s{i}" for i in (allowed or range(len(tokens))))
    return "root ::= \"\\\"\" (" + starts + ") \"\\\"\"\n" + "\n".join(rules)
