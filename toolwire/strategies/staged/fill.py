"""Filling a chosen function's arguments, one parameter at a time.

Each argument is chosen among values the sentence allows: numbers the user wrote, enum values,
a span of the user's own words for a string (a grammar admits only those), ``true``/``false``;
anything else (lists, objects) under the parameter's JSON Schema. Optional parameters only when
the sentence mentions them; required values the sentence does not hold are reported missing,
never invented. Every step writes into one growing assistant prefill, ``<tool_call>{"name":
"f", "arguments": {"a": 1, ...``, so the prompt is evaluated once and each choice costs a few
tokens. A ``Filler`` serves one fill (it keeps what that fill has used): make one per fill.

The heuristics are the rules of the MENTION and VALUE stages (``rules/mention.py``,
``rules/value.py``): the filler asks every rule that is on, in the table's order, whether it
mentions a parameter, which options it offers, which priors it adds.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from toolwire.messages import (
    GrammarConstraint,
    JsonSchemaConstraint,
    Message,
    ModelSettings,
)
from toolwire.models.base import Model
from toolwire.strategies.staged.matching import enum_labels, is_numeric
from toolwire.strategies.staged.priors import non_null, readings
from toolwire.strategies.staged.prompts import CALL_OPEN, call_prompt, choose, messages_for
from toolwire.strategies.staged.rules import Rule, StagedRules, ValueAsk
from toolwire.strategies.staged.spans import span_grammar
from toolwire.text import lexicon, mentions
from toolwire.text.reading import Reading
from toolwire.text.words import split_identifier, stem, words
from toolwire.tools.registry import Tool
from toolwire.tools.schema import constrains

_MAX_FREE_TOKENS = 64


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
        self._active: list[Rule] = self.rules.active()
        self._span_bans: set[str] = set()
        self._params: list[str] = []
        self._tool: Tool | None = None

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
        chosen = [p for p in props if p in required or self._mentioned(reading, p, props[p])]
        for rule in self._active:  # optional parameters the rules add (a spare number's)
            chosen = rule.chosen(reading, props, chosen)
        result = Fill()
        prefill = CALL_OPEN + json.dumps({"name": tool.name})[:-1] + ', "arguments": {'
        numeric = any(non_null(props[p]).get("type") in ("number", "integer") for p in props)
        # a number belongs to the numeric parameter, not inside a string ("200" is no currency,
        # "1kg" no substance)
        self._span_bans = _quantities(reading) if numeric else set()
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

    def formed(self, reading: Reading, tool: Tool, arguments: dict[str, Any]) -> dict[str, Any]:
        """``arguments`` in the form each parameter's description asks for (the rules'
        ``form``: "Chicago" -> "Chicago, IL"). Asked of a finished call, after the listings
        have matched its values against the sentence's own words."""
        props: dict[str, Any] = tool.parameters.get("properties", {})
        forms = [r for r in self._active if r.form is not None]
        if not forms:
            return arguments
        out = dict(arguments)
        for name, value in arguments.items():
            schema = non_null(props.get(name, {}))
            literal = json.dumps(value)
            for rule in forms:
                ask = ValueAsk(reading=reading, tool=tool, name=name, schema=schema,
                               kind=schema.get("type"), bad=None, taken=set(),
                               params=list(props))
                literal = rule.formed(ask, literal)
            out[name] = json.loads(literal)
        return out

    def _no_start(self, name: str) -> set[str]:
        """Words a string value may not start with: the parameter's own name ("type" is not a
        type), the numbers that belong to numeric parameters, and the first words of strings
        already given to other parameters."""
        return self._span_bans | set(split_identifier(name))

    def _mentioned(self, reading: Reading, name: str, schema: dict[str, Any]) -> bool:
        """Whether the sentence mentions parameter ``name``: its name, a rule of the MENTION
        stage ("make it private" mentions private_visibility), or one of its enum values (of
        an array, its items')."""
        if reading.mentions(name):
            return True
        if any(rule.mentioned(reading, name, schema) for rule in self._active):
            return True
        values = schema.get("enum") or non_null(schema.get("items") or {}).get("enum") or []
        return any(isinstance(v, str) and reading.mentions(v) for v in values)

    def _ask(self, reading: Reading, name: str, schema: dict[str, Any], kind: Any,
             bad: str | None, used: dict[str, set[str]], rule: Rule) -> ValueAsk:
        """What ``rule`` is asked about parameter ``name`` (with the values it gave before)."""
        assert self._tool is not None
        return ValueAsk(reading=reading, tool=self._tool, name=name, schema=schema, kind=kind,
                        bad=bad, taken=used.setdefault("\x00rule:" + rule.name, set()),
                        params=self._params)

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
        kind = _one_type(schema.get("type"), is_numeric(schema) and bool(numbers))
        for rule in self._active:  # a conversion's side, a place whole, a date in its pattern
            if rule.offer is None:
                continue
            ask = self._ask(reading, name, schema, kind, bad, used_values, rule)
            offered = rule.offered(ask)
            if offered:
                literal = await self._pick(messages, offered, end)
                if literal is not None:
                    ask.taken.add(literal)
                return literal
        if "enum" in schema:
            options = [json.dumps(v) for v in schema["enum"] if json.dumps(v) != bad]
            return await self._enum(messages, reading, schema, options, end, used_values, name)
        if kind == "boolean":
            return await self._pick(messages, ["true", "false"], end)
        if kind in ("number", "integer"):
            return await self._number(
                messages, reading, name, schema, numbers, used_numbers, end, bad
            )
        if kind == "string" and schema.get("format") not in lexicon.FREE_STRING_FORMATS:
            walls = _named_others(reading, name, self._params)
            for rule in self._active:  # "from"/"to" for a source or target
                walls |= rule.span_walls(name)
            span = await self._span(messages, reading, bad, self._no_start(name), walls)
            for rule in self._active:  # a quoted passage beside the span
                if rule.passages is None:
                    continue
                ask = self._ask(reading, name, schema, kind, bad, used_values, rule)
                prior = rule.passages_for(ask)
                if prior:
                    return await self._beside_span(messages, span, end, prior, ask.taken)
            return span
        return await self._free(messages, schema)

    async def _beside_span(
        self,
        messages: list[Message],
        span: str | None,
        end: str,
        prior: dict[str, float],
        taken: set[str],
    ) -> str | None:
        """The span, or a passage a rule offers (with its prior) when the model finds it as
        likely; a passage chosen is ``taken`` (no later parameter of the call gets it)."""
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
        pair = bool(named) and any(r.paired(name) for r in self._active)
        others = [o for o in options if o not in taken] if pair else []
        pool = fresh or others or named or options
        prior = {o: sum(r.enum_bonus(name, reading, where[o], rank) for r in self._active)
                 for rank, o in enumerate(named) if o in pool}
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
        for rule in self._active:  # the number beside the parameter's words, ...
            found = rule.number_bonus(reading, name, [numbers[i] for i in options.values()])
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

    async def _free(self, messages: list[Message], schema: dict[str, Any]) -> str | None:
        completion = await self.model.complete(
            messages,
            constraint=JsonSchemaConstraint(schema=_constraint(schema)),
            settings=ModelSettings(max_tokens=_MAX_FREE_TOKENS),
        )
        return _json_literal(completion.text)


_OPERATOR_BESIDE = re.compile(r"\s*[-+*/^=]")
"""An arithmetic operator, maybe after spaces: the word before it is a formula's term."""


def _quantities(reading: Reading) -> set[str]:
    """The words (lower case) that write a number, which belongs to a numeric parameter and
    starts no string: "200", and a quantity with its unit glued on ("1kg ice block": the
    substance is "ice"), not a formula's term ("3x^2 + 2x - 1" stays a function's value)."""
    found = {w.lower() for n in reading.numbers for w in words(n.text)}
    text = reading.text
    for w in reading.spans:
        formula = _OPERATOR_BESIDE.match(text, w.end) or _OPERATOR_BESIDE.match(
            text[: w.start][::-1])
        if reading.holds_number(w) and not formula:
            found.add(w.text.lower())
    return found


def _named_others(reading: Reading, name: str, params: list[str]) -> set[str]:
    """The sentence's words that name another parameter of the tool (not ``name`` itself):
    a span for ``name`` stops before them, for the words after belong to that parameter
    ("123 main street, with parcel number 1234567890": the address ends before "parcel")."""
    own = {stem(w) for w in split_identifier(name)}
    others = {stem(w) for p in params if p != name for w in split_identifier(p)
              if len(w) > 2 and w not in lexicon.GENERIC_NAME_WORDS} - own
    return {w for w, s in zip(reading.lowered, reading.stems, strict=True) if s in others}


def _one_type(kind: Any, numbers: bool) -> Any:
    """A schema's ``type``; of a list of types (``["string", "number"]``), the number when a
    number is wanted and the sentence writes one, else the string, else the first."""
    if not isinstance(kind, list):
        return kind
    for wanted in (("number", "integer") if numbers else ()) + ("string",):
        if wanted in kind:
            return wanted
    return kind[0] if kind else None


def _constraint(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` as a constraint: one that says nothing a value must be (a parameter of
    BFCL's type "any" keeps only its description) constrains nothing, ``{}``; llama.cpp's
    converter refuses a schema with a description and no type ("Unrecognized schema")."""
    return schema if constrains(schema) else {}


def _json_literal(text: str) -> str | None:
    try:
        return json.dumps(json.loads(text))
    except ValueError:
        return None

