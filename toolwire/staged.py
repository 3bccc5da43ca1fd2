"""The staged strategy for small local models: pick the function, then fill one argument at a time.

A 135M model cannot be trusted to write a whole call, but it can be trusted to *choose*:

1. the function, among the retrieved candidates (its log-likelihood of each name, weighed with the
   retrieval score);
2. each argument, among values the sentence allows: numbers the user wrote, enum values, a span
   of the user's own words for a string (a grammar admits only those), ``true``/``false``;
   anything else (lists, objects) under the parameter's JSON Schema;
3. optional parameters only when the sentence mentions them; required values the sentence does
   not hold are reported as missing, never invented.

Every step writes into one growing assistant prefill, ``<tool_call>{"name": "f", "arguments":
{"a": 1, ...``, so the prompt is evaluated once and each choice costs a few tokens.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from toolwire import extraction
from toolwire.models.base import (
    ChoiceConstraint,
    GrammarConstraint,
    JsonSchemaConstraint,
    Message,
    Model,
    Settings,
)
from toolwire.prompting import CALL_OPEN, call_prompt, selection_prompt
from toolwire.tools import Tool

_STRING_FORMATS_FREE = {"date", "date-time", "time", "email", "uri", "uuid"}
_MAX_FREE_TOKENS = 64


@dataclass(kw_only=True)
class Fill:
    """The arguments filled for one call, and the required ones the sentence lacked."""

    arguments: dict[str, Any] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


def _softmax(scores: dict[str, float]) -> dict[str, float]:
    top = max(scores.values())
    exp = {k: math.exp(v - top) for k, v in scores.items()}
    total = sum(exp.values())
    return {k: v / total for k, v in exp.items()}


class StagedCaller:
    """Selects a tool and fills its arguments with a grammar-capable model."""

    def __init__(
        self,
        model: Model,
        *,
        model_weight: float = 0.5,
        lexical_weight: float = 0.5,
        decisive_margin: float = 0.5,
    ) -> None:
        self.model = model
        self.model_weight = model_weight
        self.lexical_weight = lexical_weight
        self.decisive_margin = decisive_margin
        self._span_bans: set[str] = set()
        self._params: list[str] = []

    # -- shared prompt ---------------------------------------------------------------------
    def _messages(
        self, system: str, question: str, history: list[Message], prefill: str
    ) -> list[Message]:
        return [
            Message(role="system", content=system),
            *history,
            Message(role="user", content=question),
            Message(role="assistant", content=prefill),
        ]

    async def _choose(self, messages: list[Message], options: list[str]) -> dict[str, float]:
        completion = await self.model.complete(
            messages, constraint=ChoiceConstraint(options=tuple(options))
        )
        return completion.scores or {completion.text: 0.0}

    # -- 1. which function -----------------------------------------------------------------
    async def select(
        self,
        question: str,
        candidates: list[Tool],
        retrieval_scores: list[float],
        history: list[Message] | None = None,
    ) -> tuple[Tool, dict[str, float]]:
        """The best candidate by retrieval and literal match, and by the model when those leave
        it open (the runner-up within ``decisive_margin``); and the weights of all."""
        if len(candidates) == 1:
            return candidates[0], {candidates[0].name: 1.0}
        p_retrieval = _softmax(
            {t.name: 8.0 * s for t, s in zip(candidates, retrieval_scores, strict=True)}
        )
        w = self.model_weight
        evidence = {
            t.name: (1 - w) * p_retrieval[t.name]
            + self.lexical_weight * lexical_match(question, t)
            - (0.0 if feasible(question, t) else 1.0)
            for t in candidates
        }
        first, second = sorted(evidence.values(), reverse=True)[:2]
        if first - second >= self.decisive_margin:
            best = max(candidates, key=lambda t: evidence[t.name])
            return best, evidence
        messages = self._messages(
            selection_prompt(candidates), question, history or [], CALL_OPEN + '{"name": "'
        )
        raw = await self._choose(messages, [t.name + '"' for t in candidates])
        p_model = _softmax({k[:-1]: v for k, v in raw.items()})
        combined = {t.name: evidence[t.name] + w * p_model.get(t.name, 0.0) for t in candidates}
        best = max(candidates, key=lambda t: combined[t.name])
        return best, combined

    # -- 2. its arguments ------------------------------------------------------------------
    async def fill(
        self,
        question: str,
        tool: Tool,
        candidates: list[Tool],
        history: list[Message] | None = None,
        *,
        avoid: dict[str, Any] | None = None,
        keep: dict[str, Any] | None = None,
    ) -> Fill:
        """Fill ``tool``'s arguments from ``question``; ``avoid`` holds values that failed."""
        props: dict[str, Any] = tool.parameters.get("properties", {})
        required = list(tool.parameters.get("required", []))
        numbers = extraction.numbers(question)
        chosen = [p for p in props if p in required or self._mentioned(question, p, props[p])]
        chosen = _with_numeric_optionals(len(numbers), props, chosen)
        result = Fill()
        prefill = CALL_OPEN + json.dumps({"name": tool.name})[:-1] + ', "arguments": {'
        numeric = any(_non_null(props[p]).get("type") in ("number", "integer") for p in props)
        # a number belongs to the numeric parameter, not inside a string ("200" is no currency)
        self._span_bans = {n.text.lower() for n in numbers} if numeric else set()
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
            elif name not in required and _is_numeric(schema) and len(used_numbers) >= len(numbers):
                literal = None  # an optional number never re-uses one another parameter took
            else:
                messages = self._messages(system, question, history, prefill)
                literal = await self._value(
                    messages, question, schema, numbers, (used_numbers, used_values), last,
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
            if isinstance(value, str) and extraction.words(value):
                # one span, one parameter: a later string may not start where this one did
                self._span_bans.add(extraction.words(value)[0].lower())
        return result

    def _no_start(self, name: str) -> set[str]:
        """Words a string value may not start with: the parameter's own name ("type" is not a
        type), the numbers that belong to numeric parameters, and the first words of strings
        already given to other parameters."""
        return self._span_bans | set(extraction.identifier_words(name))

    @staticmethod
    def _mentioned(question: str, name: str, schema: dict[str, Any]) -> bool:
        if extraction.mentions(question, name) or _written_moments(question, name, schema):
            return True
        distinctive = {
            extraction.stem(w) for w in extraction.identifier_words(name)
            if len(w) >= 5 and w not in _COMMON_PARAM_WORDS
        }
        if distinctive & {extraction.stem(w) for w in extraction.words(question)}:
            return True  # "make it private" mentions private_visibility
        return any(
            isinstance(v, str) and extraction.mentions(question, v) for v in schema.get("enum", [])
        )

    async def _value(
        self,
        messages: list[Message],
        question: str,
        schema: dict[str, Any],
        numbers: list[extraction.NumberMention],
        used: tuple[set[int], dict[str, set[str]]],
        last: bool,
        avoid: dict[str, Any] | None,
        name: str,
    ) -> str | None:
        """The JSON literal for one parameter, or ``None`` when the sentence holds none."""
        used_numbers, used_values = used
        end = "}" if last else ","
        bad = json.dumps(avoid[name]) if avoid and name in avoid else None
        schema = _non_null(schema)
        kind = schema.get("type")
        if "enum" in schema:
            options = [json.dumps(v) for v in schema["enum"] if json.dumps(v) != bad]
            return await self._enum(messages, question, schema, options, end, used_values, name)
        if kind == "boolean":
            return await self._pick(messages, ["true", "false"], end)
        if kind in ("number", "integer"):
            return await self._number(
                messages, question, name, schema, numbers, used_numbers, end, bad
            )
        written = _written_moments(question, name, schema) if kind == "string" else []
        if written:
            literals = [json.dumps(d) for d in written]
            return await self._pick(messages, [x for x in literals if x != bad] or literals, end)
        if kind == "string" and schema.get("format") not in _STRING_FORMATS_FREE:
            walls = _DIRECTION_WORDS if _role(name) else set()
            span = await self._span(messages, question, bad, self._no_start(name), walls)
            return await self._prefer_quoted(messages, question, name, span, end, used_values, bad)
        return await self._free(messages, schema)

    async def _prefer_quoted(
        self,
        messages: list[Message],
        question: str,
        name: str,
        span: str | None,
        end: str,
        used: dict[str, set[str]],
        bad: str | None,
    ) -> str | None:
        """The span, or a passage the user quoted when the model finds one as likely: quotes
        mark values ("the instrument 'Violin' from 'Stradivarius' maker"), and the one beside
        the parameter's own words leans to it."""
        taken = used.setdefault(_QUOTED_KEY, set())
        quotes = [q for q in extraction.quoted(question)
                  if json.dumps(q.text) not in taken and json.dumps(q.text) != bad]
        if not quotes:
            return span
        owners = _quote_owners(question, quotes, self._params)
        prior = {}
        for q in quotes:
            owner = owners.get(q.start)
            bonus = _QUOTED_BONUS
            if owner == name:
                bonus += _NAMED_BONUS
            elif owner is not None:
                bonus -= _NAMED_BONUS  # "from 'Stradivarius' maker": another parameter's
            prior[json.dumps(q.text)] = bonus
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
        scores = await self._choose(messages, [o + end for o in options])
        prior = prior or {}
        best = max(options, key=lambda o: scores.get(o + end, -1e9) + prior.get(o, 0.0))
        return best

    async def _enum(
        self,
        messages: list[Message],
        question: str,
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
            found = [extraction.mention_position(question, lb) for lb in labels[o]]
            positions = [p for p in found if p is not None]
            if positions:
                where[o] = min(positions)
        named = sorted(where, key=lambda o: where[o])
        key = json.dumps(sorted(options))
        fresh = [o for o in named if o not in used.get(key, set())]
        pool = fresh or named or options
        prior = {o: direction_prior(name, question, where[o], rank) for rank, o in
                 enumerate(named) if o in pool}
        literal = await self._pick(messages, pool, end, prior)
        if literal is not None:
            used.setdefault(key, set()).add(literal)
        return literal

    async def _number(
        self,
        messages: list[Message],
        question: str,
        name: str,
        schema: dict[str, Any],
        numbers: list[extraction.NumberMention],
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
            for text, bonus in _readings(n, integer, schema, question):
                if text != bad and text not in options:
                    options[text] = i
                    prior[text] = bonus
        if not options:
            return None
        found = number_prior(question, name, [numbers[i] for i in options.values()])
        prior = {o: prior[o] + b for o, b in zip(options, found, strict=True)}
        literal = await self._pick(messages, list(options), end, prior)
        if literal is not None:
            used.add(options[literal])
        return literal

    async def _span(
        self,
        messages: list[Message],
        question: str,
        bad: str | None,
        no_start: set[str],
        no_cross: set[str],
    ) -> str | None:
        grammar = span_grammar(
            question, exclude=json.loads(bad) if bad else None, no_start=no_start,
            no_cross=no_cross,
        )
        if grammar is None:
            return None
        completion = await self.model.complete(
            messages,
            constraint=GrammarConstraint(gbnf=grammar),
            settings=Settings(max_tokens=_MAX_FREE_TOKENS),
        )
        return _json_literal(completion.text)

    async def _free(self, messages: list[Message], schema: dict[str, Any]) -> str | None:
        completion = await self.model.complete(
            messages,
            constraint=JsonSchemaConstraint(schema=schema or {}),
            settings=Settings(max_tokens=_MAX_FREE_TOKENS),
        )
        return _json_literal(completion.text)


_LABEL_AFTER = r"\s*(?:\(|=|:|-|for|is|means)?\s*([A-Za-z][A-Za-z .'-]{1,40}?)\s*(?:[,;)\n]|$| or | and )"


def enum_labels(schema: dict[str, Any]) -> dict[str, list[str]]:
    """Words that name each enum value: the value, and labels the schema gives for it.

    Labels come from ``enumDescriptions`` / ``x-enum-descriptions`` (a list beside ``enum`` or a
    mapping), or from the parameter description where it writes ``VALUE label``
    (``"USD US dollar, CAD Canadian dollar"``, ``"'C' for Celsius"``).
    """
    values = schema.get("enum", [])
    labels: dict[str, list[str]] = {json.dumps(v): [str(v)] for v in values}
    given = schema.get("enumDescriptions", schema.get("x-enum-descriptions"))
    if isinstance(given, list):
        given = dict(zip(values, given, strict=False))
    if isinstance(given, dict):
        for v, label in given.items():
            if json.dumps(v) in labels and isinstance(label, str):
                labels[json.dumps(v)].append(label)
    description = str(schema.get("description", ""))
    for v in values:
        if not isinstance(v, str) or len(v) < 1:
            continue
        pattern = r"(?<![A-Za-z0-9])['\"]?" + re.escape(v) + r"['\"]?(?![A-Za-z0-9])" + _LABEL_AFTER
        for m in re.finditer(pattern, description):
            label = m.group(1).strip()
            if label and label.lower() != v.lower() and len(label.split()) <= 4:
                labels[json.dumps(v)].append(label)
                if len(label.split()) > 2:  # "British pound sterling": "British pound" too
                    labels[json.dumps(v)].append(" ".join(label.split()[:2]))
    return labels


def _is_numeric(schema: dict[str, Any]) -> bool:
    return _non_null(schema).get("type") in ("number", "integer") and "enum" not in schema


def _with_numeric_optionals(
    written: int, props: dict[str, Any], chosen: list[str]
) -> list[str]:
    """``chosen`` plus optional numeric parameters while the sentence writes more numbers
    (``written``) than the chosen ones take ("find *ten* events" fills an optional ``count``),
    in schema order."""
    spare = written - sum(_is_numeric(props[p]) for p in chosen)
    extra = set()
    for name, schema in props.items():
        if spare <= 0:
            break
        if name not in chosen and isinstance(schema, dict) and _is_numeric(schema):
            extra.add(name)
            spare -= 1
    return [p for p in props if p in chosen or p in extra]


def feasible(question: str, tool: Tool) -> bool:
    """Whether the sentence writes enough numbers for the tool's required numeric parameters.

    A tool that would have to ask for a number the user never wrote is rarely the one meant
    when another candidate fits ("is it hot in Tokyo, in fahrenheit" is not a unit conversion).
    """
    props: dict[str, Any] = tool.parameters.get("properties", {})
    needed = sum(
        1
        for name in tool.parameters.get("required", [])
        if _non_null(props.get(name, {})).get("type") in ("number", "integer")
        and "enum" not in props.get(name, {})
    )
    return needed <= len(extraction.numbers(question))


_COMMON_PARAM_WORDS = {
    "number", "value", "count", "limit", "level", "location", "format", "default", "option",
    "options", "include", "total", "result", "results", "status", "query", "search", "filter",
    "user", "detail", "details", "list", "items", "start", "price", "amount", "range", "order",
    "sort", "index", "offset", "page", "version", "language", "region", "country", "units",
}
_GENERIC_NAME_WORDS = {"get", "set", "do", "run", "make", "the", "api", "info", "data", "by", "for"}


def name_share(text: str, tool: Tool) -> float:
    """The share of the (non-generic) words of ``tool``'s name that ``text`` writes, 0..1."""
    parts = [w for w in extraction.identifier_words(tool.name) if w not in _GENERIC_NAME_WORDS]
    hay = {extraction.stem(w) for w in extraction.words(text)}
    return sum(extraction.stem(p) in hay for p in parts) / len(parts) if parts else 0.0


def lexical_match(question: str, tool: Tool) -> float:
    """How literally the sentence names ``tool``: its name's words, or one of its enum values.

    0..1 for the share of the name's (non-generic) words written, plus 1 when the sentence
    names a value of one of the tool's enum parameters ("open the *calculator*").
    """
    share = name_share(question, tool)
    props: dict[str, Any] = tool.parameters.get("properties", {})
    named = any(
        extraction.mentions(question, label)
        for schema in props.values()
        if isinstance(schema, dict) and "enum" in schema
        for values in enum_labels(schema).values()
        for label in values
        if len(label) > 2
    )
    return share + (1.0 if named else 0.0)


_TO_WORDS = {"to", "into", "in", "as", "toward", "towards"}
_FROM_WORDS = {"from", "of"}
_TARGET_PARAM = {"to", "target", "destination", "dest", "output", "end"}
_SOURCE_PARAM = {"from", "source", "origin", "src", "input", "start", "base"}


_DIRECTION_WORDS = {"to", "into", "from", "toward", "towards"}


def _role(param: str) -> str | None:
    """``target`` (to_currency, destination), ``source`` (from_unit, origin), or ``None``."""
    parts = set(extraction.identifier_words(param))
    return "target" if parts & _TARGET_PARAM else "source" if parts & _SOURCE_PARAM else None


def direction_prior(param: str, question: str, position: int, rank: int) -> float:
    """A bonus for giving a source/target parameter the value the sentence marks as such.

    ``from_currency``/``to_currency``, ``origin``/``destination``: a value written right after
    "to"/"into"/"in" is a target, after "from" a source; otherwise the earlier-written value
    leans to the source (people say "X to Y" more than "Y from X").
    """
    role = _role(param)
    if role is None:
        return 0.0
    before = [w.lower() for w in extraction.words(question)[max(0, position - 2) : position]]
    before = [w for w in before if not extraction.numbers(w)][-1:]
    marked = (
        "target" if set(before) & _TO_WORDS else "source" if set(before) & _FROM_WORDS else None
    )
    if marked is not None:
        return 6.0 if marked == role else -6.0
    return 1.0 if (rank == 0) == (role == "source") else 0.0


_NAME_WINDOW = 4
_AFTER_WINDOW = 2
_NAMED_AFTER_BONUS = 4.0
_QUOTED_BONUS = 2.0
_QUOTED_KEY = "\x00quoted"
_NAMED_BONUS = 6.0
_FIRST_BONUS = 3.0


_AS_FRACTION = re.compile(r"\b(decimal|fraction|0 ?(to|-) ?1|e\.g\. 0\.\d)", re.IGNORECASE)
_AS_PERCENT = re.compile(r"\b(percent|percentage|%)", re.IGNORECASE)


_OWNER_GAP = 24
"""Characters between a parameter's word and a quote for the quote to be that parameter's."""


def _quote_owners(
    question: str, quotes: list[extraction.Quote], params: list[str]
) -> dict[int, str]:
    """Which parameter each quote stands beside, by the quote's start: every written word of a
    parameter's name claims its nearest quote (a few characters away at most); when several
    claim one quote, the closest wins."""
    if not quotes:
        return {}
    claims: dict[int, tuple[int, str]] = {}
    for param in params:
        stems = {extraction.stem(w) for w in extraction.identifier_words(param) if len(w) > 2}
        for m in extraction.word_spans(question):
            if extraction.stem(m.group()) not in stems:
                continue
            def gap_to(q: extraction.Quote, m: re.Match[str] = m) -> int:
                return max(q.start - m.end(), m.start() - q.end, 0)

            q = min(quotes, key=gap_to)
            gap = gap_to(q)
            if gap <= _OWNER_GAP and (q.start not in claims or gap < claims[q.start][0]):
                claims[q.start] = (gap, param)
    return {start: param for start, (_gap, param) in claims.items()}


def _readings(
    n: extraction.NumberMention, integer: bool, schema: dict[str, Any], question: str
) -> list[tuple[str, float]]:
    """The JSON literals a written number can stand for, with a bonus each: "5%" is 0.05 or 5
    (a description that says "decimal" or "percentage" tells which; else the fraction leans
    ahead, as rates usually are); other numbers are themselves."""
    if integer and not n.is_integer:
        return []
    literal = n.literal(integer)
    end = n.start + len(n.text)
    if integer or not question[end : end + 2].lstrip().startswith("%"):
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
    question: str, param: str, options: list[extraction.NumberMention]
) -> list[float]:
    """A bonus per candidate number for ``param``, added to the model's log-likelihood.

    A number written right after the parameter's own words belongs to it ("net income of
    $2,000,000" fills ``net_income``), or, a little less surely, right before them ("3
    bedrooms"); else numbers are given out in the order they were written, as parameters
    usually are (the earliest unused one leans to the next parameter).
    """
    parts = {
        extraction.stem(w) for w in extraction.identifier_words(param)
        if len(w) > 2 and w not in _GENERIC_NAME_WORDS
    }
    bonus = [0.0] * len(options)
    for i, n in enumerate(options):
        before = extraction.words(question[: n.start])[-_NAME_WINDOW:]
        after = extraction.words(question[n.start + len(n.text) :])[:_AFTER_WINDOW]
        if parts & {extraction.stem(w) for w in before}:
            bonus[i] += _NAMED_BONUS
        elif parts & {extraction.stem(w) for w in after}:  # "3 bedrooms"
            bonus[i] += _NAMED_AFTER_BONUS
    if options:
        first = min(n.start for n in options)
        bonus = [b + (_FIRST_BONUS if n.start == first else 0.0)
                 for b, n in zip(bonus, options, strict=True)]
    return bonus


def _written_moments(question: str, name: str, schema: dict[str, Any]) -> list[str]:
    """The dates or times the sentence writes, in the pattern a date or time parameter wants
    ("April 25th 2023" -> "2023-04-25", "2 in the afternoon" -> "14:00"); empty for other
    parameters or when the sentence writes none."""
    schema = _non_null(schema)
    if schema.get("type") not in ("string", None) or "enum" in schema:
        return []
    day = extraction.date_format(name, schema)
    if day is not None:
        return list(dict.fromkeys(d.render(day) for d in extraction.dates(question)))
    clock = extraction.time_format(name, schema)
    if clock is not None:
        return list(dict.fromkeys(t.render(clock) for t in extraction.times(question)))
    return []


def _non_null(schema: dict[str, Any]) -> dict[str, Any]:
    """``anyOf: [X, null]`` (pydantic's Optional) seen as X."""
    options = schema.get("anyOf")
    if isinstance(options, list):
        rest = [s for s in options if isinstance(s, dict) and s.get("type") != "null"]
        if len(rest) == 1:
            return {**rest[0], **{k: v for k, v in schema.items() if k != "anyOf"}}
    return schema


def _json_literal(text: str) -> str | None:
    try:
        return json.dumps(json.loads(text))
    except ValueError:
        return None


_NO_END = {
    "a", "an", "the", "of", "in", "at", "on", "for", "to", "from", "with", "and", "or", "by",
    "that", "that's", "this", "is", "are", "was", "were", "be", "please", "it", "its", "my",
    "your", "our", "me", "i", "as", "but", "so", "if", "then", "than", "which", "who", "can",
    "could", "would", "will", "do", "does", "about", "into", "via", "using",
}
_GBNF_ESCAPE = re.compile(r'["\\\n\r\t]')


def _gbnf_literal(text: str) -> str:
    escaped = _GBNF_ESCAPE.sub(
        lambda m: {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(m.group(), "\\" + m.group()), text
    )
    return f'"{escaped}"'


def span_grammar(
    question: str,
    *,
    exclude: str | None = None,
    no_start: set[str] | None = None,
    no_cross: set[str] | None = None,
) -> str | None:
    """A GBNF grammar whose strings are the JSON-quoted spans of consecutive words of ``question``.

    Separators between words are kept as written (``Paris, France``), minus quotes and escapes.
    A span may not start with a word of ``no_start`` (lower case) nor with the first word of
    ``exclude`` (a value that failed), unless that leaves no start at all; it never holds a
    word of ``no_cross`` ("to" in a source currency: "British pounds to yen" is two values),
    nor an "and" between a name and a lower-case word ("David Leitch and acted by ..."), and
    it does not end on a function word ("Portland, that's", "the weather in") unless it
    cannot go on to a better end.
    """
    matches = list(extraction._WORD.finditer(question))
    if not matches:
        return None
    tokens = [json.dumps(m.group())[1:-1] for m in matches]
    seps = [
        re.sub(r'["\\\n\r\t]', " ", question[a.end() : b.start()]) or " "
        for a, b in itertools.pairwise(matches)
    ]
    walls = {w.lower() for w in (no_cross or set())}
    inside = [m.group().lower() not in walls for m in matches]
    for i in range(1, len(matches) - 1):  # "Leitch and acted by": a name ends, a clause starts
        before, word, after = (matches[j].group() for j in (i - 1, i, i + 1))
        if word.lower() in ("and", "but") and before[:1].isupper() and after[:1].islower():
            inside[i] = False
    n = len(tokens)
    goes_on = [i < n - 1 and inside[i + 1] for i in range(n)]
    ends = [m.group().lower() not in _NO_END for m in matches]
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
        banned |= {w.lower() for w in extraction.words(exclude)[:1]}
    allowed = [i for i, m in enumerate(matches) if m.group().lower() not in banned]
    starts = " | ".join(f"s{i}" for i in (allowed or range(len(tokens))))
    return "root ::= \"\\\"\" (" + starts + ") \"\\\"\"\n" + "\n".join(rules)
