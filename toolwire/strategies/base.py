"""The Strategy protocol: how a model turns one sentence into calls, and mends a call.

    strategy = strategy_for("auto", model, ...)        # staged, native or plain
    proposal = await strategy.propose(turn)            # calls, text, missing values
    fixed = await strategy.repair(turn, tool, call, errors)

The pipeline never asks which strategy it runs. A strategy holds no per-call state: what one
sentence needs lives in the ``Turn`` and the ``Proposal``, so one strategy serves any number of
runs at once.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar, Literal, Protocol

from toolwire.messages import Message, ToolCallRequest, ToolSpec
from toolwire.retrieval.index import Hit
from toolwire.store.history import estimate_tokens
from toolwire.text.reading import Reading, read
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

    @cached_property
    def reading(self) -> Reading:
        """The sentence read once (``text.reading``): every stage that looks at the sentence
        reads this, none parses it again. Made on first use (a strategy that shows the model
        the sentence and reads nothing of it never makes one)."""
        return read(self.question)


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
    clarify: list[str] = field(default_factory=list)
    """Tools the sentence may mean, best first, when the evidence was too weak to call one:
    no call is made and the answer asks which."""


class Strategy(Protocol):
    """Proposes the calls for a sentence and repairs a call whose arguments failed."""

    reads_scores: ClassVar[bool]
    """Whether it decides with retrieval scores (a relevance gate, a weighted selection) or
    only shows the candidates to its model."""

    @classmethod
    def shown_tokens(cls, tools: Sequence[Tool], k: int) -> int:
        """Estimated tokens of what it shows its model of ``k`` of ``tools`` in its largest
        prompt (a context budget counts them beside the history)."""
        ...

    async def propose(self, turn: Turn) -> Proposal:
        """The calls ``turn.question`` asks for among ``turn.candidates``."""
        ...

    async def repair(
        self, turn: Turn, tool: Tool, call: ToolCallRequest, errors: list[str]
    ) -> ToolCallRequest | None:
        """A corrected ``call`` given its validation ``errors``, or ``None``."""
        ...


def spec_tokens(specs: Iterable[ToolSpec], k: int | None = None) -> int:
    """Estimated tokens of tool definitions as JSON (what a tool-calling API is sent): all
    of ``specs``, or the ``k`` largest (retrieval offers ``k`` of a registry's)."""
    sizes = [estimate_tokens(json.dumps(
        {"name": s.name, "description": s.description, "parameters": s.parameters},
        ensure_ascii=False)) for s in specs]
    return largest(sizes, k)


def largest(sizes: Sequence[int], k: int | None) -> int:
    """The sum of the ``k`` largest ``sizes`` (all of them for ``None``)."""
    if k is None:
        return sum(sizes)
    return sum(sorted(sizes)[-k:]) if k > 0 else 0


def new_call_id() -> str:
    return "call_" + uuid.uuid4().hex[:24]


def relevance(hit: Hit[Tool]) -> float:
    """How relevant a retrieved tool is to the sentence, on a scale the threshold is tuned on."""
    return float(hit.score)
