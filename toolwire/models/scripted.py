"""The scripted fake model for tests: replays answers or computes them, never touches a network.

    ScriptedModel([Completion(tool_calls=[ToolCallRequest(id="1", name="add", arguments={...})]),
                   Completion(text="The sum is 3.")])
    ScriptedModel(lambda request: Completion(text=request.messages[-1].content))

Replayed answers are consumed in order; running out is a loud error, not a silent default.
Every request is kept in ``requests`` so tests can assert what the pipeline sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from toolwire.messages import Completion, Constraint, Message, ModelSettings, ToolSpec
from toolwire.models.base import DEFAULT_CONTEXT_TOKENS, Capabilities, Model


@dataclass(kw_only=True)
class Request:
    """What the pipeline asked the model for."""

    messages: list[Message]
    tools: list[ToolSpec] | None
    constraint: Constraint | None
    settings: ModelSettings


Responder = Callable[[Request], Completion]


class ScriptedModel(Model):
    """A model whose answers are given by the test, as a list or a function.

    Its capabilities are what the test says; ``streams_text`` and ``streams_tools`` are for a
    subclass that overrides ``stream_complete`` / ``stream_tools`` to stream.
    """

    def __init__(
        self,
        script: Iterable[Completion | Responder] | Responder = (),
        *,
        name: str = "scripted",
        supports_tools: bool = True,
        supports_grammar: bool = False,
        supports_parallel: bool = True,
        context_tokens: int | None = None,
        streams_text: bool = False,
        streams_tools: bool = False,
    ) -> None:
        """``context_tokens``: the context window it claims (``None``: the default, large);
        nothing enforces it."""
        self.name = name
        self.capabilities = Capabilities(
            tools=supports_tools, grammar=supports_grammar, parallel=supports_parallel,
            streams_text=streams_text, streams_tools=streams_tools,
            context_tokens=context_tokens or DEFAULT_CONTEXT_TOKENS,
        )
        self._responder: Responder | None = script if callable(script) else None
        self._queue: list[Completion | Responder] = [] if callable(script) else list(script)
        self.requests: list[Request] = []

    async def complete(
        self,
        messages: list[Message],
        *,
        tools: list[ToolSpec] | None = None,
        constraint: Constraint | None = None,
        settings: ModelSettings | None = None,
    ) -> Completion:
        request = Request(
            messages=list(messages),
            tools=tools,
            constraint=constraint,
            settings=settings or ModelSettings(),
        )
        self.requests.append(request)
        if self._responder is not None:
            return self._responder(request)
        if not self._queue:
            raise AssertionError(
                f"ScriptedModel ran out of answers after {len(self.requests) - 1} requests"
            )
        item = self._queue.pop(0)
        return item(request) if callable(item) else item
