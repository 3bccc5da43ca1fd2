"""Tools: the registry (``registry.py``), JSON Schemas from signatures and docstrings
(``schema.py``), the one dispatch seam (``dispatch.py``) with its tool threads (``pool.py``)
and sandboxed processes (``sandbox.py``), and the reproducing snippets (``snippets.py``)."""

from toolwire.tools.registry import Registry, Tool, ToolOptions, declared_tools, tool
from toolwire.tools.schema import ToolError, schema_from_function

__all__ = [
    "Registry", "Tool", "ToolError", "ToolOptions", "declared_tools", "schema_from_function", "tool",
]
