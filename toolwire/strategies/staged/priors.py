"""Where a value the sentence holds should go, as bonuses on the model's log-likelihood.

The staged filler lets the model choose among values the user wrote; these priors carry what
the sentence's wording says about each choice:

- a number goes to the parameter named right beside it ("net income of $2,000,000"), else in
  written order; "5%" reads as 0.05 for a rate (:func:`number_prior`, :func:`readings`);
- a quoted passage goes to the parameter named beside it (:func:`quote_prior`);
- source/target parameters follow "from"/"to" (:func:`direction_prior`);
- a date or time parameter gets the dates/times written, in the pattern it describes
  (:func:`written_moments`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from toolwire.text import lexicon, mentions
from toolwire.text.reading import Reading, Word
from toolwire.text.words import split_identifier, stem


def role_of(param: str) -> str | None:
    """``target`` (to_currency, destination), ``source`` (from_unit, origin), or ``None``."""
    parts = set(split_identifier(param))
    if parts & lexicon.TARGET_PARAM_WORDS:
        return "target"
    return "source" if parts & lexicon.SOURCE_PARAM_WORDS else None


def direction_prior(param: str, reading: Reading, position: int, rank: int) -> float:
    """A bonus for giving a source/target parameter the value the sentence marks as such.

    ``from_currency``/``to_currency``, ``origin``/``destination``: a value written right after
    "to"/"into"/"in" is a target, after "from" a source; otherwise the earlier-written value
    leans to the source (people say "X to Y" more than "Y from X").
    """
    role = role_of(param)
    if role is None:
        return 0.0
    near = [w for w in reading.spans[max(0, position - 2) : position]
            if not reading.holds_number(w)]
    before = {w.text.lower() for w in near[-1:]}
    marked = ("target" if before & lexicon.TO_WORDS
              else "source" if before & lexicon.FROM_WORDS else None)
    if marked is not None:
        return 6.0 if marked == role else -6.0
    return 1.0 if (rank == 0) == (role == "source") else 0.0


_NAME_WINDOW = 4
_AFTER_WINDOW = 2
_NAMED_AFTER_BONUS = 4.0
_QUOTED_BONUS = 2.0
_NAMED_BONUS = 6.0
_FIRST_BONUS = 3.0


_AS_FRACTION = re.compile(r"\b(" + "|".join(sorted(lexicon.FRACTION_WORDS))
                          + r"|0 ?(to|-) ?1|e\.g\. 0\.\d)", re.IGNORECASE)
_AS_PERCENT = re.compile(r"\b(" + "|".join(sorted(lexicon.PERCENTAGE_WORDS, key=len, reverse=True))
                         + ")", re.IGNORECASE)


_OWNER_GAP = 24
"""Characters between a parameter's word and a quote for the quote to be that parameter's."""


def quote_owners(
    reading: Reading, quotes: list[mentions.Quote], params: list[str]
) -> dict[int, str]:
    """Which parameter each quote stands beside, by the quote's start: every written word of a
    parameter's name claims its nearest quote (a few characters away at most). When several
    parameters claim one quote, the one with more of its words there wins ("reference
    sequence 'X'" is ``reference_sequence``'s, not ``sequence``'s), then the one those words
    name more wholly ("DNA sequence 'X'" is ``sequence``'s), then the closest."""
    if not quotes:
        return {}
    claims: dict[int, dict[str, tuple[set[str], int]]] = {}  # quote -> param -> (stems, gap)
    for param in params:
        stems = {stem(w) for w in split_identifier(param) if len(w) > 2}
        for word, word_stem in zip(reading.spans, reading.stems, strict=True):
            if word_stem not in stems:
                continue
            def gap_to(q: mentions.Quote, w: Word = word) -> int:
                return max(q.start - w.end, w.start - q.end, 0)

            q = min(quotes, key=gap_to)
            gap = gap_to(q)
            if gap <= _OWNER_GAP:
                found, closest = claims.setdefault(q.start, {}).get(param, (set(), gap))
                claims[q.start][param] = (found | {word_stem}, min(closest, gap))
    owners = {}
    for start, by_param in claims.items():
        owners[start] = max(by_param, key=lambda p: _claim_strength(p, *by_param[p]))
    return owners


def _claim_strength(param: str, found: set[str], gap: int) -> tuple[int, float, int]:
    """How strongly a parameter claims a quote: its name's words written there, the share of
    its name they are, and nearness."""
    named = {stem(w) for w in split_identifier(param) if len(w) > 2}
    return len(found), len(found) / len(named), -gap


def readings(
    n: mentions.NumberMention, integer: bool, schema: dict[str, Any], reading: Reading
) -> list[tuple[str, float]]:
    """The JSON literals a written number can stand for, with a bonus each: "5%" is 0.05 or 5
    (a description that says "decimal" or "percentage" tells which; else the fraction leans
    ahead, as rates usually are); other numbers are themselves."""
    if integer and not n.is_integer:
        return []
    literal = n.literal(integer)
    end = n.start + len(n.text)
    if integer or not reading.text[end : end + 2].lstrip().startswith("%"):
        return [(literal, 0.0)]
    description = str(schema.get("description", ""))
    fraction = repr(round(n.value / 100, 10))
    if _AS_FRACTION.search(description):
        lean = 2.0
    elif _AS_PERCENT.search(description):
        lean = -1.0
    else:  # rates are mostly given to functions as fractions
        lean = 3.0
    return [(fraction, lean), (literal, 0.0)]


def number_prior(
    reading: Reading, param: str, options: list[mentions.NumberMention]
) -> list[float]:
    """A bonus per candidate number for ``param``, added to the model's log-likelihood.

    A number written right after the parameter's own words belongs to it ("net income of
    $2,000,000" fills ``net_income``), or, a little less surely, right before them ("3
    bedrooms"); else numbers are given out in the order they were written, as parameters
    usually are (the earliest unused one leans to the next parameter).
    """
    parts = {
        stem(w) for w in split_identifier(param)
        if len(w) > 2 and w not in lexicon.GENERIC_NAME_WORDS
    }
    bonus = [0.0] * len(options)
    for i, n in enumerate(options):
        before = reading.before(n.start)[-_NAME_WINDOW:]
        after = reading.after(n.start + len(n.text))[:_AFTER_WINDOW]
        if parts & {stem(w.text) for w in before}:
            bonus[i] += _NAMED_BONUS
        elif parts & {stem(w.text) for w in after}:  # "3 bedrooms"
            bonus[i] += _NAMED_AFTER_BONUS
    if options:
        first = min(n.start for n in options)
        bonus = [b + (_FIRST_BONUS if n.start == first else 0.0)
                 for b, n in zip(bonus, options, strict=True)]
    return bonus


def written_moments(reading: Reading, name: str, schema: dict[str, Any]) -> list[str]:
    """The dates or times the sentence writes, in the pattern a date or time parameter wants
    ("April 25th 2023" -> "2023-04-25", "2 in the afternoon" -> "14:00"); empty for other
    parameters or when the sentence writes none."""
    schema = non_null(schema)
    if schema.get("type") not in ("string", None) or "enum" in schema:
        return []
    day = mentions.date_format(name, schema)
    if day is not None:
        return list(dict.fromkeys(d.render(day) for d in reading.dates))
    clock = mentions.time_format(name, schema)
    if clock is not None:
        return list(dict.fromkeys(t.render(clock) for t in reading.times))
    return []


def non_null(schema: dict[str, Any]) -> dict[str, Any]:
    """``anyOf: [X, null]`` (pydantic's Optional) seen as X."""
    options = schema.get("anyOf")
    if isinstance(options, list):
        rest = [s for s in options if isinstance(s, dict) and s.get("type") != "null"]
        if len(rest) == 1:
            return {**rest[0], **{k: v for k, v in schema.items() if k != "anyOf"}}
    return schema


def quote_prior(
    reading: Reading, quotes: list[mentions.Quote], name: str, params: list[str]
) -> dict[str, float]:
    """A bonus per quoted passage (as a JSON literal) for parameter ``name``: quotes mark
    values; the one beside the parameter's own words leans to it, one beside another
    parameter's words leans away ("the instrument 'Violin' from 'Stradivarius' maker")."""
    owners = quote_owners(reading, quotes, params)
    prior: dict[str, float] = {}
    for q in quotes:
        owner = owners.get(q.start)
        bonus = _QUOTED_BONUS
        if owner == name:
            bonus += _NAMED_BONUS
        elif owner is not None:
            bonus -= _NAMED_BONUS
        prior[json.dumps(q.text)] = bonus
    return prior
