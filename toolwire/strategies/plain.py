"""The plain strategy, kept as the baseline the evaluation compares against.

The model's own tool-call prompt and one JSON-Schema grammar over all candidates: the answer is
a JSON list of ``{"name", "arguments"}`` objects, each one of the candidates' call shapes
(an empty list means no call). Nothing else: no per-argument choices, no spans.
"""

from __future__ import annotations

import json
from typing import Any

from toolwire.messages import JsonSchemaConstraint, Message, ModelSettings, ToolCallRequest
from toolwire.models.base import Model
from toolwire.strategies.native import new_call_id
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


class PlainCaller:
    """One constrained generation of the whole answer."""

    def __init__(self, model: Model, *, max_tokens: int = 256) -> None:
        self.model = model
        self.max_tokens = max_tokens

    async def propose(
        self, question: str, candidates: list[Tool], history: list[Message]
    ) -> list[ToolCallRequest]:
        tools = "\n".join(json.dumps(t.spec().__dict__) for t in candidates)
        messages = [
            Message(role="system", content=_SYSTEM.format(tools=tools)),
            *history,
            Message(role="user", content=question),
        ]
        completion = await self.model.complete(
            messages,
            constraint=JsonSchemaConstraint(schema=calls_schema(candidates)),
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
