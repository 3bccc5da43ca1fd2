"""What the sentence settles by itself, before the model is asked.

- **Arithmetic** (``arithmetic_call``): a sentence that asks for a sum ("what is twelve times
  seven", "divide 144 by 12") goes to a candidate that evaluates expressions, with the
  expression written from the sentence's own numbers and operators. A small model guesses
  sums; a calculator computes them.
- **Conversions** (``converter``, ``pair_values``): in "how many X is N Y", "N Y to X" and the
  like (``toolwire.text.conversions``), Y is the source and X the target. A candidate with a
  source/target pair of parameters that can take both phrases is the one meant, and each side
  takes the value its phrase names, read by the tool's own name resolution ("yen" is JPY to
  the currency tool) or its enum's labels.
- **Places** (``wants_place``, ``place_feasible``): a parameter that wants a place or time zone takes a place the
  sentence names, whole ("Los Angeles", never "Los").
"""

from __future__ import annotations

import json
from typing import Any

from toolwire.retrieval.index import Hit
from toolwire.strategies.staged.examples import code_shape, example_of, named_codes
from toolwire.strategies.staged.matching import enum_labels
from toolwire.strategies.staged.priors import non_null, role_of
from toolwire.text import lexicon
from toolwire.text.conversions import Conversion, Phrase
from toolwire.text.places import names_a_zone
from toolwire.text.reading import Reading
from toolwire.text.words import split_identifier, terms
from toolwire.tools.registry import Tool


# -- arithmetic ------------------------------------------------------------------------------
def expression_parameter(tool: Tool) -> str | None:
    """The parameter of a calculator: a tool whose one required parameter is a string named
    like an expression ("expression", "formula"), and whose name or description speaks of
    arithmetic ("calculate", "evaluate", "math")."""
    props: dict[str, Any] = tool.parameters.get("properties", {})
    required = list(tool.parameters.get("required", []))
    if len(required) != 1 or non_null(props.get(required[0], {})).get("type") != "string":
        return None
    name = required[0]
    if not set(split_identifier(name)) & lexicon.EXPRESSION_PARAMS:
        return None
    about = " ".join([*split_identifier(tool.name), tool.description]).lower()
    return name if any(word in about for word in lexicon.CALCULATOR_STEMS) else None


def arithmetic_call(
    reading: Reading, hits: list[Hit[Tool]]
) -> tuple[Tool, dict[str, str]] | None:
    """The calculator call the sentence asks for: the best-ranked candidate that evaluates
    expressions, with the sentence's arithmetic; ``None`` when it asks for none or no
    candidate computes."""
    written = reading.expression
    if written is None:
        return None
    for hit in hits:
        name = expression_parameter(hit.tool)
        if name is not None:
            return hit.tool, {name: written}
    return None


# -- conversions -----------------------------------------------------------------------------
def _pair(tool: Tool) -> dict[str, str]:
    """The tool's source and target parameters: role -> parameter name (one each at most)."""
    props: dict[str, Any] = tool.parameters.get("properties", {})
    roles: dict[str, str] = {}
    for name in props:
        role = role_of(name)
        if role is not None and role not in roles:
            roles[role] = name
    return roles if len(roles) == 2 else {}


def converter(reading: Reading, hits: list[Hit[Tool]]) -> Tool | None:
    """The best-ranked candidate whose source and target parameters both take a value from
    the phrases of the conversion the sentence asks for; ``None`` when none does."""
    conversion = reading.conversion
    if conversion is None:
        return None
    for hit in hits:
        roles = _pair(hit.tool)
        if roles and all(
            pair_values(hit.tool, roles[role], reading.part(phrase.start, phrase.end))
            for role, phrase in (("source", conversion.source), ("target", conversion.target))
        ):
            return hit.tool
    return None


def unwritten_amount(reading: Reading, tool: Tool, name: str) -> list[int]:
    """The amount of a conversion written without digits or a number word ("how many cups in
    *a* liter": one) for ``tool``'s one required numeric parameter ``name``, when the sentence
    writes no number of its own; else none."""
    conversion = reading.conversion
    if conversion is None or conversion.amount is None or reading.numbers:
        return []
    props: dict[str, Any] = tool.parameters.get("properties", {})
    numeric = [n for n in tool.parameters.get("required", [])
               if non_null(props.get(n, {})).get("type") in ("number", "integer")]
    if numeric != [name]:
        return []
    return [int(conversion.amount.value)] if conversion.amount.is_integer else []


def phrase_for(name: str, conversion: Conversion | None) -> Phrase | None:
    """The phrase that parameter ``name`` takes its value from: the source's for a source
    parameter, the target's for a target one; ``None`` for others or without a conversion."""
    role = role_of(name)
    if conversion is None or role is None:
        return None
    return conversion.source if role == "source" else conversion.target


def pair_values(tool: Tool, name: str, phrase: Reading) -> list[Any]:
    """The values of parameter ``name`` that ``phrase`` (a source or target phrase) names: an
    enum value by the tool's own name resolution or by its labels, a code of the example's
    system ("e.g. USD"), or a place for a place parameter."""
    text = phrase.text
    schema = non_null(tool.parameters.get("properties", {}).get(name, {}))
    if "enum" in schema:
        return _enum_values(tool, name, schema, phrase)
    if schema.get("type") not in ("string", None):
        return []
    example = example_of(schema)
    if code_shape(example):
        resolved = _resolved(tool, name, text)
        if isinstance(resolved, str) and len(resolved) == code_shape(example) and resolved.isupper():
            return [resolved]
        return list(named_codes(phrase, example))
    if wants_place(name, schema):  # the phrase stands alone: "la", "sydney" are places here
        return [p.text for p in phrase.places] or ([text] if names_a_zone(text) else [])
    return []


def _enum_values(tool: Tool, name: str, schema: dict[str, Any], phrase: Reading) -> list[Any]:
    options = list(schema["enum"])
    for part in _subphrases(phrase.text):
        resolved = _resolved(tool, name, part)
        if resolved in options:
            return [resolved]
    labels = enum_labels(schema)
    return [v for v in options
            if any(phrase.position(label) is not None
                   for label in labels[json.dumps(v)] if len(label) > 1)]


def _resolved(tool: Tool, name: str, text: str) -> Any:
    """``text`` as the tool's ``normalize`` rewrites it for ``name`` (itself without one)."""
    try:
        return tool.normalized({name: text}).get(name)
    except Exception:  # a normalizer that cannot read a partial call says nothing
        return None


def _subphrases(text: str) -> list[str]:
    """``text`` and its shorter runs of words, longest first ("degrees celsius please" ->
    "degrees celsius please", "degrees celsius", "celsius please", ...)."""
    words = text.split()
    return [" ".join(words[i : i + n]) for n in range(len(words), 0, -1)
            for i in range(len(words) - n + 1)]


# -- places ----------------------------------------------------------------------------------
def wants_place(name: str, schema: dict[str, Any]) -> bool:
    """A parameter that wants a place or time zone: named so (city, location, timezone)."""
    return bool(set(split_identifier(name)) & lexicon.PLACE_PARAMS) and "enum" not in schema


def place_feasible(reading: Reading, hit: Hit[Tool]) -> bool:
    """Whether ``hit`` wants only places and the sentence names one, sharing a word with the
    tool besides the place (its name or keywords: "Is it *raining* in Berlin?"
    and ``get_weather(city)``): typed evidence the relevance gate's scores alone undervalue.
    ("What's the population of Paris?" shares only the place with a weather tool.)"""
    props: dict[str, Any] = hit.tool.parameters.get("properties", {})
    required = list(hit.tool.parameters.get("required", []))
    wanted = required or list(props)  # no required parameter: an optional place will do
    if not wanted or not all(wants_place(n, non_null(props.get(n, {}))) for n in wanted):
        return False
    places = reading.places
    if not places:
        return False
    rest = reading.terms_outside([(p.start, p.end) for p in places])
    about = set(terms(" ".join([hit.tool.name, *hit.tool.keywords])))
    return bool(rest & about) or any(abbreviates(r, a) for r in rest for a in about)


ABBREVIATION_MIN = 4
"""Letters a shortened word keeps at least ("temp" for temperature, "info" for information)."""


def abbreviates(short: str, word: str) -> bool:
    """Whether ``short`` is ``word`` cut short, as people write it ("temp" for temperature):
    its first ``ABBREVIATION_MIN`` letters or more, and not the whole word."""
    return ABBREVIATION_MIN <= len(short) < len(word) and word.startswith(short)
