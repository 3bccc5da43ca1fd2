"""Filling a chosen function's arguments, one parameter at a time.

Each argument is chosen among values the sentence allows: numbers the user wrote, enum values,
a span of the user's own words for a string (a grammar admits only those), ``true``/``false``;
anything else (lists, objects) under the parameter's JSON Schema. Optional parameters only when
the sentence mentions them; required values the sentence does not hold are reported missing,
never invented. Every step writes into one growing assistant prefill, ``<tool_call>{"name":
"f", "arguments": {"a": 1, ...``, so the prompt is evaluated once and each choice costs a few
tokens. A ``Filler`` serves one fill (it keeps what that fill has used): make one per fill.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from toolwire.messages import (
    GrammarConstraint,
    JsonSchemaConstraint,
    Message,
    ModelSettings,
)
from toolwire.models.base import Model
from toolwire.strategies.staged.examples import (
    code_grammar,
    code_shape,
    example_of,
    named_codes,
    names_a_place,
    names_the_kind,
)
from toolwire.strategies.staged.matching import enum_labels, is_numeric
from toolwire.strategies.staged.priors import (
    direction_prior,
    non_null,
    number_prior,
    quote_prior,
    readings,
    role_of,
    written_moments,
)
from toolwire.strategies.staged.prompts import CALL_OPEN, call_prompt, choose, messages_for
from toolwire.strategies.staged.rules import StagedRules
from toolwire.strategies.staged.settled import (
    pair_values,
    phrase_for,
    wants_place,
)
from toolwire.strategies.staged.spans import span_grammar
from toolwire.text import lexicon, mentions
from toolwire.text.conversions import Conversion
from toolwire.text.reading import Reading
from toolwire.text.words import split_identifier, stem, words
from toolwire.tools.registry import Tool

_MAX_FREE_TOKENS = 64
_QUOTED_KEY = "\x00quoted"
_CODES_KEY = "\x00codes"
_PLACES_KEY = "\x00places"


@dataclass(kw_only=True)
class Fill:
    """The arguments filled for one call, and the required ones the sentence lacked."""

    arguments: dict[str, Any] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


class Filler:
    """Fills one call's arguments with a grammar-capable model."""

    def __init__(self, model: Model, rules: StagedRules | None = None) -> None:
        self.model = model
        self.rules = rules or StagedRules()
        self._span_bans: set[str] = set()
        self._params: list[str] = []
        self._tool: Tool | None = None
        self._conversion: Conversion | None = None

    # -- 2. its arguments ------------------------------------------------------------------
    async def fill(
        self,
        reading: Reading,
        tool: Tool,
        candidates: list[Tool],
        history: list[Message] | None = None,
        *,
        avoid: dict[str, Any] | None = None,
        keep: dict[str, Any] | None = None,
    ) -> Fill:
        """Fill ``tool``'s arguments from the sentence ``reading`` reads (the whole one, or a
        segment of it); ``avoid`` holds values that failed."""
        props: dict[str, Any] = tool.parameters.get("properties", {})
        required = list(tool.parameters.get("required", []))
        numbers = list(reading.numbers)
        self._tool = tool
        self._conversion = reading.conversion if self.rules.conversion_pairs else None
        chosen = [p for p in props if p in required or self._mentioned(reading, p, props[p])]
        if self.rules.numeric_optionals:
            chosen = _with_numeric_optionals(len(numbers), props, chosen)
        result = Fill()
        prefill = CALL_OPEN + json.dumps({"name": tool.name})[:-1] + ', "arguments": {'
        numeric = any(non_null(props[p]).get("type") in ("number", "integer") for p in props)
        # a number belongs to the numeric parameter, not inside a string ("200" is no currency)
        self._span_bans = {w.lower() for n in numbers for w in words(n.text)} if numeric else set()
        self._params = list(props)
        used_numbers: set[int] = set()
        used_values: dict[str, set[str]] = {}
        history = list(history or [])
        system = call_prompt(tool)
        for i, name in enumerate(chosen):
            schema = props[name]
            last = i == len(chosen) - 1
            prefill += ("" if i == 0 else ", ") + json.dumps(name) + ": "
            if keep and name in keep:
                literal: str | None = json.dumps(keep[name])
            elif name not in required and is_numeric(schema) and len(used_numbers) >= len(numbers):
                literal = None  # an optional number never re-uses one another parameter took
            else:
                messages = messages_for(system, reading.text, history, prefill)
                literal = await self._value(
                    messages, reading, schema, numbers, (used_numbers, used_values), last,
                    avoid, name,
                )
            if literal is None:
                if name in required:
                    result.missing.append(name)
                prefill = prefill[: prefill.rfind(json.dumps(name))].rstrip(", ")
                continue
            result.arguments[name] = json.loads(literal)
            prefill += literal
            value = result.arguments[name]
            if isinstance(value, str) and words(value):
                # one span, one parameter: a later string may not start where this one did
                self._span_bans.add(words(value)[0].lower())
        return result

    def _no_start(self, name: str) -> set[str]:
        """Words a string value may not start with: the parameter's own name ("type" is not a
        type), the numbers that belong to numeric parameters, and the first words of strings
        already given to other parameters."""
        return self._span_bans | set(split_identifier(name))

    def _mentioned(self, reading: Reading, name: str, schema: dict[str, Any]) -> bool:
        if reading.mentions(name):
            return True
        if self.rules.whole_places and wants_place(name, non_null(schema)) and reading.places:
            return True  # "what time is it in paris" names get_time's timezone
        if self.rules.written_moments and written_moments(reading, name, schema):
            return True
        distinctive = set() if not self.rules.distinctive_mentions else {
            stem(w) for w in split_identifier(name)
            if len(w) >= 5 and w not in lexicon.COMMON_PARAM_WORDS
        }
        if distinctive & reading.stem_set:
            return True  # "make it private" mentions private_visibility
        example = example_of(schema) if self.rules.described_examples else None
        if example and (names_the_kind(reading, example) or named_codes(reading, example)
                        or names_a_place(reading, example)):
            return True  # "42 US dollars" mentions from_currency, "e.g. USD"
        return any(isinstance(v, str) and reading.mentions(v) for v in schema.get("enum", []))

    async def _value(
        self,
        messages: list[Message],
        reading: Reading,
        schema: dict[str, Any],
        numbers: list[mentions.NumberMention],
        used: tuple[set[int], dict[str, set[str]]],
        last: bool,
        avoid: dict[str, Any] | None,
        name: str,
    ) -> str | None:
        """The JSON literal for one parameter, or ``None`` when the sentence holds none."""
        used_numbers, used_values = used
        end = "}" if last else ","
        bad = json.dumps(avoid[name]) if avoid and name in avoid else None
        schema = non_null(schema)
        phrase = phrase_for(name, self._conversion)
        if phrase is not None and self._tool is not None:  # "how many X is N Y": Y is the source
            side = reading.part(phrase.start, phrase.end)
            given = [json.dumps(v) for v in pair_values(self._tool, name, side)]
            if [g for g in given if g != bad]:
                return await self._pick(messages, [g for g in given if g != bad], end)
        if self.rules.whole_places and wants_place(name, schema):
            place = await self._place(messages, reading, end, used_values, bad)
            if place is not None:
                return place
        kind = _one_type(schema.get("type"), is_numeric(schema) and bool(numbers))
        if "enum" in schema:
            options = [json.dumps(v) for v in schema["enum"] if json.dumps(v) != bad]
            return await self._enum(messages, reading, schema, options, end, used_values, name)
        if kind == "boolean":
            return await self._pick(messages, ["true", "false"], end)
        if kind in ("number", "integer"):
            return await self._number(
                messages, reading, name, schema, numbers, used_numbers, end, bad
            )
        moments = kind == "string" and self.rules.written_moments
        written = written_moments(reading, name, schema) if moments else []
        if written:
            literals = [json.dumps(d) for d in written]
            return await self._pick(messages, [x for x in literals if x != bad] or literals, end)
        example = example_of(schema) if self.rules.described_examples else None
        if kind == "string" and code_shape(example):
            return await self._code(messages, reading, schema, example, end, used_values, name,
                                    bad)
        if kind == "string" and schema.get("format") not in lexicon.FREE_STRING_FORMATS:
            walls = (set(lexicon.DIRECTION_WORDS) if role_of(name) and self.rules.direction_walls
                     else set())
            span = await self._span(messages, reading, bad, self._no_start(name), walls)
            return await self._prefer_quoted(messages, reading, name, span, end, used_values, bad)
        return await self._free(messages, schema)

    async def _place(
        self,
        messages: list[Message],
        reading: Reading,
        end: str,
        used: dict[str, set[str]],
        bad: str | None,
    ) -> str | None:
        """A place the sentence names, whole ("Los Angeles", never "Los"), one no other
        parameter took; a time zone parameter without one written gets none."""
        taken = used.setdefault(_PLACES_KEY, set())
        places = [json.dumps(p.text) for p in reading.places]
        options = [p for p in places if p not in taken and p != bad] or [
            p for p in places if p != bad]
        if not options:
            return None
        literal = await self._pick(messages, options, end)
        if literal is not None:
            taken.add(literal)
        return literal

    async def _prefer_quoted(
        self,
        messages: list[Message],
        reading: Reading,
        name: str,
        span: str | None,
        end: str,
        used: dict[str, set[str]],
        bad: str | None,
    ) -> str | None:
        """The span, or a passage the user quoted when the model finds one as likely: quotes
        mark values ("the instrument 'Violin' from 'Stradivarius' maker"), and the one beside
        the parameter's own words leans to it."""
        if not self.rules.quoted_passages:
            return span
        taken = used.setdefault(_QUOTED_KEY, set())
        quotes = [q for q in reading.quotes
                  if json.dumps(q.text) not in taken and json.dumps(q.text) != bad]
        if not quotes:
            return span
        prior = quote_prior(reading, quotes, name, self._params)
        options = list(dict.fromkeys([*prior, *([span] if span else [])]))
        literal = await self._pick(messages, options, end, prior)
        if literal in prior:
            taken.add(literal)
        return literal

    async def _pick(
        self,
        messages: list[Message],
        options: list[str],
        end: str,
        prior: dict[str, float] | None = None,
    ) -> str | None:
        """The model's likeliest option, its log-likelihood shifted by ``prior`` (if any)."""
        if not options:
            return None
        if len(options) == 1:
            return options[0]
        scores = await choose(self.model, messages, [o + end for o in options])
        prior = prior or {}
        best = max(options, key=lambda o: scores.get(o + end, -1e9) + prior.get(o, 0.0))
        return best

    async def _enum(
        self,
        messages: list[Message],
        reading: Reading,
        schema: dict[str, Any],
        options: list[str],
        end: str,
        used: dict[str, set[str]],
        name: str,
    ) -> str | None:
        """An enum value: among those the sentence names (by value or label), when it names any.

        Values already given to an earlier parameter with the same enum are tried last, so
        ``from``/``to`` pairs get two different values when the sentence names two.
        """
        labels = enum_labels(schema)
        where: dict[str, int] = {}
        for o in options:
            found = [reading.position(lb) for lb in labels[o]]
            positions = [p for p in found if p is not None]
            if positions:
                where[o] = min(positions)
        named = sorted(where, key=lambda o: where[o])
        key = json.dumps(sorted(options))
        taken = used.get(key, set())
        fresh = [o for o in named if o not in taken]
        # a source/target pair whose one named value the source took ("5 miles to km"): the
        # target is picked among the others rather than the same again (mile to mile)
        pair = self.rules.direction_walls and role_of(name) is not None and bool(named)
        others = [o for o in options if o not in taken] if pair else []
        pool = fresh or others or named or options
        prior = {o: direction_prior(name, reading, where[o], rank) for rank, o in
                 enumerate(named) if o in pool} if self.rules.direction_walls else {}
        literal = await self._pick(messages, pool, end, prior)
        if literal is not None:
            used.setdefault(key, set()).add(literal)
        return literal

    async def _number(
        self,
        messages: list[Message],
        reading: Reading,
        name: str,
        schema: dict[str, Any],
        numbers: list[mentions.NumberMention],
        used: set[int],
        end: str,
        bad: str | None,
    ) -> str | None:
        integer = schema.get("type") == "integer"
        pool = [i for i in range(len(numbers)) if i not in used] or list(range(len(numbers)))
        options: dict[str, int] = {}
        prior: dict[str, float] = {}
        for i in pool:
            n = numbers[i]
            for text, bonus in readings(n, integer, schema, reading):
                if text != bad and text not in options:
                    options[text] = i
                    prior[text] = bonus
        if not options:
            return None
        if self.rules.number_priors:
            found = number_prior(reading, name, [numbers[i] for i in options.values()])
            prior = {o: prior[o] + b for o, b in zip(options, found, strict=True)}
        literal = await self._pick(messages, list(options), end, prior)
        if literal is not None:
            used.add(options[literal])
        return literal

    async def _span(
        self,
        messages: list[Message],
        reading: Reading,
        bad: str | None,
        no_start: set[str],
        no_cross: set[str],
    ) -> str | None:
        grammar = span_grammar(
            reading, exclude=json.loads(bad) if bad else None, no_start=no_start,
            no_cross=no_cross,
        )
        if grammar is None:
            return None
        completion = await self.model.complete(
            messages,
            constraint=GrammarConstraint(gbnf=grammar),
            settings=ModelSettings(max_tokens=_MAX_FREE_TOKENS),
        )
        return _json_literal(completion.text)

    async def _code(
        self,
        messages: list[Message],
        reading: Reading,
        schema: dict[str, Any],
        example: str | None,
        end: str,
        used: dict[str, set[str]],
        name: str,
        bad: str | None,
    ) -> str | None:
        """A code like the description's example ("USD"): one of the codes the sentence names
        when the example belongs to a known code system (currencies, regions), as an enum of
        them labelled by their names; else written by the model in the example's shape."""
        taken = used.setdefault(_CODES_KEY, set())
        named = {code: label for code, label in named_codes(reading, example).items()
                 if json.dumps(code) != bad}
        if named and not {json.dumps(c) for c in named} <= taken:
            labelled = {**schema, "enum": list(named), "enumDescriptions": list(named.values())}
            literal = await self._enum(messages, reading, labelled,
                                       [json.dumps(c) for c in named], end, used, name)
        else:  # none named, or each named one already given ("100 euros into yen")
            completion = await self.model.complete(
                messages,
                constraint=GrammarConstraint(gbnf=code_grammar(code_shape(example) or 3)),
                settings=ModelSettings(max_tokens=8),
            )
            literal = _json_literal(completion.text)
        if literal is None or literal == bad:
            return None
        taken.add(literal)
        return literal

    async def _free(self, messages: list[Message], schema: dict[str, Any]) -> str | None:
        completion = await self.model.complete(
            messages,
            constraint=JsonSchemaConstraint(schema=schema or {}),
            settings=ModelSettings(max_tokens=_MAX_FREE_TOKENS),
        )
        return _json_literal(completion.text)


def _with_numeric_optionals(
    written: int, props: dict[str, Any], chosen: list[str]
) -> list[str]:
    """``chosen`` plus optional numeric parameters while the sentence writes more numbers
    (``written``) than the chosen ones take ("find *ten* events" fills an optional ``count``),
    in schema order."""
    spare = written - sum(is_numeric(props[p]) for p in chosen)
    extra = set()
    for name, schema in props.items():
        if spare <= 0:
            break
        if name not in chosen and isinstance(schema, dict) and is_numeric(schema):
            extra.add(name)
            spare -= 1
    return [p for p in props if p in chosen or p in extra]


def _one_type(kind: Any, numbers: bool) -> Any:
    """A schema's ``type``; of a list of types (``["string", "number"]``), the number when a
    number is wanted and the sentence writes one, else the string, else the first."""
    if not isinstance(kind, list):
        return kind
    for wanted in (("number", "integer") if numbers else ()) + ("string",):
        if wanted in kind:
            return wanted
    return kind[0] if kind else None


def _json_literal(text: str) -> str | None:
    try:
        return json.dumps(json.loads(text))
    except ValueError:
        return None

