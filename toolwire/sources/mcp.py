"""The tools of an MCP server, imported and called through the official ``mcp`` SDK.

    add_mcp(registry, "python -m my_server")            # stdio: toolwire starts the server
    add_mcp(registry, "http://127.0.0.1:8811/mcp")      # streamable HTTP

One ``McpConnection`` per server keeps a session open in a thread of its own (with its own
event loop), so calls from any loop or thread reach the same session; a session that died (the
server exited) is opened again on the next call. A call's arguments are validated against the
tool's schema by toolwire's dispatch before they are forwarded; an ``isError`` result becomes a
structured tool error (``mcp_error``). Every tool the server does not mark read-only needs
approval, and an HTTP server on an internal address is refused unless the operator imported it
(``allow_private``: its own host and port only) or allows every one (``http.public_client``).
"""

from __future__ import annotations

import asyncio
import json
import shlex
import threading
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Future
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from toolwire.sources.documents import SourceError, is_url
from toolwire.sources.http import (
    ForbiddenAddress,
    HttpForbiddenAddress,
    public_addresses,
    public_client,
)
from toolwire.sources.imports import add_tools
from toolwire.tools.calls import ToolFailure
from toolwire.tools.registry import Registry, Tool

if TYPE_CHECKING:  # the SDK is imported when a server is first reached (8 MB resident)
    from mcp import ClientSession, types

T = TypeVar("T")


class McpFailure(ToolFailure):
    """The MCP server answered the call with ``isError``."""

    kind = "mcp_error"


def server_label(target: str | list[str]) -> str:
    """``mcp:<url or command>``: the ``Tool.source`` of the server's tools."""
    return "mcp:" + (target if isinstance(target, str) else shlex.join(target))


class McpConnection:
    """A session with one MCP server, owned by a dedicated thread and event loop."""

    def __init__(
        self, target: str | list[str], *, timeout: float = 30.0, allow_private: bool = False
    ) -> None:
        self.target = target
        self.timeout = timeout
        self.allow_private = allow_private
        """An HTTP server at an internal address may be reached: its own host and port."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name=f"mcp {server_label(target)[:40]}")
        self._thread.start()
        self._session: ClientSession | None = None
        self._stack: AsyncExitStack | None = None
        self._lock = asyncio.Lock()

    # -- lifetime ---------------------------------------------------------------------------
    async def _open(self) -> ClientSession:
        from mcp import ClientSession, StdioServerParameters
        from mcp.client.stdio import stdio_client
        from mcp.client.streamable_http import streamable_http_client

        async with self._lock:
            if self._session is not None:
                return self._session
            stack = AsyncExitStack()
            try:
                if isinstance(self.target, str) and is_url(self.target):
                    trusted = self.target if self.allow_private else None
                    await _check_address(self.target, trusted)  # the SDK would hide why
                    client = await stack.enter_async_context(
                        public_client(timeout=self.timeout, follow_redirects=True,
                                      trusted=trusted)
                    )
                    read, write, _ = await stack.enter_async_context(
                        streamable_http_client(self.target, http_client=client)
                    )
                else:
                    argv = shlex.split(self.target) if isinstance(self.target, str) else self.target
                    if not argv:
                        raise SourceError("an empty MCP server command")
                    params = StdioServerParameters(command=argv[0], args=list(argv[1:]))
                    read, write = await stack.enter_async_context(stdio_client(params))
                session = await stack.enter_async_context(ClientSession(read, write))
                await asyncio.wait_for(session.initialize(), self.timeout)
            except BaseException:
                await _quietly(stack.aclose())
                raise
            self._session, self._stack = session, stack
            return session

    async def _reset(self) -> None:
        stack, self._session, self._stack = self._stack, None, None
        if stack is not None:
            await _quietly(stack.aclose())

    def close(self) -> None:
        """End the session (and the server process, for stdio) and the thread."""
        if self._loop.is_closed():
            return
        with suppress(Exception):
            self._submit(self._reset()).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    # -- requests ---------------------------------------------------------------------------
    def _submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    async def _request(self, use: Callable[[ClientSession], Awaitable[T]]) -> T:
        session = await self._open()
        try:
            return await asyncio.wait_for(use(session), self.timeout)
        except (TimeoutError, asyncio.CancelledError):
            raise
        except Exception:
            await self._reset()  # the server may have gone: the next request reconnects
            raise

    def list_tools(self) -> list[types.Tool]:
        """The server's tools (every page)."""

        async def pages(session: ClientSession) -> list[types.Tool]:
            found: list[types.Tool] = []
            cursor: str | None = None
            while True:
                page = await session.list_tools(cursor=cursor)
                found.extend(page.tools)
                cursor = page.nextCursor
                if not cursor:
                    return found

        try:
            return self._submit(self._request(pages)).result(timeout=self.timeout + 5)
        except Exception as e:
            raise SourceError(f"cannot list the tools of {server_label(self.target)}: "
                              f"{_describe(e)}") from None

    async def call(self, name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        """Call ``name`` on the server, from any event loop."""

        async def use(session: ClientSession) -> types.CallToolResult:
            return await session.call_tool(name, arguments)

        return await asyncio.wrap_future(self._submit(self._request(use)))


async def _check_address(url: str, trusted: str | None) -> None:
    """Refuse a server at an internal address before the SDK tries it (its transport refuses
    too, redirects included, but the SDK turns that into a bare cancellation)."""
    try:
        await public_addresses(httpx.URL(url), trusted=trusted)
    except ForbiddenAddress as e:
        raise HttpForbiddenAddress(str(e)) from None


async def _quietly(aw: Awaitable[Any]) -> None:
    with suppress(BaseException):  # closing a broken transport may raise anything (task groups)
        await aw


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_describe(e) for e in exc.exceptions)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


# -- tools ----------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class McpCall:
    """The handler of one imported MCP tool: forwards validated arguments to the server."""

    connection: McpConnection = field(repr=False)
    tool: str

    @property
    def __name__(self) -> str:
        return self.tool

    async def __call__(self, **arguments: Any) -> Any:
        result = await self.connection.call(self.tool, arguments)
        if result.isError:
            raise McpFailure(_text(result.content) or f"{self.tool} failed")
        return result_value(result)

    def snippet(self, arguments: dict[str, Any]) -> str:
        """Python that makes the same call with the ``mcp`` SDK."""
        target = self.connection.target
        if isinstance(target, str) and is_url(target):
            imports = "from mcp.client.streamable_http import streamable_http_client"
            opener = f"streamable_http_client({target!r}) as (read, write, _)"
        else:
            argv = shlex.split(target) if isinstance(target, str) else target
            imports = "from mcp.client.stdio import StdioServerParameters, stdio_client"
            opener = (f"stdio_client(StdioServerParameters(command={argv[0]!r}, "
                      f"args={list(argv[1:])!r})) as (read, write)")
        return "\n".join([
            "import asyncio", "", "from mcp import ClientSession", imports, "", "",
            "async def main() -> None:",
            f"    async with {opener}:",
            "        async with ClientSession(read, write) as session:",
            "            await session.initialize()",
            f"            result = await session.call_tool({self.tool!r}, {arguments!r})",
            "            print(result.model_dump_json(exclude_none=True))", "", "",
            "asyncio.run(main())", "",
        ])


def result_value(result: types.CallToolResult) -> Any:
    """The value of a successful call: its structured content, else its text (JSON parsed)."""
    if result.structuredContent is not None:
        return result.structuredContent
    text = _text(result.content)
    try:
        return json.loads(text)
    except ValueError:
        return text


def _text(content: list[Any]) -> str:
    from mcp import types

    return "\n".join(c.text for c in content if isinstance(c, types.TextContent))


def needs_approval(spec: types.Tool) -> bool:
    """Whether a person must approve calls of ``spec``: unless the server marks it
    ``readOnlyHint: true``. A tool without annotations may change anything (the MCP spec's
    default is ``destructiveHint: true``), and other hints do not make it harmless."""
    hints = spec.annotations
    return not (hints is not None and hints.readOnlyHint is True)


def is_idempotent(spec: types.Tool) -> bool:
    """Whether calling ``spec`` twice has the effect of calling it once: the server marks it
    ``idempotentHint: true`` or ``readOnlyHint: true`` (a call that changes nothing). Without
    annotations a tool is not (the MCP spec's default is ``idempotentHint: false``)."""
    hints = spec.annotations
    return hints is not None and (hints.idempotentHint is True or hints.readOnlyHint is True)


def mcp_tools(connection: McpConnection) -> list[Tool]:
    """One toolwire tool per tool of the server (all but read-only ones need approval;
    idempotent and read-only ones are run again when interrupted)."""
    tools: list[Tool] = []
    for spec in connection.list_tools():
        handler = McpCall(connection=connection, tool=spec.name)
        tools.append(Tool(
            name=spec.name,
            description=spec.description or spec.title or spec.name,
            parameters=dict(spec.inputSchema or {"type": "object", "properties": {}}),
            handler=handler,
            timeout=connection.timeout,
            requires_approval=needs_approval(spec),
            idempotent=is_idempotent(spec),
            source=server_label(connection.target),
            snippet=handler.snippet,
        ))
    return tools


def add_mcp(
    registry: Registry, target: str | list[str], *, timeout: float = 30.0,
    allow_private: bool = True,
) -> list[Tool]:
    """Connect to the MCP server ``target`` and add its tools to ``registry`` (all or none):
    a command line (stdio, ``"python server.py"`` or an argument list) or a streamable-HTTP
    URL; calls are forwarded to the server. ``allow_private``: a URL's host and port may be
    a loopback or private address (the operator's own server; the API's import leaves it off)."""
    connection = McpConnection(target, timeout=timeout, allow_private=allow_private)
    try:
        tools = mcp_tools(connection)
        add_tools(registry, tools, replace_source=server_label(target))
    except BaseException:
        connection.close()
        raise
    return tools
