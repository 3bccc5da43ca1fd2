"""toolwire: self-hosted LLM function calling.

    from toolwire import Engine, Registry, tool

The names below are imported when first used, so a small program of the package (the
container's ``python -m toolwire.healthcheck``, run every few seconds) does not load the
engine, the model bindings and NumPy first.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from toolwire.engine import Engine
    from toolwire.pipeline import EngineConfig
    from toolwire.run import CallResult, Run
    from toolwire.tools import Registry, Tool, ToolError, tool

__all__ = ["CallResult", "Engine", "EngineConfig", "Registry", "Run", "Tool", "ToolError", "tool"]
__version__ = "0.1.0"

_HOMES = {
    "Engine": "toolwire.engine", "EngineConfig": "toolwire.pipeline", "CallResult": "toolwire.run",
    "Run": "toolwire.run", "Registry": "toolwire.tools", "Tool": "toolwire.tools",
    "ToolError": "toolwire.tools", "tool": "toolwire.tools",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'toolwire' has no attribute {name!r}")
