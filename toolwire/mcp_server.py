"""toolwire's registry served over MCP (``toolwire mcp serve``), with the official ``mcp`` SDK.

Any MCP client (an IDE, an agent, another toolwire) lists the tools with their JSON Schemas and
calls them; every call goes through toolwire's validated dispatch, so invalid arguments come
back as an ``isError`` result whose text names each error, for the client's model to read and
fix, and tools that need approval are not run.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
from mcp import types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from toolwire.run import ExecutionResult
from toolwire.tools.dispatch import dispatch
from toolwire.tools.registry import Registry, Tool

__all__ = ["http_app", "mcp_server", "serve_http", "serve_stdio", "tool_result"]


def mcp_tool(tool: Tool) -> types.Tool:
    """``tool`` as MCP lists it; an idempotent tool says so (``idempotentHint``), so a client
    may retry it as toolwire's own recovery does."""
    annotations = types.ToolAnnotations(idempotentHint=True) if tool.idempotent else None
    return types.Tool(name=tool.name, description=tool.description, inputSchema=tool.parameters,
                      annotations=annotations)


def tool_result(outcome: ExecutionResult) -> types.CallToolResult:
    """A dispatch outcome as an MCP result: the value as JSON text (and as structured content
    when it is an object), or ``isError`` with the error's message."""
    if outcome.status != "ok":
        error = outcome.error or {}
        message = error.get("message") or (
            "the call needs a person's approval first" if outcome.status == "pending_approval"
            else outcome.status
        )
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=f"{outcome.status}: {message}")],
            isError=True,
        )
    value = outcome.result
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=json.dumps(value, default=str))],
        structuredContent=value if isinstance(value, dict) else None,
        isError=False,
    )


def mcp_server(registry: Registry, *, name: str = "toolwire") -> Server[Any, Any]:
    """An MCP server over ``registry``'s tools."""
    server: Server[Any, Any] = Server(name)

    @server.list_tools()  # type: ignore[no-untyped-call,untyped-decorator]
    async def list_tools() -> list[types.Tool]:
        return [mcp_tool(t) for t in registry]

    @server.call_tool(validate_input=False)  # type: ignore[untyped-decorator]
    async def call_tool(name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        return tool_result(await dispatch(registry, name, arguments))

    return server


async def serve_stdio(registry: Registry) -> None:
    """Serve ``registry`` on this process's stdin/stdout until the client hangs up."""
    server = mcp_server(registry)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def http_app(registry: Registry, *, path: str = "/mcp") -> Starlette:
    """A Starlette app serving ``registry`` over streamable HTTP at ``path``."""
    manager = StreamableHTTPSessionManager(app=mcp_server(registry), stateless=True,
                                           json_response=True)

    class Endpoint:  # an ASGI object, so Starlette routes the request to it as is
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            await manager.handle_request(scope, receive, send)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with manager.run():
            yield

    return Starlette(routes=[Route(path, endpoint=Endpoint())], lifespan=lifespan)


def serve_http(registry: Registry, *, host: str = "127.0.0.1", port: int = 8811) -> None:
    """Serve ``registry`` over streamable HTTP on ``http://host:port/mcp``."""
    import uvicorn

    uvicorn.run(http_app(registry), host=host, port=port, log_level="warning")


def run_stdio(registry: Registry) -> None:
    anyio.run(serve_stdio, registry)
