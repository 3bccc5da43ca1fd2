"""toolwire: self-hosted LLM function calling.

    from toolwire import Engine, Registry, tool
"""

from toolwire.engine import Engine
from toolwire.pipeline import EngineConfig
from toolwire.run import CallResult, Run
from toolwire.tools import Registry, Tool, ToolError, tool

__all__ = ["CallResult", "Engine", "EngineConfig", "Registry", "Run", "Tool", "ToolError", "tool"]
__version__ = "0.1.0"
