"""Tools another tool needs first, read from their schemas: a call the request never names.

"Send Bob a message" needs Bob's user id, which ``get_user_id`` gives; "how far is Riga from
Oslo" needs the cities' zipcodes where the distance tool takes zipcodes; "move report.pdf into
temp" needs the working directory changed first where the file must be in the current one.
Two schema patterns say so, in any API's words:

- a parameter described as a thing ("User ID of the user...", "The zipcode of the first city")
  that another tool's name gets (``get_user_id``, ``get_zipcode_based_on_city``): the name's
  words after a getter verb (:data:`GETTERS`), up to a preposition;
- a parameter that must be in "the current <thing>" ("local to the current directory") where
  another tool's description changes or sets "the current ... <thing>" ("Change the current
  working directory").

    prerequisites(tools)   # {'send_message': ['get_user_id'], 'mv': ['cd'], ...}

:class:`Prerequisites` keeps them for a changing registry, one tool at a time.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from toolwire.retrieval.expansion import parameters
from toolwire.text.words import split_identifier

GETTERS = frozenset({"get", "fetch", "retrieve", "obtain", "lookup", "find"})
"""Verbs a tool's name opens with when it gives a thing (the read group of
``expansion.ACTION_SYNONYMS``, less the ones that show rather than give)."""
_PREPOSITIONS = frozenset({"based", "by", "for", "from", "of", "on", "in", "with", "to"})
_MAX_THING_WORDS = 3
_HEAD = re.compile(r"^(?:the |a |an )?([a-z][a-z ]*?)(?: of | to | for | from |[.,;(]|$)")
_CURRENT = re.compile(r"\bcurrent ((?:[a-z]+ ){0,2}?)([a-z]+)\b(?= to\b| for\b| of\b|[.,;]|$)")
_SETS_CURRENT = re.compile(r"\b(?:change|changes|set|sets|switch|switches) the current "
                           r"((?:[a-z]+ ){0,2}?)([a-z]+)\b(?= to\b| for\b| of\b|[.,;]|$)")


def _given_thing(name: str) -> str | None:
    """What a getter's name gives ("get_user_id" → "user id"), or None for another name."""
    words = [w.lower() for w in split_identifier(name)]
    if len(words) < 2 or words[0] not in GETTERS:
        return None
    thing = []
    for w in words[1:]:
        if w in _PREPOSITIONS:
            break
        thing.append(w)
    return " ".join(thing) if 0 < len(thing) <= _MAX_THING_WORDS else None


def _needed_things(schema: Any) -> tuple[set[str], set[str]]:
    """(things named at the head of parameter descriptions, nouns after "current")."""
    things: set[str] = set()
    current: set[str] = set()
    for _name, description, _enums in parameters(schema):
        text = " ".join(description.lower().split())
        head = _HEAD.match(text)
        if head and len(head[1].split()) <= _MAX_THING_WORDS:
            things.add(head[1].strip())
        current.update(m[2] for m in _CURRENT.finditer(text))
    return things, current


class Prerequisites:
    """The prerequisites of a changing set of tools, kept tool by tool: adding or removing one
    reads that tool's schema only, and :meth:`of` resolves a tool's needs when it is asked."""

    def __init__(self) -> None:
        self._givers: dict[str, dict[str, None]] = defaultdict(dict)
        """A thing → the tools giving it, in the order they came (a dict as an ordered set)."""
        self._setters: dict[str, dict[str, None]] = defaultdict(dict)
        """A noun after "the current" → the tools setting it."""
        self._provides: dict[str, tuple[str | None, list[str]]] = {}
        """A tool → (the thing its name gives, the current nouns it sets)."""
        self._wants: dict[str, tuple[list[str], list[str]]] = {}
        """A tool → (the things its parameters name, the current nouns they need), sorted."""

    def add(self, tool: Any) -> None:
        """Take ``tool`` in; one already here by that name is replaced."""
        self.remove(tool.name)
        thing = _given_thing(tool.name)
        sets = [m[2] for m in _SETS_CURRENT.finditer(" ".join((tool.description or "").lower().split()))]
        if thing:
            self._givers[thing][tool.name] = None
        for noun in sets:
            self._setters[noun][tool.name] = None
        self._provides[tool.name] = (thing, sets)
        things, current = _needed_things(tool.parameters)
        self._wants[tool.name] = (sorted(things), sorted(current))

    def remove(self, name: str) -> None:
        """Forget the tool called ``name`` (an unknown name is ignored)."""
        provided = self._provides.pop(name, None)
        self._wants.pop(name, None)
        if provided is None:
            return
        thing, sets = provided
        if thing:
            _discard(self._givers, thing, name)
        for noun in sets:
            _discard(self._setters, noun, name)

    def of(self, name: str) -> list[str]:
        """The names of the tools the tool called ``name`` needs first (none for an unknown)."""
        things, current = self._wants.get(name, ([], []))
        needed = [n for t in things for n in self._givers.get(t, ())]
        needed += [n for c in current for n in self._setters.get(c, ())]
        return [n for n in dict.fromkeys(needed) if n != name]


def _discard(index: dict[str, dict[str, None]], key: str, name: str) -> None:
    names = index.get(key)
    if names is not None:
        names.pop(name, None)
        if not names:
            del index[key]


def prerequisites(tools: Iterable[Any]) -> dict[str, list[str]]:
    """Tool name → the names of the tools it needs first (see the module docstring); tools
    with none are left out."""
    tools = list(tools)
    known = Prerequisites()
    for tool in tools:
        known.add(tool)
    return {tool.name: needed for tool in tools if (needed := known.of(tool.name))}
