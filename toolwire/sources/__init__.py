"""Tools from beyond Python: OpenAPI/Swagger documents (``openapi.py``, calls over ``http.py``)
and MCP servers (``mcp.py``), with the secrets of ``toolwire.credentials``.

    from toolwire.sources import add_mcp, add_openapi

    add_openapi(registry, "swagger.yaml", base_url="http://127.0.0.1:8080")
    add_mcp(registry, ["python", "-m", "some_mcp_server"])

``imports.py`` adds a source's tools to a registry all at once or not at all; the service keeps
each source in the database (``saved.py``) and loads it again on restart. The registry knows
nothing of sources: they add ordinary tools to it.
"""

from toolwire.sources.documents import SourceError
from toolwire.sources.imports import add_openapi
from toolwire.sources.mcp import add_mcp

__all__ = ["SourceError", "add_mcp", "add_openapi"]
