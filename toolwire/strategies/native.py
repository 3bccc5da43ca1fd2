"""The native strategy: models that take tool specs and answer with tool calls (OpenAI & co.).

Validation errors go back to the model as tool results of the failed call, so it can correct
its own arguments (the instructor pattern, bounded by the engine's ``max_attempts``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import ClassVar

from toolwire.messages import Message, ModelSettings, ToolCallRequest
from toolwire.models.base import Model
from toolwire.strategies.base import Proposal, Turn, new_call_id, spec_tokens
from toolwire.tools.registry import Tool


class NativeStrategy:
    """Asks a tool-calling model for calls, and for corrections."""

    reads_scores: ClassVar[bool] = False

    @classmethod
    def shown_tokens(cls, tools: Sequence[Tool], k: int) -> int:
        """The ``k`` largest tool definitions, as JSON."""
        return spec_tokens((t.spec() for t in tools), k)

    def __init__(self, model: Model) -> None:
        self.model = model

    async def propose(self, turn: Turn) -> Proposal:
        """The calls the model asks for, and its text (the plain answer when it asks for none)."""
        if not turn.hits:
            return Proposal()
        messages = [*turn.history, Message(role="user", content=turn.question)]
        completion = await self.model.complete(
            messages,
            tools=[t.spec() for t in turn.candidates],
            settings=ModelSettings(tool_choice=turn.tool_choice),
        )
        calls = [
            c if c.id else ToolCallRequest(id=new_call_id(), name=c.name, arguments=c.arguments)
            for c in completion.tool_calls
        ]
        return Proposal(calls=calls, text=completion.text)

    async def repair(
        self, turn: Turn, tool: Tool, call: ToolCallRequest, errors: list[str]
    ) -> ToolCallRequest | None:
        """Show the model its invalid call with the errors; its corrected call, if any."""
        messages = [
            *turn.history,
            Message(role="user", content=turn.question),
            Message(role="assistant", tool_calls=[call]),
            Message(
                role="tool",
                tool_call_id=call.id,
                name=call.name,
                content=json.dumps(
                    {"error": "invalid arguments", "details": errors, "fix": "call again"}
                ),
            ),
        ]
        completion = await self.model.complete(
            messages,
            tools=[t.spec() for t in turn.candidates or [tool]],
            settings=ModelSettings(tool_choice=call.name),
        )
        fixed = [c for c in completion.tool_calls if c.name == call.name]
        if not fixed:
            return None
        return ToolCallRequest(id=call.id, name=call.name, arguments=fixed[0].arguments)
