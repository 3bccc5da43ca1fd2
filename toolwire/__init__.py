"""toolwire: self-hosted LLM function calling."""

from toolwire.tools import Registry, Tool, ToolError

__all__ = ["Registry", "Tool", "ToolError"]
__version__ = "0.1.0"
