"""The staged strategy as the pipeline sees it: gate, select, cut into calls, fill, repair.

1. the relevance gate: no call when the calibrated model (``relevance.py``) finds no call
   likely enough, or, without embedding scores, when no candidate reaches
   ``relevance_threshold`` (the lower ``named_relevance_threshold`` for a tool the sentence
   names);
2. the function is selected (``select.py``: calibrated evidence, and the model's choice when
   that leaves it open);
3. a sentence naming several functions, or writing one function's numbers once per call, is
   cut into segments (``segments.py``), each filled on its own;
4. each call's arguments are filled (``caller.StagedCaller.fill``); a required value the
   sentence lacks is reported missing, never invented;
5. a call whose arguments fail validation is refilled, avoiding the values that failed.

Every fill gets its own ``StagedCaller`` (which keeps what one fill has used), so the strategy
itself holds no per-call state.
"""

from __future__ import annotations

from typing import Any

from toolwire.messages import ToolCallRequest
from toolwire.models.base import Model
from toolwire.strategies.base import Proposal, Turn, new_call_id, relevance
from toolwire.strategies.staged.fill import Fill, Filler
from toolwire.strategies.staged.followup import followup_call, with_previous_result
from toolwire.strategies.staged.matching import lexical_match
from toolwire.strategies.staged.relevance import RelevanceModel
from toolwire.strategies.staged.rules import StagedRules
from toolwire.strategies.staged.segments import more_calls, number_sets, tool_segments
from toolwire.strategies.staged.select import select
from toolwire.strategies.staged.settled import arithmetic_call, converter, place_feasible
from toolwire.text.conversions import conversion
from toolwire.tools.registry import Tool


class StagedStrategy:
    """Select + fill, stage by stage, for grammar-capable (local) models."""

    def __init__(
        self,
        model: Model,
        *,
        relevance_threshold: float,
        named_relevance_threshold: float,
        rules: StagedRules | None = None,
        relevance_model: RelevanceModel | None = None,
    ) -> None:
        self.model = model
        self.rules = rules or StagedRules()
        self._relevance_model = relevance_model
        self.relevance_threshold = relevance_threshold
        self.named_relevance_threshold = named_relevance_threshold

    async def propose(self, turn: Turn) -> Proposal:
        if not turn.hits:
            return Proposal()
        settled = arithmetic_call(turn.question, turn.hits) if self.rules.arithmetic else None
        if settled is None and self.rules.followups:
            settled = followup_call(turn.question, turn.history, turn.hits)
        if settled is None and self.rules.followups and self.rules.arithmetic:
            resolved = with_previous_result(turn.question, turn.history)  # "divide that by 8"
            settled = arithmetic_call(resolved, turn.hits) if resolved is not None else None
        if settled is not None:  # a sum computed, a follow-up of the last call
            tool, arguments = settled
            return Proposal(calls=[_request(tool, arguments)], chosen=tool.name)
        reading = conversion(turn.question) if self.rules.conversion_pairs else None
        chosen = converter(reading, turn.hits)
        if chosen is None and not self.relevant(turn):
            return Proposal(gated=True)
        tool = chosen or (await select(
            self.model, turn.question, turn.hits, turn.history, rules=self.rules
        ))[0]
        parts = (
            tool_segments(turn.question, tool, turn.candidates)
            if self.rules.function_segments and chosen is None else []
        )
        if parts:  # clauses that name different functions: each its own calls
            calls: list[ToolCallRequest] = []
            for part_tool, text in parts:
                made, missing = await self._calls_for(turn, part_tool, text)
                if missing:
                    break
                calls += made
            else:
                return Proposal(calls=calls, chosen=tool.name)
        calls, missing = await self._calls_for(turn, tool, turn.question)
        return Proposal(calls=calls, missing=missing, chosen=tool.name)

    def relevant(self, turn: Turn) -> bool:
        """Whether the best candidate is relevant enough to call anything."""
        if not turn.hits:
            return False
        if turn.tool_choice != "auto" or not self.rules.relevance_gate:
            return True
        if self.rules.whole_places and place_feasible(turn.question, turn.hits[0]):
            return True
        if self.rules.calibrated_relevance:
            model = self._relevance_model or RelevanceModel.shipped()
            decided = model.relevant(turn.question, turn.hits)
            if decided is not None:
                return decided
        if max(relevance(h) for h in turn.hits) >= self.relevance_threshold:
            return True
        return any(
            relevance(h) >= self.named_relevance_threshold
            and lexical_match(turn.question, h.tool) >= 1.0
            for h in turn.hits
        )

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
        fill = await self._fill(turn, tool, turn.question, avoid=avoid, keep=keep)
        return ToolCallRequest(id=call.id, name=tool.name, arguments=fill.arguments)

    async def _calls_for(
        self, turn: Turn, tool: Tool, text: str
    ) -> tuple[list[ToolCallRequest], list[str]]:
        """The calls of ``tool`` that ``text`` asks for, or the required values it lacks."""
        segments = number_sets(text, tool) if self.rules.number_segments else None
        if segments:  # the sentence writes the function's numbers once per call
            fills = [await self._fill(turn, tool, s) for s in segments]
            if not any(f.missing for f in fills):
                return [_request(tool, f.arguments) for f in fills], []
        fill = await self._fill(turn, tool, text)
        if fill.missing:
            return [], fill.missing
        extra = more_calls(text, tool, fill.arguments) if self.rules.more_calls else []
        arguments = [fill.arguments, *extra]
        return [_request(tool, a) for a in arguments], []

    async def _fill(
        self,
        turn: Turn,
        tool: Tool,
        text: str,
        *,
        avoid: dict[str, Any] | None = None,
        keep: dict[str, Any] | None = None,
    ) -> Fill:
        return await Filler(self.model, self.rules).fill(
            text, tool, turn.candidates or [tool], turn.history, avoid=avoid, keep=keep
        )


def _request(tool: Tool, arguments: dict[str, Any]) -> ToolCallRequest:
    return ToolCallRequest(id=new_call_id(), name=tool.name, arguments=arguments)
