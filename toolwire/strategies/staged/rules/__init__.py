"""The staged strategy's heuristics as units: one :class:`Rule` each (a name, what it does and
why, an example, the stages it acts in and its hooks), in one table, :data:`RULES`, and
:class:`StagedRules`, the switch set that ``EngineConfig.rules`` carries.

    EngineConfig(rules=StagedRules(quoted_passages=False))
    toolwire rules list / toolwire rules explain quoted_passages

The rules are written in their stage's module (``gate``, ``settle``, ``select``, ``split``,
``mention``, ``value``); each stage asks every rule that is on for its part, in the table's
order (``fill.Filler``, ``choice.candidate_evidence``). ``bench/ablate.py`` measures what each
is worth on BFCL's tuning split and the everyday sentences' (``--everyday``), and
docs/accuracy.md publishes the table; a rule worth less than one question is deleted.

Adding a rule: its object in its stage's module, its switch below (a typed field, so that
``StagedRules(x=False)`` and ``rules.x`` type-check), and its fixture in
``tests/unit/test_staged_rules.py``; a test checks that the switches and the table agree.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from toolwire.strategies.staged.rules import gate, mention, select, settle, split, value
from toolwire.strategies.staged.rules.base import Rule, Stage, ValueAsk, fired, tracing

RULES: tuple[Rule, ...] = (
    *gate.RULES, *settle.RULES, *select.RULES, *split.RULES, *mention.RULES, *value.RULES,
)
"""Every rule, in the order of the path (the order each stage asks them in)."""

BY_NAME: dict[str, Rule] = {r.name: r for r in RULES}


def rule(name: str) -> Rule:
    """The rule called ``name`` (``KeyError`` for an unknown one)."""
    return BY_NAME[name]


@dataclass(kw_only=True, frozen=True)
class StagedRules:
    """Which rules are on (all by default). Each field is the switch of the rule of that name in
    :data:`RULES`, where its what, why and example are."""

    relevance_gate: bool = True
    calibrated_relevance: bool = True
    arithmetic: bool = True
    followups: bool = True
    conversion_pairs: bool = True
    literal_selection: bool = True
    feasibility: bool = True
    function_segments: bool = True
    number_segments: bool = True
    listed_items: bool = True
    distinctive_mentions: bool = True
    numeric_optionals: bool = True
    whole_places: bool = True
    written_moments: bool = True
    number_priors: bool = True
    quoted_passages: bool = True
    direction_walls: bool = True
    stated_cities: bool = True
    initial_letters: bool = True
    cities_alone: bool = True
    listed_values: bool = True
    listed_strings: bool = True
    described_choices: bool = True

    @classmethod
    def names(cls) -> list[str]:
        """Every rule's name, in the table's order."""
        return [r.name for r in RULES]

    @classmethod
    def explain(cls, name: str) -> str:
        """A rule's what and why, in one line (``KeyError`` for an unknown one)."""
        r = rule(name)
        return f"{r.what} Why: {r.why}"

    def active(self) -> list[Rule]:
        """The rules that are on, in the table's order."""
        return [r for r in RULES if getattr(self, r.name)]

    def decide(self, name: str, decision: str, *args: Any, default: Any = None,
               **kwargs: Any) -> Any:
        """Rule ``name``'s decision called ``decision`` (one of its ``decides``) on ``args``
        when the rule is on, else ``default``: how ``strategy.py`` asks the gate, a settler or
        a splitter, so that it holds no switch of its own and the trace sees the rule act.

            rules.decide("arithmetic", "arithmetic_call", reading, hits)
        """
        unit = _deciding(name, decision)
        return unit.decide(decision, *args, **kwargs) if getattr(self, name) else default

    async def adecide(self, name: str, decision: str, *args: Any, default: Any = None,
                      **kwargs: Any) -> Any:
        """:meth:`decide` for a decision that is a coroutine function (``listed_calls``)."""
        unit = _deciding(name, decision)
        return await unit.adecide(decision, *args, **kwargs) if getattr(self, name) else default

    def off(self, *names: str) -> StagedRules:
        """These switches with ``names`` turned off."""
        unknown = set(names) - set(BY_NAME)
        if unknown:
            raise KeyError(", ".join(sorted(unknown)))
        return StagedRules(**{f.name: getattr(self, f.name) and f.name not in names
                              for f in fields(self)})


def _deciding(name: str, decision: str) -> Rule:
    """Rule ``name``, which makes ``decision`` (``KeyError`` otherwise, the rule on or off)."""
    unit = rule(name)
    unit.decision(decision)
    return unit


__all__ = ["BY_NAME", "RULES", "Rule", "Stage", "StagedRules", "ValueAsk", "fired", "rule",
           "tracing"]
