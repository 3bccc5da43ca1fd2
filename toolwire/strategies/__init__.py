"""How a model turns a sentence into calls: ``native`` (models with tool calling), ``plain`` (one
JSON-Schema-constrained answer, the evaluation baseline) and ``staged`` (grammar-capable local
models: choose the function, then each argument)."""

from __future__ import annotations

from toolwire.models.base import Model
from toolwire.strategies.base import Proposal, Strategy, StrategyName, Turn
from toolwire.strategies.native import NativeStrategy
from toolwire.strategies.plain import PlainStrategy
from toolwire.strategies.staged.rules import StagedRules
from toolwire.strategies.staged.strategy import CLARIFY_BELOW, StagedStrategy

__all__ = [
    "CLARIFY_BELOW",
    "NativeStrategy",
    "PlainStrategy",
    "Proposal",
    "StagedRules",
    "StagedStrategy",
    "Strategy",
    "StrategyName",
    "Turn",
    "strategy_class",
    "strategy_for",
]


def strategy_class(name: StrategyName, model: Model) -> type[Strategy]:
    """The class of strategy ``name`` over ``model`` (``auto``: staged for grammar-capable
    models, native for tool-calling ones)."""
    if name == "auto":
        name = "staged" if model.supports_grammar else "native"
    return {"native": NativeStrategy, "plain": PlainStrategy}.get(name, StagedStrategy)


def strategy_for(
    name: StrategyName,
    model: Model,
    *,
    relevance_threshold: float,
    named_relevance_threshold: float,
    rules: StagedRules | None = None,
    clarify_below: float = 0.0,
) -> Strategy:
    """The strategy ``name`` over ``model`` (``auto``: staged for grammar-capable models,
    native for tool-calling ones); ``clarify_below`` is the staged strategy's (see
    ``EngineConfig.clarify_below``)."""
    if name == "auto":
        name = "staged" if model.supports_grammar else "native"
    if name == "native":
        return NativeStrategy(model)
    if name == "plain":
        return PlainStrategy(model)
    return StagedStrategy(
        model,
        relevance_threshold=relevance_threshold,
        named_relevance_threshold=named_relevance_threshold,
        rules=rules,
        clarify_below=clarify_below,
    )
