"""The Engine: a registry, a model and an executor, ready to turn sentences into calls.

    engine = Engine(registry)                 # the embedded local model by default
    run = engine.run("exchange 42 US dollars to Canadian dollars")
    run.calls[0].name, run.calls[0].arguments, run.calls[0].result, run.answer
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from typing import Any

from toolwire.config import Settings, get_settings
from toolwire.messages import Message, ToolCallRequest, ToolSpec
from toolwire.models import load_model
from toolwire.models.base import Model
from toolwire.pipeline import EngineConfig, Pipeline
from toolwire.run import Decision, EventHandler, Journal, Run
from toolwire.tools.dispatch import Executor
from toolwire.tools.registry import Registry


class Engine:
    """Runs the pipeline for one registry and model; safe to share across requests."""

    def __init__(
        self,
        registry: Registry | None = None,
        *,
        model: Model | str | None = None,
        executor: Executor | None = None,
        config: EngineConfig | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        if registry is None:
            from toolwire.builtin import default_registry

            registry = default_registry()
        self.registry = registry
        self._model_spec = model if isinstance(model, str) else None
        self._model: Model | None = model if not isinstance(model, (str, type(None))) else None
        if model is None:
            self._model_spec = self.settings.model
        self.executor = executor
        self.config = config or configured(self.settings)

    @property
    def model(self) -> Model:
        """The model, created from its string on first use."""
        if self._model is None:
            assert self._model_spec is not None
            self._model = load_model(self._model_spec, timeout=self.settings.model_timeout)
        return self._model

    def pipeline(self, registry: Registry | None = None, **overrides: Any) -> Pipeline:
        config = self.config
        if overrides:
            config = dataclasses.replace(config, **overrides)
        return Pipeline(registry or self.registry, self.model, config=config,
                        executor=self.executor)

    async def arun(
        self,
        prompt: str,
        *,
        history: list[Message] | None = None,
        on_event: EventHandler | None = None,
        scope: str | None = None,
        journal: Journal | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> Run:
        """Run one sentence through the pipeline (async); ``scope`` and ``journal`` let a
        stored message taken up again skip the calls it already executed; ``overrides``
        change ``EngineConfig`` fields for this run (an interaction's settings)."""
        return await self.pipeline(**(overrides or {})).run(
            prompt, history=history, on_event=on_event, scope=scope, journal=journal
        )

    async def aresume(
        self,
        run: Run,
        decisions: Mapping[str, Decision],
        *,
        history: list[Message] | None = None,
        on_event: EventHandler | None = None,
        journal: Journal | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> Run:
        """Go on with a run that left calls waiting for approval, once people decided
        (``Pipeline.resume``): the approved calls run, the refused ones are settled, and the
        answer is written with ``history``, as ``arun`` would have."""
        return await self.pipeline(**(overrides or {})).resume(
            run, decisions, history=history, journal=journal, on_event=on_event
        )

    def run(
        self,
        prompt: str,
        *,
        history: list[Message] | None = None,
        on_event: EventHandler | None = None,
    ) -> Run:
        """Run one sentence through the pipeline (blocking; not inside a running event loop)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.arun(prompt, history=history, on_event=on_event))
        raise RuntimeError("Engine.run() blocks; inside an event loop use 'await engine.arun()'")

    async def propose_calls(
        self,
        messages: list[Message],
        tools: list[ToolSpec],
        tool_choice: str = "auto",
        *,
        on_event: EventHandler | None = None,
    ) -> list[ToolCallRequest]:
        """The calls the engine's strategy makes for a chat, over ``tools`` given as specs,
        validated against them (not executed); ``on_event`` gets the run's step events.

        The last user message is the question; earlier messages are its history.
        """
        if tool_choice == "none" or not tools:
            return []
        registry = Registry()
        for spec in tools:
            registry.add_schema(
                {"name": spec.name, "description": spec.description, "parameters": spec.parameters}
            )
        last_user = max((i for i, m in enumerate(messages) if m.role == "user"), default=None)
        if last_user is None:
            return []
        question = messages[last_user].content
        history = messages[:last_user]
        pipeline = self.pipeline(registry, execute=False, describe=False)
        run = await pipeline.run(question, history=history, tool_choice=tool_choice,
                                 on_event=on_event)
        return [
            ToolCallRequest(id=c.id, name=c.name, arguments=c.arguments)
            for c in run.calls
            if c.status in ("ok", "not_executable")
        ]


def configured(settings: Settings) -> EngineConfig:
    """The engine's configuration as ``settings`` (``TOOLWIRE_*``) ask; what they leave unset
    keeps ``EngineConfig``'s default."""
    config = EngineConfig(
        k=settings.retrieval_k,
        max_attempts=settings.max_attempts,
        model_timeout=settings.model_timeout,
        answer_style=settings.answer_style,
        free_answers=settings.free_answers,
    )
    if settings.clarify_below is not None:
        config.clarify_below = settings.clarify_below
    return config
