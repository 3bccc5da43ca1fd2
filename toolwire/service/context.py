"""How much history a run may send: the model's context window, less the rest of the prompt.

A prompt holds the system prompt, the history, the question, the tools the strategy offers
and the room for the answer; of these only the history can be cut. ``history_budget`` is what
the others leave (in tokens estimated by ``toolwire.store.history.estimate_tokens``, which is
conservative for the embedded model), and ``fit_to_context`` cuts a history to it, keeping the
system prompt and the latest whole turns. A backend that states no window gets a large one
(``toolwire.models.base.context_tokens``), so only the embedded model's history is cut.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from toolwire.messages import Message, ToolSpec
from toolwire.models.base import context_tokens
from toolwire.store.history import fit_history, message_tokens
from toolwire.store.tables import RunSettings
from toolwire.strategies import StrategyName, strategy_class
from toolwire.strategies.base import spec_tokens
from toolwire.tools.registry import Tool

if TYPE_CHECKING:
    from toolwire.engine import Engine

PROMPT_TOKENS = 96
"""What a strategy adds of its own beside the tools: its instructions, a call's prefill."""
RESULT_TOKENS = 400
"""What the step that puts results into words adds instead of the tools: a call's result,
clipped to 600 characters (``toolwire.answer``), as JSON, and its instructions."""


def tool_tokens(specs: Iterable[ToolSpec], k: int | None = None) -> int:
    """Estimated tokens of tool definitions as JSON (what the native and plain strategies
    send): all of ``specs``, or the ``k`` largest (retrieval offers ``k`` of a registry's)."""
    return spec_tokens(specs, k)


_CACHE_SIZE = 64
"""Registries (tool sets) whose token estimate is kept, least recently used dropped first."""
_CACHE: OrderedDict[tuple[object, ...], tuple[tuple[Tool, ...], int]] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def registry_tool_tokens(engine: Engine, *, strategy: str, k: int) -> int:
    """Estimated tokens of the tools a run of ``engine`` offers its model, in the form its
    strategy sends them (``auto``: staged for a grammar-capable model, else native); kept
    until the registry's tools change."""
    tools = tuple(engine.registry)
    shown = strategy_class(cast(StrategyName, strategy), engine.model)
    key = (shown, k, *map(id, tools))
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key][1]
    size = shown.shown_tokens(tools, k)
    with _CACHE_LOCK:  # the tools are kept with their size, so their ids stay theirs
        _CACHE[key] = (tools, size)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return size


def history_budget(*, window: int, fixed: Sequence[Message], tools: int, answer: int) -> int:
    """Tokens left for earlier turns in a ``window``-token context once the messages sent
    whole (``fixed``: the system prompt, the question), ``tools`` tokens of definitions,
    ``answer`` tokens of answer and the strategy's own prompt are counted (at least zero)."""
    taken = sum(message_tokens(m) for m in fixed)
    return max(0, window - taken - tools - answer - PROMPT_TOKENS)


def leading_system(messages: Sequence[Message]) -> list[Message]:
    """The system messages a history starts with (kept whole by ``fit_history``)."""
    end = next((i for i, m in enumerate(messages) if m.role != "system"), len(messages))
    return list(messages[:end])


def fit_to_context(
    engine: Engine,
    history: Sequence[Message],
    *,
    question: str,
    overrides: Mapping[str, Any] | None = None,
) -> list[Message]:
    """``history`` cut to what ``engine``'s model can take beside the rest of a run's prompt:
    the tools its strategy shows (``registry_tool_tokens``) or the results it describes
    (``RESULT_TOKENS``), whichever is more, the longest answer the run
    writes (``answer_tokens``, capped by ``max_tokens``) and the question. ``overrides`` are
    the run's ``EngineConfig`` changes (an interaction's settings)."""
    config = {"k": engine.config.k, "answer_tokens": engine.config.answer_tokens,
              "max_tokens": engine.config.max_tokens, "strategy": engine.config.strategy,
              **(overrides or {})}
    answer = int(config["answer_tokens"])
    if config["max_tokens"]:
        answer = min(answer, int(config["max_tokens"]))
    budget = history_budget(
        window=context_tokens(engine.model),
        fixed=[*leading_system(history), Message(role="user", content=question)],
        tools=max(RESULT_TOKENS, registry_tool_tokens(
            engine, strategy=str(config["strategy"]), k=int(config["k"]))),
        answer=answer,
    )
    return fit_history(history, budget)


def run_overrides(settings: dict[str, Any]) -> dict[str, Any]:
    """The engine settings an interaction's ``settings`` ask for (see ``RunSettings``)."""
    wanted = RunSettings.model_validate(settings)
    names = ("temperature", "max_tokens", "k", "strategy", "free_answers", "clarify_below")
    return {name: getattr(wanted, name) for name in names if getattr(wanted, name) is not None}
