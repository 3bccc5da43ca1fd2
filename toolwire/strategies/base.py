"""The Strategy protocol: how a model turns one sentence into calls, and mends a call.

    strategy = strategy_for("auto", model, ...)        # staged, native or plain
    proposal = await strategy.propose(turn)            # calls, text, missing values
    fixed = await strategy.repair(turn, tool, call, errors)

The pipeline never asks which strategy it runs. A strategy holds no per-call state: what one
sentence needs lives in the ``Turn`` and the ``Proposal``, so one strategy serves any number of
runs at once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal, Protocol

from toolwire.messages import Message, ToolCallRequest
from toolwire.retrieval.index import Hit
from toolwire.tools.registry import Tool

StrategyName = Literal["auto", "staged", "native", "plain"]
"""``auto`` picks ``staged`` for grammar-capable models, ``native`` for tool-calling ones."""


@dataclass(kw_only=True)
class Turn:
    """What one run works on."""

    question: str
    history: list[Message]
    hits: list[Hit[Tool]] = field(default_factory=list)
    """The retrieved candidates, best first."""
    tool_choice: str = "auto"
    """``auto``, ``none``, ``required`` or a tool name."""

    @property
    def candidates(self) -> list[Tool]:
        return [h.tool for h in self.hits]


@dataclass(kw_only=True)
class Proposal:
    """What a strategy proposes for a sentence."""

    calls: list[ToolCallRequest] = field(default_factory=list)
    text: str = ""
    """The model's own words (the answer when it asks for no call)."""
    missing: list[str] = field(default_factory=list)
    """Required values the sentence lacks (the answer asks for them)."""
    chosen: str | None = None
    """The tool chosen, named when values are missing."""
    gated: bool = False
    """No candidate was relevant enough to call."""


class Strategy(Protocol):
    """Proposes the calls for a sentence and repairs a call whose arguments failed."""

    async def propose(self, turn: Turn) -> Proposal:
        """The calls ``turn.question`` asks for among ``turn.candidates``."""
        ...

    async def repair(
        self, turn: Turn, tool: Tool, call: ToolCallRequest, errors: list[str]
    ) -> ToolCallRequest | None:
        """A corrected ``call`` given its validation ``errors``, or ``None``."""
        ...


def new_call_id() -> str:
    return "call_" + uuid.uuid4().hex[:24]


def relevance(hit: Hit[Tool]) -> float:
    """How relevant a retrieved tool is to the sentence, on a scale the threshold is tuned on."""
    return float(hit.score)
