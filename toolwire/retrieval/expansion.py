"""What retrieval adds to a tool's own text: requests written for it, and its verbs' synonyms.

Tool descriptions say what a tool does in the tool author's words ("Retrieves the current
weather conditions for a specified city"); people ask in theirs ("what's it like outside in
Riga?"). Two additions narrow that gap, both made from the schema alone, deterministically,
without a language model:

- :func:`synthetic_queries`: requests a person might write for the tool (Tool2Vec's idea: a
  tool is best found where the questions about it lie, not where its description lies). Its
  name as words, each of its first description sentences as an instruction ("Retrieves the
  weather..." becomes "retrieve the weather..."), and its name with its parameters' names.
  The index embeds them and keeps their mean as the tool's second vector, so a boilerplate
  opening shared by a whole API ("This tool belongs to the vehicle control system...") weighs
  one sentence among several instead of most of the text.
- :func:`expanded_terms`: the tool's BM25 terms plus the synonyms of its action verbs
  (:data:`ACTION_SYNONYMS`: a tool that "retrieves" is found by "fetch" and "look up"), each
  counted at ``weight`` of the verb's own count.

    synthetic_queries(tool)   # ['get current weather', 'retrieve the current weather ...', ...]
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from toolwire.text.words import split_identifier, stem

MAX_SENTENCES = 3
"""Description sentences that become requests (later ones tend to describe edge cases)."""
MAX_QUERY_CHARS = 300
"""A request longer than this is cut (the embedder reads 256 tokens at most)."""
MAX_PARAMETERS = 6
"""Parameter names written after the tool's name in the name-and-parameters request."""

ACTION_SYNONYMS: tuple[str, ...] = (
    "get fetch retrieve obtain lookup check view display",
    "create add make new generate register",
    "delete remove erase drop",
    "update edit modify change set adjust",
    "list enumerate browse",
    "search find query lookup discover locate",
    "send post dispatch deliver forward",
    "book reserve schedule",
    "buy purchase order",
    "calculate compute determine estimate",
    "convert transform translate",
    "cancel abort revoke",
    "start launch begin run execute",
    "stop halt end terminate",
    "move transfer relocate",
    "copy duplicate clone",
)
"""Verbs that API descriptions and people use for the same actions, one group a line. Generic
on purpose (what any API does to a thing: read, make, change, remove, send, book...), never
words of one benchmark; a word in two groups joins both."""

_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'])|\n\s*\n|\n\s*[-*•]\s+")
_MIN_SENTENCE_WORDS = 2


def _synonym_groups(lines: Iterable[str]) -> dict[str, frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for line in lines:
        stems = {stem(w) for w in line.split()}
        for s in stems:
            groups.setdefault(s, set()).update(stems)
    return {s: frozenset(g - {s}) for s, g in groups.items()}


SYNONYMS: Mapping[str, frozenset[str]] = _synonym_groups(ACTION_SYNONYMS)
"""A verb's stem → the stems of its synonyms (itself left out)."""


def parameters(schema: Any, depth: int = 0) -> Iterable[tuple[str, str, list[str]]]:
    """(name, description, enum values) of each property, nested objects' properties included."""
    props = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict) or depth > 2:
        return
    for name, sub in props.items():
        if not isinstance(sub, dict):
            continue
        enums = [str(v) for v in sub.get("enum") or [] if v is not None]
        yield str(name), str(sub.get("description") or ""), enums
        yield from parameters(sub, depth + 1)
        yield from parameters(sub.get("items"), depth + 1)


def sentences(text: str) -> list[str]:
    """The sentences and list items of a description (two words or more), whitespace folded,
    bullets and final stops dropped."""
    out = []
    for part in _SENTENCE_BREAK.split(text or ""):
        sentence = " ".join(part.split()).strip(" .:-*•")
        if len(sentence.split()) >= _MIN_SENTENCE_WORDS:
            out.append(sentence)
    return out


def imperative(sentence: str) -> str:
    """The sentence as an instruction when it opens with a third-person verb ("Retrieves
    the weather" → "retrieve the weather"); otherwise as it is."""
    head, _, rest = sentence.partition(" ")
    word = head.lower()
    if not head.isalpha() or len(word) < 4 or not rest:
        return sentence
    if word.endswith("ies"):
        verb = word[:-3] + "y"
    elif word.endswith(("ches", "shes", "sses", "xes")):
        verb = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        verb = word[:-1]
    else:
        return sentence
    return f"{verb} {rest}"


def synthetic_queries(tool: Any) -> list[str]:
    """Requests a person might write for ``tool`` (anything with ``name``, ``description``
    and ``parameters``), made from its schema alone: its name as words, its first
    :data:`MAX_SENTENCES` description sentences as instructions, and its name followed by
    its parameters' names. Distinct, in that order, never empty."""
    name = " ".join(split_identifier(tool.name)) or tool.name
    queries = [name]
    queries += [imperative(s) for s in sentences(tool.description)[:MAX_SENTENCES]]
    names = [" ".join(split_identifier(p)) for p, _, _ in parameters(tool.parameters)]
    if names:
        queries.append(f"{name} {' '.join(names[:MAX_PARAMETERS])}")
    return list(dict.fromkeys(q[:MAX_QUERY_CHARS] for q in queries if q.strip()))


def expanded_terms(counts: Mapping[str, float], weight: float) -> Counter[str]:
    """``counts`` plus, for each term with synonyms in :data:`SYNONYMS`, each synonym the
    document lacks at ``weight`` × the term's count (``weight`` 0: ``counts`` unchanged)."""
    out: Counter[str] = Counter(counts)
    if weight <= 0:
        return out
    for term, count in counts.items():
        for synonym in SYNONYMS.get(term, ()):
            if synonym not in counts:
                out[synonym] += weight * count  # type: ignore[assignment]
    return out
