"""The staged strategy as the pipeline sees it: gate, select, cut into calls, fill, repair.

1. the relevance gate: no call when the calibrated model (``relevance.py``) finds no call
   likely enough, or, without embedding scores, when no candidate reaches
   ``relevance_threshold`` (the lower ``named_relevance_threshold`` for a tool the sentence
   names);
2. the function is selected (``select.py``: the fitted model over each candidate's calibrated
   evidence); when the calibrated evidence for the call is weak (its ``confidence`` below
   ``clarify_below``) no call is made and the answer asks which of the best candidates the
   sentence means (``Proposal.clarify``);
3. a sentence naming several functions, or writing one function's numbers once per call, is
   cut into segments (``segments.py``), each filled on its own;
4. each call's arguments are filled (``caller.StagedCaller.fill``); a required value the
   sentence lacks is reported missing, never invented;
5. a call whose arguments fail validation is refilled, avoiding the values that failed.

Every stage reads the sentence from ``turn.reading`` (made once per turn), and a segment is a
part of that reading. Every fill gets its own ``Filler`` (which keeps what one fill has used),
so the strategy itself holds no per-call state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from toolwire.messages import ToolCallRequest
from toolwire.models.base import Model
from toolwire.store.history import estimate_tokens
from toolwire.strategies.base import Proposal, Turn, new_call_id, relevance
from toolwire.strategies.staged.fill import Fill, Filler
from toolwire.strategies.staged.matching import lexical_match
from toolwire.strategies.staged.prompts import call_prompt
from toolwire.strategies.staged.relevance import RelevanceModel
from toolwire.strategies.staged.rules import StagedRules
from toolwire.strategies.staged.select import select
from toolwire.strategies.staged.values import Filling
from toolwire.text.reading import Reading, read
from toolwire.tools.registry import Tool

CLARIFY_BELOW = 0.32
"""The default ``clarify_below`` (see ``EngineConfig.clarify_below``), fitted on BFCL's tuning
split by ``bench/clarify.py`` (``docs/clarify.json``)."""
CLARIFY_NAMES = 3
"""The most candidates a clarifying question names."""
CLARIFY_SHARE = 0.25
"""A candidate is named when its selection probability is at least this share of the best's."""


@dataclass(kw_only=True)
class Choice:
    """Which tool the sentence asks for, before any argument is filled."""

    tool: Tool | None = None
    """``None``: no call (no candidates, turned away by the gate, or unsure which)."""
    arguments: dict[str, Any] | None = None
    """The whole call's arguments, when a rule settled them (a sum, a follow-up)."""
    ruled: bool = False
    """A rule chose the tool (a sum, a follow-up, a conversion's pair), not the evidence."""
    gated: bool = False
    relevance: float | None = None
    """The calibrated probability that the sentence wants a call, where that model judged."""
    confidence: float | None = None
    """How likely a call of ``tool`` is what the sentence wants, by the calibrated models: the
    relevance probability times the selection probability of ``tool`` (see
    :meth:`StagedStrategy.confidence`); ``None`` where no calibrated model judged."""
    weights: Mapping[str, float] = field(default_factory=dict)
    """Each candidate's selection weight (probabilities where the fitted model chose)."""
    clarify: list[str] = field(default_factory=list)
    """The candidates to ask about, when ``confidence`` is below ``clarify_below``."""


class StagedStrategy:
    """Select + fill, stage by stage, for grammar-capable (local) models."""

    reads_scores: ClassVar[bool] = True

    @classmethod
    def shown_tokens(cls, tools: Sequence[Tool], k: int) -> int:
        """Its one prompt: filling one tool's call (its signature and parameter notes); the
        candidates are chosen among without a prompt."""
        return max((estimate_tokens(call_prompt(t)) for t in tools), default=0)

    def __init__(
        self,
        model: Model,
        *,
        relevance_threshold: float,
        named_relevance_threshold: float,
        rules: StagedRules | None = None,
        relevance_model: RelevanceModel | None = None,
        clarify_below: float = 0.0,
    ) -> None:
        self.model = model
        self.rules = rules or StagedRules()
        self._relevance_model = relevance_model
        self.relevance_threshold = relevance_threshold
        self.named_relevance_threshold = named_relevance_threshold
        self.clarify_below = clarify_below

    async def propose(self, turn: Turn) -> Proposal:
        turn = self.resolved(turn)
        proposal = await self._proposed(turn)
        return replace(proposal, calls=[self._formed(turn, call) for call in proposal.calls])

    def _formed(self, turn: Turn, call: ToolCallRequest) -> ToolCallRequest:
        """``call`` with its values in the form the descriptions ask for (VALUE rules'
        ``form``), once its calls are made."""
        tool = next((t for t in turn.candidates if t.name == call.name), None)
        if tool is None:
            return call
        formed = Filler(self.model, self.rules).formed(turn.reading, tool, call.arguments)
        return call if formed == call.arguments else replace(call, arguments=formed)

    async def _proposed(self, turn: Turn) -> Proposal:
        choice = await self.choose(turn)
        tool = choice.tool
        if tool is None:
            return Proposal(gated=choice.gated, clarify=choice.clarify)
        if choice.arguments is not None:  # a sum computed, a follow-up of the last call
            return Proposal(calls=[_request(tool, choice.arguments)], chosen=tool.name)
        parts = [] if choice.ruled else self.rules.decide(
            "function_segments", "tool_segments", turn.reading, tool, turn.candidates, default=[])
        if parts:  # clauses that name different functions: each its own calls
            calls: list[ToolCallRequest] = []
            for part_tool, part in parts:
                made, missing = await self._calls_for(turn, part_tool, part, extra=False)
                if missing:
                    break
                calls += made
            else:
                return Proposal(calls=calls, chosen=tool.name)
        calls, missing = await self._calls_for(turn, tool, turn.reading)
        return Proposal(calls=calls, missing=missing, chosen=tool.name)

    async def choose(self, turn: Turn) -> Choice:
        """The tool ``turn`` asks for: settled by a rule, else past the gate and selected by
        the evidence; none when the gate turns the sentence away or, the evidence for the
        call weak, it is better asked which candidate is meant."""
        if not turn.hits:
            return Choice()
        settled = self.settled(turn)
        if settled is not None:
            return Choice(tool=settled[0], arguments=settled[1], ruled=True)
        chosen = self.rules.decide("conversion_pairs", "converter", turn.reading, turn.hits)
        if chosen is not None:
            return Choice(tool=chosen, ruled=True)
        relevant, probability = self.gate(turn)
        if not relevant:
            return Choice(gated=True)
        tool, weights = select(turn.reading, turn.hits, rules=self.rules)
        confidence = self.confidence(turn, probability, weights[tool.name])
        if confidence is not None and confidence < self.clarify_below:
            return Choice(relevance=probability, confidence=confidence, weights=weights,
                          clarify=clarify_names(weights))
        return Choice(tool=tool, relevance=probability, confidence=confidence, weights=weights)

    def resolved(self, turn: Turn) -> Turn:
        """``turn`` with a "there" that points back written as the previous call's place
        ("how's the weather there" after the time in Sydney: "how's the weather in Sydney"),
        where the follow-ups rule is on; else ``turn`` itself."""
        if not turn.history:
            return turn
        text = self.rules.decide("followups", "with_previous_place", turn.reading, turn.history)
        return turn if text is None else replace(turn, question=text)

    def settled(self, turn: Turn) -> tuple[Tool, dict[str, Any]] | None:
        """The call the sentence settles by itself: a sum to compute, a follow-up of the last
        call (its arguments, or "divide that by 8")."""
        rules = self.rules
        settled: tuple[Tool, dict[str, Any]] | None = rules.decide(
            "arithmetic", "arithmetic_call", turn.reading, turn.hits)
        if settled is None:
            settled = rules.decide("followups", "followup_call", turn.reading, turn.history,
                                   turn.hits)
        if settled is None:  # "divide that by 8": the sum of the previous result
            resolved = rules.decide("followups", "with_previous_result", turn.reading,
                                    turn.history)
            if resolved is not None:
                settled = rules.decide("arithmetic", "arithmetic_call", read(resolved),
                                       turn.hits)
        return settled

    def relevant(self, turn: Turn) -> bool:
        """Whether the best candidate is relevant enough to call anything."""
        return self.gate(turn)[0]

    def gate(self, turn: Turn) -> tuple[bool, float | None]:
        """Whether the best candidate is relevant enough to call anything, and the calibrated
        probability of a call where the calibrated model decided it (else ``None``: a forced
        ``tool_choice``, the gate off, a place the sentence names, keyword-only retrieval)."""
        if not turn.hits:
            return False, None
        if turn.tool_choice != "auto":
            return True, None
        verdict = self.rules.decide("relevance_gate", "verdict", self, turn)
        return (True, None) if verdict is None else verdict

    def verdict(self, turn: Turn) -> tuple[bool, float | None] | None:
        """The relevance gate's verdict where it acts: the sentence turned away, or judged by
        the calibrated model (whose probability feeds the clarifying question); ``None`` where
        it lets the sentence pass unjudged (a place it names, a relevance that reaches the
        thresholds), as it would without the gate."""
        if self.rules.decide("whole_places", "place_feasible", turn.reading, turn.hits[0]):
            return None
        judged: tuple[bool, float] | None = self.rules.decide(
            "calibrated_relevance", "calibrated", self, turn)
        if judged is not None:
            return judged
        return None if self._reaches_thresholds(turn) else (False, None)

    def calibrated(self, turn: Turn) -> tuple[bool, float] | None:
        """The calibrated model's verdict (``relevance.py``) and its probability of a call;
        ``None`` where it cannot judge (it reads embedding scores, which a keyword-only
        index lacks)."""
        model = self._relevance_model or RelevanceModel.shipped()
        probability = model.judge(turn.reading, turn.hits)
        return None if probability is None else (probability >= model.threshold, probability)

    def _reaches_thresholds(self, turn: Turn) -> bool:
        """The gate without the calibrated model: a candidate's relevance reaches
        ``relevance_threshold``, or the lower ``named_relevance_threshold`` for a tool the
        sentence names."""
        if max(relevance(h) for h in turn.hits) >= self.relevance_threshold:
            return True
        return any(
            relevance(h) >= self.named_relevance_threshold
            and lexical_match(turn.reading, h.tool) >= 1.0
            for h in turn.hits
        )

    def confidence(self, turn: Turn, relevant: float | None, selected: float) -> float | None:
        """How likely the call is what the sentence wants: the calibrated probability that it
        wants a call (``relevant``) times the calibrated probability that the selected tool is
        the one meant (``selected``; 1 for a lone candidate). ``None`` where the relevance
        model did not judge (a forced choice, the gate off, keyword-only retrieval)."""
        return None if relevant is None else relevant * selected

    async def repair(
        self, turn: Turn, tool: Tool, call: ToolCallRequest, errors: list[str]
    ) -> ToolCallRequest | None:
        """Refill the call: the parameters that failed avoid their values, the others keep
        theirs (an object-level error refills everything)."""
        bad = {e.split(":", 1)[0].split(".", 1)[0] for e in errors}
        avoid = {k: v for k, v in call.arguments.items() if k in bad}
        keep = {k: v for k, v in call.arguments.items() if k not in bad}
        if "(arguments)" in bad:  # an object-level error (missing/extra keys): refill all
            avoid, keep = {}, {}
        fill = await self._fill(turn, tool, turn.reading, avoid=avoid, keep=keep)
        arguments = Filler(self.model, self.rules).formed(turn.reading, tool, fill.arguments)
        return ToolCallRequest(id=call.id, name=tool.name, arguments=arguments)

    async def _calls_for(
        self, turn: Turn, tool: Tool, text: Reading, *, extra: bool = True
    ) -> tuple[list[ToolCallRequest], list[str]]:
        """The calls of ``tool`` that ``text`` (the sentence or a segment) asks for, or the
        required values it lacks; a segment (``extra`` off) asks for no more calls than its
        parts and lists say."""
        segments = self.rules.decide("number_segments", "number_sets", text, tool)
        listed = await self.rules.adecide(
            "listed_items", "listed_calls", text, tool, self._filling(turn, tool),
            sets=len(segments or ()), segment=not extra)
        if listed:  # "Also, ...", "the first ... the second ...": a call per part
            return [_request(tool, a) for a in listed], []
        if segments:  # the sentence writes the function's numbers once per call
            fills = [await self._fill(turn, tool, s) for s in segments]
            if not any(f.missing for f in fills):
                return [_request(tool, f.arguments) for f in fills], []
        fill = await self._fill(turn, tool, text)
        if fill.missing:
            return [], fill.missing
        listed = await self.rules.adecide(
            "listed_items", "value_calls", text, tool, fill.arguments, self._filling(turn, tool))
        if listed:  # "Persian Empire and Mauryan Empire": a call per listed value
            return [_request(tool, a) for a in listed], []
        return [_request(tool, fill.arguments)], []

    def _filling(self, turn: Turn, tool: Tool) -> Filling:
        """Fills ``tool``'s call from a text of its own (an item of a listing)."""
        return lambda text: self._fill(turn, tool, text)

    async def _fill(
        self,
        turn: Turn,
        tool: Tool,
        text: Reading,
        *,
        avoid: dict[str, Any] | None = None,
        keep: dict[str, Any] | None = None,
    ) -> Fill:
        return await Filler(self.model, self.rules).fill(
            text, tool, turn.candidates or [tool], turn.history, avoid=avoid, keep=keep
        )


def _request(tool: Tool, arguments: dict[str, Any]) -> ToolCallRequest:
    return ToolCallRequest(id=new_call_id(), name=tool.name, arguments=arguments)


def clarify_names(weights: Mapping[str, float]) -> list[str]:
    """The candidates a clarifying question names: the likeliest, and up to
    ``CLARIFY_NAMES - 1`` others at least ``CLARIFY_SHARE`` as likely."""
    ranked = sorted(weights, key=lambda name: -weights[name])
    top = weights[ranked[0]]
    return [n for n in ranked if weights[n] >= CLARIFY_SHARE * top][:CLARIFY_NAMES]
