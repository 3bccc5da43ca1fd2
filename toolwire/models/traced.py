"""``TracedModel``: a span for each model call (``toolwire.tracing``), with the tokens in and
out when the backend reports them. The pipeline wraps every model it runs in one; with no
tracer configured the spans cost next to nothing and go nowhere."""

from __future__ import annotations

from collections.abc import Awaitable

from toolwire import tracing
from toolwire.messages import Completion, Constraint, Message, ModelSettings, ToolSpec
from toolwire.models.base import CallSink, Model, ModelWrapper, TextSink


class TracedModel(ModelWrapper):
    """``model`` with every call (``complete`` and both kinds of streaming) in a span."""

    async def complete(
        self,
        messages: list[Message],
        *,
        tools: list[ToolSpec] | None = None,
        constraint: Constraint | None = None,
        settings: ModelSettings | None = None,
    ) -> Completion:
        return await self._traced(super().complete(messages, tools=tools, constraint=constraint,
                                                   settings=settings))

    async def stream_complete(
        self, messages: list[Message], *, settings: ModelSettings, on_text: TextSink
    ) -> Completion:
        return await self._traced(super().stream_complete(messages, settings=settings,
                                                          on_text=on_text))

    async def stream_tools(
        self,
        messages: list[Message],
        *,
        tools: list[ToolSpec],
        settings: ModelSettings,
        on_text: TextSink,
        on_call: CallSink,
    ) -> Completion:
        return await self._traced(super().stream_tools(messages, tools=tools, settings=settings,
                                                       on_text=on_text, on_call=on_call))

    async def _traced(self, call: Awaitable[Completion]) -> Completion:
        with tracing.model_call(self.name) as span:
            completion = await call
            usage = completion.usage
            tracing.model_usage(span, usage.prompt_tokens, usage.completion_tokens,
                                completion.finish_reason)
            return completion


def traced(model: Model) -> Model:
    """``model`` in a ``TracedModel`` (once: a traced model is not wrapped again)."""
    return model if isinstance(model, TracedModel) else TracedModel(model)
