"""The arithmetic a sentence asks for, as a calculator expression: ``expression("what is twelve
times seven")`` is ``"12 * 7"``.

People write sums with symbols (``12 * 7``, ``2^10``, ``3 x 4``) and with words ("plus",
"divided by", "to the power of", "square root of", "15 percent of 80", "subtract 5 from 20",
"the sum of 3 and 4"); numbers with digits or words ("three hundred and forty-five"). The
reading is built from what the sentence writes and nothing else: every number of the
expression is one the sentence holds, and a sentence with no operator between two numbers (a
date, "60 mph in km/h", "3/4 cup") holds no arithmetic.

Operators come out as the calculator writes them (``+ - * / ^ %``, ``sqrt(...)``); a reading is
returned only when its tokens form a well-built expression with at least one operation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from toolwire.text.lexicon import (
    CARDINALS,
    FRACTIONS,
    PERCENT_WORDS,
    POWER_NOUNS,
    RATE_WORDS,
    SCALES,
    SHARE_PREPOSITIONS,
    SHARE_VERBS,
    TENS,
)

# -- numbers written as words (lexicon.CARDINALS, TENS, SCALES) --------------------------------
_NUMBER_WORD = re.compile(
    r"\b(?:(?:a|" + "|".join([*CARDINALS, *TENS]) + r")(?:[\s-]+(?:and\s+)?(?:"
    + "|".join([*CARDINALS, *TENS, *SCALES]) + r"))*|" + "|".join(SCALES) + r")\b",
    re.IGNORECASE,
)


def words_to_digits(text: str) -> str:
    """``text`` with numbers written as words replaced by digits ("three hundred and forty-five"
    -> "345", "a dozen" is left alone); other words unchanged."""
    return _NUMBER_WORD.sub(_as_digits, text)


def _as_digits(match: re.Match[str]) -> str:
    parts = [p for p in re.split(r"[\s-]+", match.group().lower()) if p != "and"]
    if parts == ["a"] or (parts[0] == "a" and parts[1] not in SCALES):
        return match.group()
    total, current = 0, 0
    for part in parts:
        if part == "a":
            current = 1
        elif part in CARDINALS:
            current += CARDINALS[part]
        elif part in TENS:
            current += TENS[part]
        elif part == "hundred":
            current = max(current, 1) * 100
        else:
            total += max(current, 1) * SCALES[part]
            current = 0
    return str(total + current)


# -- the tokens of a sum ---------------------------------------------------------------------
_NUM = r"\d+(?:,\d{3})*(?:\.\d+)?|\.\d+"
_PHRASES: tuple[tuple[str, str], ...] = (
    # (pattern, token): longer phrases first; "OP:x" binary, "PRE:f" a function of what
    # follows, "POST:x" applies to what precedes
    (r"raised\s+to\s+the\s+power\s+of|to\s+the\s+power\s+of|to\s+the\s+power"
     r"|raised\s+to\s+the\s+(?=\d)|raised\s+to|to\s+the\s+(?=\d)|\*\*|\^", "OP:^"),
    (r"multiplied\s+by|times|\*|×|(?<=\d)\s*x\s*(?=\d)|(?<=\d\s)x(?=\s)", "OP:*"),
    (r"divided\s+by|divide\s+by|over|/|÷", "OP:/"),
    (r"plus|added\s+to|\+", "OP:+"),
    (r"minus|take\s+away|less|−|-", "OP:-"),
    (r"modulo|mod", "OP:%"),
    (r"percent\s+of|per\s*cent\s+of|%\s*of", "OP:pct"),
    (r"square\s+root\s+of|square\s+root|sqrt\s+of|sqrt|√", "PRE:sqrt"),
    (r"cube\s+root\s+of|cube\s+root", "PRE:cbrt"),
    (r"factorial\s+of|factorial", "PRE:factorial"),
    (r"log(?:arithm)?\s+of", "PRE:log10"),
    (r"natural\s+log(?:arithm)?\s+of|ln\s+of|ln", "PRE:log"),
    (r"absolute\s+value\s+of", "PRE:abs"),
    (r"squared", "POST:^2"),
    (r"cubed", "POST:^3"),
    (r"\(", "("),
    (r"\)", ")"),
)
_TOKEN = re.compile(
    r"(?P<num>" + _NUM + r")|" + "|".join(
        f"(?P<t{i}>{pattern})" for i, (pattern, _token) in enumerate(_PHRASES)
    ) + r"|(?P<word>[^\W\d_]+|\S)",
    re.IGNORECASE,
)
_DATE_LIKE = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|\d{1,2}:\d{2}")
_FRACTION_OF_UNIT = re.compile(r"^\s*\d+\s*/\s*\d+\s+[^\W\d_]", re.IGNORECASE)


@dataclass(frozen=True)
class _Token:
    kind: str
    """``num``, ``OP:x``, ``PRE:f``, ``POST:x``, ``(``, ``)`` or ``word``."""
    text: str


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    for m in _TOKEN.finditer(text):
        if m.group("num") is not None:
            out.append(_Token("num", m.group("num").replace(",", "")))
            continue
        for i, (_pattern, token) in enumerate(_PHRASES):
            if m.group(f"t{i}") is not None:
                out.append(_Token(token, m.group()))
                break
        else:
            out.append(_Token("word", m.group().lower()))
    return out


# -- sentences built around a verb: "subtract 5 from 20", "the sum of 3 and 4" -----------------
_N = r"(-?(?:" + _NUM + r"))"
_VERB_FORMS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), template) for pattern, template in (
        (rf"\bsubtract\s+{_N}\s+from\s+{_N}", "{1} - {0}"),
        (rf"\btake\s+{_N}\s+(?:away\s+)?from\s+{_N}", "{1} - {0}"),
        (rf"\bsubtract\s+{_N}\s+(?:and|minus)\s+{_N}", "{0} - {1}"),
        (rf"\badd\s+{_N}\s+(?:and|to|plus|with)\s+{_N}", "{0} + {1}"),
        (rf"\bmultiply\s+{_N}\s+(?:by|and|with|times)\s+{_N}", "{0} * {1}"),
        (rf"\bdivide\s+{_N}\s+(?:by|over)\s+{_N}", "{0} / {1}"),
        (rf"\bdivide\s+{_N}\s+into\s+{_N}", "{1} / {0}"),
        (rf"\bdifference\s+(?:between|of)\s+{_N}\s+and\s+{_N}", "{0} - {1}"),
        (rf"\bquotient\s+of\s+{_N}\s+and\s+{_N}", "{0} / {1}"),
        (rf"\b{_N}\s+(?:more|greater)\s+than\s+{_N}", "{1} + {0}"),
        (rf"\b{_N}\s+(?:fewer|less)\s+than\s+{_N}", "{1} - {0}"),
    )
)
_LIST = rf"{_N}((?:\s*,\s*{_N})*)\s*,?\s+and\s+{_N}"
_AGGREGATES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"\b(?:sum|total)\s+of\s+{_LIST}", re.IGNORECASE), "+"),
    (re.compile(rf"\bproduct\s+of\s+{_LIST}", re.IGNORECASE), "*"),
    (re.compile(rf"\b(?:average|mean)\s+of\s+{_LIST}", re.IGNORECASE), "mean"),
    (re.compile(rf"\badd\s+(?:up\s+)?{_LIST}", re.IGNORECASE), "+"),
)


def _any(words: Iterable[str]) -> str:
    """A pattern matching any of ``words``, longest first."""
    return "(?:" + "|".join(sorted(map(re.escape, words), key=len, reverse=True)) + ")"


_AMOUNT = rf"[$€£¥]?\s?{_N}"
"""A number, maybe after a currency sign ("$186")."""
_FRACTION = re.compile(
    rf"\b(?:(?P<count>a|an|\d+)\s+)?(?P<part>{_any(FRACTIONS)})\s+of\s+(?:the\s+)?{_AMOUNT}",
    re.IGNORECASE,
)
_POWER = re.compile(rf"\b(?P<power>{_any(POWER_NOUNS)})\s+of\s+{_AMOUNT}", re.IGNORECASE)
_SHARE = re.compile(
    # "split a bill of 186 dollars among 6 people": the amount and how many share it
    rf"\b{_any(SHARE_VERBS)}\s+(?:[^\W\d_]+\s+){{0,4}}?{_AMOUNT}(?:\s+[^\W\d_]+){{0,2}}?"
    rf"\s+{_any(SHARE_PREPOSITIONS)}\s+{_N}"
    # "186 dollars split among 6"
    rf"|{_AMOUNT}(?:\s+[^\W\d_]+){{0,2}}?\s+{_any(SHARE_VERBS)}\s+(?:[^\W\d_]+\s+)?"
    rf"{_any(SHARE_PREPOSITIONS)}\s+{_N}",
    re.IGNORECASE,
)
_RATE = re.compile(
    # "350 a month ... after 18 months", "60 miles per hour for 3 hours": a rate and a count of
    # its unit, within one sentence
    rf"{_AMOUNT}\s*(?:(?!(?:and|or|but)\b)[^\W\d_]+\s+){{0,2}}?{_any(RATE_WORDS)}\s+(?P<unit>[^\W\d_]{{2,}})\b"
    rf"[^.?!;]*?\b{_N}\s+(?P=unit)(?:s|es)?\b",
    re.IGNORECASE,
)


def _word_problem(text: str) -> str | None:
    """The arithmetic of a sentence that says it in words rather than operators: a fraction
    of a number ("a third of 270", "two thirds of 90", "half of 50"), a power by its noun
    ("the cube of 9"), a quantity shared out ("split 186 dollars among 6 people") and a rate
    times a count of its unit ("350 a month ... after 18 months")."""
    m = _FRACTION.search(text)
    if m is not None and (m.group("count") or m.group("part").lower().startswith("half")):
        count = m.group("count") or "1"
        whole = m.group(3).replace(",", "")
        denominator = FRACTIONS[m.group("part").lower()]
        if count.lower() in ("a", "an", "1"):
            return f"{whole} / {denominator}"
        return f"{whole} * {count} / {denominator}"
    m = _POWER.search(text)
    if m is not None:
        return f"{m.group(2).replace(',', '')} ^ {POWER_NOUNS[m.group('power').lower()]}"
    m = _SHARE.search(text)
    if m is not None:
        groups = [g for g in m.groups() if g is not None]
        return f"{groups[0].replace(',', '')} / {groups[1].replace(',', '')}"
    m = _RATE.search(text)
    if m is not None:
        return f"{m.group(1).replace(',', '')} * {m.group(3).replace(',', '')}"
    return None


def _verb_form(text: str) -> str | None:
    worded = _word_problem(text)
    if worded is not None:
        return worded
    for pattern, template in _VERB_FORMS:
        m = pattern.search(text)
        if m:
            return template.format(*(g.replace(",", "") for g in m.groups()))
    for pattern, how in _AGGREGATES:
        m = pattern.search(text)
        if m:
            middle = re.findall(_NUM, m.group(2) or "")
            items = [m.group(1), *middle, m.group(m.lastindex or 1)]
            items = [i.replace(",", "") for i in items]
            if how == "mean":
                return f"({' + '.join(items)}) / {len(items)}"
            return f" {how} ".join(items)
    return None


# -- infix sums: "12 * 7", "345 plus 678", "2 to the power of 10" -----------------------------
MAX_TOKENS = 250
"""Tokens of one expression at most: every token is written as one character or more and a
space, so a longer one is past any calculator's length (``calculate`` takes 500 characters).
The bound keeps reading a long sentence linear: each start scans this far at most."""


class _TooLong(Exception):
    """A run of arithmetic past ``MAX_TOKENS``."""


def _infix(tokens: list[_Token]) -> str | None:
    """The longest well-built run of ``tokens`` with at least one operation, as text;
    ``None`` also when a run is longer than ``MAX_TOKENS`` (no calculator takes it)."""
    best: list[str] = []
    try:
        for start in range(len(tokens)):
            run = _longest_from(tokens, start)
            if len(run) > len(best):
                best = run
    except _TooLong:
        return None
    return " ".join(best) if best else None


def _longest_from(tokens: list[_Token], start: int) -> list[str]:
    """The longest expression starting at ``start`` that ends well and holds an operation."""
    out: list[str] = []
    best = 0
    depth, expect_operand, operations = 0, True, 0
    function: str | None = None
    sign = ""
    for scanned, token in enumerate(tokens[start:]):
        if scanned == MAX_TOKENS:
            raise _TooLong
        kind = token.kind
        if expect_operand:
            if kind == "num":
                number = sign + token.text
                out.append(f"{function}({number})" if function else number)
                function, sign, expect_operand = None, "", False
            elif kind.startswith("PRE:") and function is None:
                function = kind[4:]
                operations += 1
            elif kind == "(" and function is None:
                out.append("(")
                depth += 1
            elif kind == "OP:-" and not sign:
                sign = "-"
            else:
                break
        elif kind.startswith("OP:"):
            out.extend(["/", "100", "*"] if kind == "OP:pct" else [kind[3:]])
            operations += 1
            expect_operand = True
        elif kind.startswith("POST:"):
            out.extend(["^", kind[-1]])
            operations += 1
        elif kind == ")" and depth > 0:
            out.append(")")
            depth -= 1
        elif kind == "word" and token.text in PERCENT_WORDS:
            out.extend(["/", "100"])
        else:
            break
        if not expect_operand and operations and depth == 0:
            best = len(out)
    return out[:best]


def expression(sentence: str) -> str | None:
    """The arithmetic ``sentence`` asks for, as a calculator expression, or ``None``."""
    text = words_to_digits(sentence)
    if _DATE_LIKE.search(text):
        return None
    verb = _verb_form(text)
    if verb is not None:
        return _tidy(verb)
    if _FRACTION_OF_UNIT.search(_strip_lead(text)):
        return None  # "3/4 cup to ml": a quantity, not a sum
    infix = _infix(_tokens(text))
    if infix is None:
        return None
    return _tidy(_cube(infix))


def _strip_lead(text: str) -> str:
    """``text`` from its first digit on."""
    m = re.search(r"\d", text)
    return text[m.start():] if m else ""


def _cube(text: str) -> str:
    """``cbrt(8)`` as ``8 ^ (1/3)`` (the calculator has no cube root)."""
    return re.sub(r"cbrt\(([^()]*)\)", r"(\1) ^ (1/3)", text)


def _tidy(text: str) -> str:
    text = re.sub(r"\(\s+", "(", text)
    text = re.sub(r"\s+\)", ")", text)
    return " ".join(text.split())
