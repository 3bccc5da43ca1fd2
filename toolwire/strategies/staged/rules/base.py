"""What a staged rule is: one named unit with its what, why and example, the stages it acts in,
and the functions it acts with (its hooks), each a no-op when the rule does not have it.

    Rule(name="number_priors", what=..., why=..., example=..., stages=(Stage.VALUE,),
         number_prior=number_prior)

A stage asks every rule that is on for its part (``Filler`` asks each for ``mentioned``,
``number_bonus``, ...; ``candidate_evidence`` for ``feature_values``), so a rule is added by
writing its object in its stage's module (``mention.py``, ``value.py``, ...), not by threading a
switch through the stage. A hook's answer is *neutral* when it is what the stage would have
without the rule (no mention, a zero bonus, no options, the feature's ``neutral`` value); every
other answer marks the rule as having *fired* in the active :func:`tracing` (``bench/ablate.py``
reads that: a rule that never fired on a question cannot have changed its answer).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, cast

from toolwire.text.mentions import NumberMention
from toolwire.text.reading import Reading
from toolwire.tools.registry import Tool


class Stage(StrEnum):
    """Where in ``StagedStrategy.propose`` a rule acts, in the order of the path."""

    GATE = "gate"
    """Whether the sentence wants a call at all (``strategy.py``)."""
    SETTLE = "settle"
    """A call the sentence settles by itself, before selection (``strategy.py``)."""
    SELECT = "select"
    """A feature of each candidate for the selection model (``choice.py``)."""
    SPLIT = "split"
    """How many calls the sentence asks for, and from which part of it (``strategy.py``)."""
    MENTION = "mention"
    """Which parameters the call fills: optional ones only when mentioned (``fill.py``)."""
    VALUE = "value"
    """Which value a parameter takes (``fill.py``)."""


@dataclass(frozen=True, kw_only=True)
class ValueAsk:
    """What a value rule is asked about: one parameter of one call being filled."""

    reading: Reading
    tool: Tool
    name: str
    schema: dict[str, Any]
    """The parameter's schema, ``anyOf [X, null]`` already seen as X."""
    kind: Any
    """Its one JSON type (of a list of types, the one filled)."""
    bad: str | None
    """A JSON literal that failed validation (a repair avoids it)."""
    taken: set[str]
    """Literals this rule gave earlier parameters of the same call (the rule's own)."""
    params: list[str]
    """Every parameter of the tool, in schema order."""


Mentions = Callable[[Reading, str, dict[str, Any]], bool]
Features = Callable[[Reading, Tool], Mapping[str, float]]
Params = Callable[[Reading, dict[str, Any], list[str]], list[str]]
Offer = Callable[[ValueAsk], list[str]]
Passages = Callable[[ValueAsk], dict[str, float]]
NumberPrior = Callable[[Reading, str, list[NumberMention]], list[float]]
EnumPrior = Callable[[str, Reading, int, int], float]
Walls = Callable[[str], frozenset[str]]
Pairs = Callable[[str], bool]
Form = Callable[[ValueAsk, str], str]


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One heuristic of the staged strategy: a name (its switch in ``StagedRules``), what it
    does and why, a sentence it acts on, the stages it acts in, and its hooks."""

    name: str
    what: str
    why: str
    example: str
    """A sentence (with the tool it is asked of) where the rule changes the answer."""
    stages: tuple[Stage, ...]
    decides: tuple[str, ...] = ()
    """``module:function`` references of the decisions it makes in ``strategy.py`` (settlers,
    splitters, the gate), asked by their last name (``StagedRules.decide``) and resolved on
    use (their modules import the filler); a method takes its object first."""
    mentions: Mentions | None = None
    """MENTION: whether the sentence mentions an optional parameter (name, schema)."""
    params: Params | None = None
    """MENTION: the parameters to fill, given those mentioned (in schema order)."""
    features: Features | None = None
    """SELECT: named features of a candidate; with the rule off each is ``neutral``'s."""
    neutral: Mapping[str, float] = field(default_factory=dict)
    offer: Offer | None = None
    """VALUE: JSON literals the parameter takes, chosen among by the model before any typed
    choice; none: the next rule, then the typed choice."""
    passages: Passages | None = None
    """VALUE: quoted passages offered beside a string's span, each with its prior."""
    number_prior: NumberPrior | None = None
    """VALUE: a bonus per candidate number, added to the model's log-likelihood."""
    enum_prior: EnumPrior | None = None
    """VALUE: a bonus for a named enum value (param, reading, its position, its rank)."""
    walls: Walls | None = None
    """VALUE: words a string span for the parameter may not cross."""
    pairs: Pairs | None = None
    """VALUE: whether the parameter is one of a pair whose two values differ."""
    form: Form | None = None
    """VALUE: the chosen JSON literal rewritten in the form the parameter's description asks
    for ("Chicago" -> "Chicago, IL"), whichever stage or rule chose it."""

    def explain(self) -> str:
        """What ``toolwire rules explain NAME`` prints."""
        where = ", ".join(s.value for s in self.stages)
        lines = [f"{self.name} ({where})", f"What: {self.what}", f"Why: {self.why}",
                 f"Example: {self.example}"]
        acts = [*self.decides, *(f"{h}: {_qualname(f)}" for h, f in self.hooks().items())]
        if acts:
            lines.append("Acts with: " + "; ".join(acts))
        return "\n".join(lines)

    def hooks(self) -> dict[str, Callable[..., Any]]:
        """The hooks the rule has, by name."""
        names = ("mentions", "params", "features", "offer", "passages", "number_prior",
                 "enum_prior", "walls", "pairs", "form")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}

    # -- what the stages call (each neutral without the hook; a non-neutral answer fires) ----
    def mentioned(self, reading: Reading, name: str, schema: dict[str, Any]) -> bool:
        return self._fires(self.mentions is not None and self.mentions(reading, name, schema))

    def chosen(self, reading: Reading, props: dict[str, Any], chosen: list[str]) -> list[str]:
        if self.params is None:
            return chosen
        out = self.params(reading, props, chosen)
        self._fires(out != chosen)
        return out

    def feature_values(self, reading: Reading, tool: Tool) -> Mapping[str, float]:
        if self.features is None:
            return self.neutral
        out = self.features(reading, tool)
        self._fires(any(out[k] != v for k, v in self.neutral.items()))
        return out

    def offered(self, ask: ValueAsk) -> list[str]:
        out = self.offer(ask) if self.offer is not None else []
        self._fires(bool(out))
        return out

    def passages_for(self, ask: ValueAsk) -> dict[str, float]:
        out = self.passages(ask) if self.passages is not None else {}
        self._fires(bool(out))
        return out

    def number_bonus(self, reading: Reading, name: str, numbers: list[NumberMention]
                     ) -> list[float]:
        if self.number_prior is None:
            return [0.0] * len(numbers)
        out = self.number_prior(reading, name, numbers)
        self._fires(any(out))
        return out

    def enum_bonus(self, name: str, reading: Reading, position: int, rank: int) -> float:
        out = self.enum_prior(name, reading, position, rank) if self.enum_prior else 0.0
        self._fires(out != 0.0)
        return out

    def span_walls(self, name: str) -> frozenset[str]:
        out = self.walls(name) if self.walls is not None else frozenset()
        self._fires(bool(out))
        return out

    def paired(self, name: str) -> bool:
        return self._fires(self.pairs is not None and self.pairs(name))

    def formed(self, ask: ValueAsk, literal: str) -> str:
        out = self.form(ask, literal) if self.form is not None else literal
        self._fires(out != literal)
        return out

    def decision(self, name: str) -> Callable[..., Any]:
        """The decision called ``name`` (the last part of one of its ``decides``: "converter",
        "verdict" for ``StagedStrategy.verdict``); ``KeyError`` for one it does not make."""
        for reference in self.decides:
            if reference.rpartition(".")[2].rpartition(":")[2] == name:
                return _resolve(reference)
        raise KeyError(f"rule {self.name} makes no decision {name!r}")

    def decide(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Make the decision called ``name`` on ``args``; a truthy answer (a call, segments,
        a verdict) fires the rule."""
        return self._fires_on(self.decision(name)(*args, **kwargs))

    async def adecide(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """:meth:`decide` for a decision that is a coroutine function."""
        made = cast(Callable[..., Awaitable[Any]], self.decision(name))
        return self._fires_on(await made(*args, **kwargs))

    def _fires(self, acted: bool) -> bool:
        if acted:
            fired(self.name)
        return acted

    def _fires_on(self, answer: Any) -> Any:
        self._fires(bool(answer))
        return answer


@functools.cache
def _resolve(reference: str) -> Callable[..., Any]:
    """The function ``module:attr.path`` names, imported on first use and kept: every
    ``decide`` asks for it, on the path of every sentence."""
    module, _, attr = reference.partition(":")
    target: Any = importlib.import_module(module)
    for part in attr.split("."):
        target = getattr(target, part)
    return cast(Callable[..., Any], target)


def _qualname(function: Callable[..., Any]) -> str:
    module = getattr(function, "__module__", "") or ""
    return f"{module}:{getattr(function, '__qualname__', repr(function))}"


_FIRED: ContextVar[set[str] | None] = ContextVar("staged_rules_fired", default=None)


@contextmanager
def tracing() -> Iterator[set[str]]:
    """Collect the names of the rules that fire inside the block (its tasks included)."""
    seen: set[str] = set()
    token = _FIRED.set(seen)
    try:
        yield seen
    finally:
        _FIRED.reset(token)


def fired(name: str) -> None:
    """Record that rule ``name`` acted (changed something) in the active :func:`tracing`."""
    seen = _FIRED.get()
    if seen is not None:
        seen.add(name)
