"""The plain strategy, kept as the baseline the evaluation compares against.

The model's own tool-call prompt and one JSON-Schema grammar over all candidates: the answer is
a JSON list of ``{"name", "arguments"}`` objects, each one of the candidates' call shapes
(an empty list means no call). Nothing else: no per-argument choices, no spans, no relevance
gate. Its repair is as plain: the same prompt, the invalid call and its errors, and one
constrained answer for that tool.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, ClassVar

from toolwire.messages import JsonSchemaConstraint, Message, ModelSettings, ToolCallRequest
from toolwire.models.base import Model
from toolwire.strategies.base import Proposal, Turn, new_call_id, spec_tokens
from toolwire.tools.registry import Tool

_SYSTEM = (
    "You are an expert in composing functions. You are given a question and a set of possible "
    "functions. Based on the question, you will need to make one or more function/tool calls "
    "to achieve the purpose. If none of the functions can be used, answer [].\n"
    "You have access to the following tools:\n<tools>{tools}</tools>\n"
    'Answer with a JSON list of calls: [{{"name": <function-name>, "arguments": <args-dict>}}]'
)


def calls_schema(candidates: list[Tool]) -> dict[str, Any]:
    """The JSON Schema of a list of calls to any of ``candidates``."""
    shapes = [
        {
            "type": "object",
            "properties": {"name": {"const": t.name}, "arguments": t.parameters},
            "required": ["name", "arguments"],
        }
        for t in candidates
    ]
    return {"type": "array", "items": {"anyOf": shapes} if len(shapes) > 1 else shapes[0]}


class PlainStrategy:
    """One constrained generation of the whole answer."""

    reads_scores: ClassVar[bool] = False

    @classmethod
    def shown_tokens(cls, tools: Sequence[Tool], k: int) -> int:
        """The ``k`` largest tool definitions, as JSON."""
        return spec_tokens((t.spec() for t in tools), k)

    def __init__(self, model: Model, *, max_tokens: int = 256) -> None:
        self.model = model
        self.max_tokens = max_tokens

    async def propose(self, turn: Turn) -> Proposal:
        if not turn.hits:
            return Proposal()
        messages = self._messages(turn, turn.candidates)
        return Proposal(calls=await self._calls(messages, turn.candidates))

    async def repair(
        self, turn: Turn, tool: Tool, call: ToolCallRequest, errors: list[str]
    ) -> ToolCallRequest | None:
        """Ask again, showing the invalid call and its errors, for a call of ``tool`` alone."""
        messages = self._messages(turn, turn.candidates or [tool])
        invalid = json.dumps([{"name": call.name, "arguments": call.arguments}])
        messages += [
            Message(role="assistant", content=invalid),
            Message(role="user", content="That call is invalid: " + "; ".join(errors)
                    + ". Answer again with a corrected call."),
        ]
        fixed = [c for c in await self._calls(messages, [tool]) if c.name == tool.name]
        if not fixed:
            return None
        return ToolCallRequest(id=call.id, name=tool.name, arguments=fixed[0].arguments)

    def _messages(self, turn: Turn, tools: list[Tool]) -> list[Message]:
        listed = "\n".join(json.dumps(t.spec().__dict__) for t in tools)
        return [
            Message(role="system", content=_SYSTEM.format(tools=listed)),
            *turn.history,
            Message(role="user", content=turn.question),
        ]

    async def _calls(self, messages: list[Message], tools: list[Tool]) -> list[ToolCallRequest]:
        completion = await self.model.complete(
            messages,
            constraint=JsonSchemaConstraint(schema=calls_schema(tools)),
            settings=ModelSettings(max_tokens=self.max_tokens),
        )
        try:
            items = json.loads(completion.text)
        except ValueError:
            return []  # cut off by max_tokens: no complete answer
        return [
            ToolCallRequest(id=new_call_id(), name=i["name"], arguments=i.get("arguments", {}))
            for i in items
            if isinstance(i, dict) and isinstance(i.get("name"), str)
        ]
