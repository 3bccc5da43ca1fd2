"""Model backends, chosen by a model string.

| string | backend |
|---|---|
| ``local:smollm2-135m`` (default), ``local:/path/model.gguf`` | llama.cpp in a supervised model process |
| ``openai:<model>``, ``openai:<model>@<base_url>`` | any OpenAI-compatible server |
| ``anthropic:<model>`` | Anthropic Messages API |
| ``gemini:<model>`` | Google Gemini |
| ``scripted:<module>:<attr>`` | tests: ``attr()`` returns a Model (e.g. a ScriptedModel) |
"""

from __future__ import annotations

import importlib
from typing import Any

from toolwire.messages import (
    ChoiceConstraint,
    Completion,
    GrammarConstraint,
    JsonSchemaConstraint,
    Message,
    ModelSettings,
    ToolCallRequest,
    ToolSpec,
)
from toolwire.models.base import Capabilities, Model, ModelError

__all__ = [
    "Capabilities",
    "ChoiceConstraint",
    "Completion",
    "GrammarConstraint",
    "JsonSchemaConstraint",
    "Message",
    "Model",
    "ModelError",
    "ModelSettings",
    "ToolCallRequest",
    "ToolSpec",
    "load_model",
]


class ModelSpecError(ValueError):
    """A model string that names no known backend."""


def load_model(spec: str, *, timeout: float = 60.0) -> Model:
    """The backend a model string names (weights load lazily, on first use).

    ``timeout``: seconds one call may take (the local model process, the SDK clients).
    """
    provider, _, rest = spec.partition(":")
    if not rest and provider not in ("local",):
        raise ModelSpecError(
            f"unknown model {spec!r}: use local:<name|path.gguf>, openai:<model>[@url], "
            "anthropic:<model>, gemini:<model>"
        )
    if provider == "local":
        from toolwire.models.local import DEFAULT_LOCAL, LocalModel

        return LocalModel(rest or DEFAULT_LOCAL, timeout=timeout)
    if provider == "openai":
        from toolwire.models.openai import OpenAIModel

        model, _, base_url = rest.partition("@")
        return OpenAIModel(model, base_url=base_url or None, timeout=timeout)
    if provider == "anthropic":
        from toolwire.models.anthropic import AnthropicModel

        return AnthropicModel(rest, timeout=timeout)
    if provider == "gemini":
        from toolwire.models.gemini import GeminiModel

        return GeminiModel(rest, timeout=timeout)
    if provider == "scripted":
        return _load_factory(rest)
    raise ModelSpecError(f"unknown model provider {provider!r} in {spec!r}")


def _load_factory(target: str) -> Model:
    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise ModelSpecError(f"scripted models are named scripted:<module>:<attr>, not {target!r}")
    factory: Any = getattr(importlib.import_module(module_name), attr)
    model = factory()
    if not isinstance(model, Model):
        raise ModelSpecError(f"{target} did not return a Model")
    return model
