"""Several calls from one sentence, found without asking the model (a sentence without them
costs nothing):

- **sets of numbers** (:func:`number_sets`): a sentence that writes a whole set of the
  function's numbers several times over ("a base of 12 and a height of 15 ... a base of 18 and
  a height of 24"), each set in words alike, is cut into one segment per set, each filled on
  its own;
- **different functions** (:func:`tool_segments`): clauses that name different functions ("the
  GCD of ... and the LCM of ...") become segments, each filled as its own calls.

(A third rule, later clauses with values of their own becoming more calls of the same function,
"weather in Paris and London", moved no question of BFCL's tuning split, 60 per category: it
was removed, see the README's ablation table.)
"""

from __future__ import annotations

import itertools
import re
from typing import Any, NamedTuple

from toolwire.strategies.staged.matching import name_share
from toolwire.text import mentions
from toolwire.text import words as lexicon
from toolwire.tools.registry import Tool

_CLAUSE_SPLIT = re.compile(
    r"\s*(,\s*and\s+|;\s*|,\s+|\s+and\s+|\s+also\s+|\s+then\s+|\s+as well as\s+|\s+plus\s+"
    r"|(?<=[a-z0-9])[.?!]\s+(?=[A-Z]))",
    re.IGNORECASE,
)
_MAX_CALLS = 8


class _Clause(NamedTuple):
    separator: str
    """What was written before it ("" for the first clause)."""
    text: str
    start: int
    """Where it starts in the sentence."""


def clauses(sentence: str) -> list[str]:
    """The sentence cut at coordinating words; a single clause when there are none."""
    return [c.text for c in _clauses(sentence)]


def _clauses(sentence: str) -> list[_Clause]:
    """The clauses of ``sentence`` (blank ones dropped), each with its separator and offset."""
    stripped = sentence.strip()
    lead = len(sentence) - len(sentence.lstrip())
    out: list[_Clause] = []
    separator, position = "", 0
    for m in [*_CLAUSE_SPLIT.finditer(stripped), None]:
        text = stripped[position : m.start() if m else len(stripped)]
        if text.strip():
            out.append(_Clause(separator=separator, text=text, start=lead + position))
        if m is not None:
            separator, position = m.group(1) or "", m.end()
    return out


_CONTEXT_WORDS = 3


def _required_numbers(tool: Tool) -> int:
    props: dict[str, Any] = tool.parameters.get("properties", {})
    return sum(
        1
        for name in tool.parameters.get("required", [])
        if isinstance(props.get(name), dict)
        and props[name].get("type") in ("number", "integer")
        and "enum" not in props[name]
    )


def _context(question: str, number: mentions.NumberMention) -> set[str]:
    """The words around a number (its unit, the name before it), numbers and fillers left out."""

    def content(text: str) -> list[str]:
        return [w for w in lexicon.words(text)
                if not mentions.numbers(w) and w.lower() not in lexicon.CORE_FUNCTION_WORDS]

    before = content(question[: number.start])[-_CONTEXT_WORDS:]
    after = content(question[number.start + len(number.text) :])[:_CONTEXT_WORDS]
    return {lexicon.stem(w) for w in before + after}


def number_sets(question: str, tool: Tool) -> list[str] | None:
    """The segments of ``question`` that each write one whole set of ``tool``'s numbers.

    ``None`` unless the sentence writes the required numbers at least twice over (2, 3...
    sets of the same size), each set starting a clause and written in words like the first
    ("weighs 85 kilograms and is 1.8 meters tall, and ... weighs 60 kilograms and is 1.65
    meters tall"). The numbers of a set are then read in order from its own segment.
    """
    size = _required_numbers(tool)
    found = mentions.numbers(question)
    if size and len(found) % size:  # "two side lengths: 3 and 4, 5 and 12": digits only
        found = [n for n in found if not n.text.isalpha()]
    if size == 0 or len(found) < 2 * size or len(found) % size:
        return None
    sets = [found[i : i + size] for i in range(0, len(found), size)]
    for later in sets[1:]:
        alike = sum(
            bool(_context(question, a) & _context(question, b))
            for a, b in zip(sets[0], later, strict=True)
        )
        if 2 * alike < size or (size == 1 and not alike):
            return None
    starts = [c.start for c in _clauses(question)]
    cuts = [0]
    for later in sets[1:]:
        cut = max((s for s in starts if s <= later[0].start), default=0)
        if cut <= cuts[-1]:
            return None
        cuts.append(cut)
    segments = [question[a:b] for a, b in itertools.pairwise([*cuts, len(question)])]
    if any(len([n for n in found if a <= n.start < b]) != size
           for a, b in itertools.pairwise([*cuts, len(question)])):
        return None
    return segments[:_MAX_CALLS]


_NAMED_SHARE = 0.5


def tool_segments(question: str, first: Tool, candidates: list[Tool]) -> list[tuple[Tool, str]]:
    """The sentence cut where a clause names another function: ``[(tool, segment), ...]``.

    "the GCD of 96 and 128, and the LCM of 15 and 25" -> ``[(gcd, "the GCD of 96 and 128, and
    "), (lcm, "the LCM of 15 and 25")]``. A clause names a tool when it writes at least half
    of the words of its name; clauses naming none stay with the segment before them; the
    first segment belongs to ``first`` (the tool chosen for the whole sentence) unless it
    names another. Fewer than two different tools: ``[]``.
    """
    owners: list[tuple[int, Tool]] = []
    for _sep, clause, start in _clauses(question):
        shares = {t.name: name_share(clause, t) for t in candidates}
        named = max(candidates, key=lambda t: shares[t.name])
        current = owners[-1][1] if owners else None
        if shares[named.name] >= _NAMED_SHARE and named is not current:
            if current is not None and shares.get(current.name, 0.0) >= shares[named.name]:
                continue  # the clause names the current tool as much: no new segment
            owners.append((start, named))
        elif not owners:
            owners.append((start, first))
    if len({t.name for _, t in owners}) < 2:
        return []
    owners[0] = (0, owners[0][1])
    bounds = [s for s, _ in owners] + [len(question)]
    return [(tool, question[a:b]) for (a, tool), b in zip(owners, bounds[1:], strict=True)]
