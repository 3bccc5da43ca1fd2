"""Tools from beyond Python: OpenAPI/Swagger documents (``openapi.py``, calls over ``http.py``)
and MCP servers (``mcp.py``), with the secrets they need (``credentials.py``).

``imports.py`` adds a source's tools to a registry all at once or not at all; the service keeps
each source in the database (``store``) and loads it again on restart.
"""
