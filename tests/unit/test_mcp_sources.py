"""Imported MCP tools are protected by default: approval unless the server says read-only, and
no connection to an internal address over HTTP unless the operator allows it."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from mcp import types

from toolwire.sources.documents import SourceError
from toolwire.sources.mcp import mcp_tools
from toolwire.tools.registry import Registry


class FakeConnection:
    """What ``mcp_tools`` reads of a connection: its target, timeout and tool list."""

    target = "http://mcp.example/mcp"
    timeout = 5.0

    def __init__(self, tools: list[types.Tool]) -> None:
        self._tools = tools

    def list_tools(self) -> list[types.Tool]:
        return self._tools


def _tool(name: str, **hints: Any) -> types.Tool:
    annotations = types.ToolAnnotations(**hints) if hints else None
    return types.Tool(name=name, inputSchema={"type": "object", "properties": {}},
                      annotations=annotations)


def test_only_read_only_tools_run_without_approval() -> None:
    """The MCP spec's default is ``destructiveHint: true``: no annotations, or any other hint
    than ``readOnlyHint: true``, and a person must approve the call."""
    tools = mcp_tools(FakeConnection([  # type: ignore[arg-type]
        _tool("bare"),
        _tool("read_only", readOnlyHint=True),
        _tool("read_only_but_destructive", readOnlyHint=True, destructiveHint=True),
        _tool("not_destructive", destructiveHint=False),
        _tool("idempotent", idempotentHint=True),
        _tool("explicitly_not_read_only", readOnlyHint=False),
    ]))
    needs = {t.name: t.requires_approval for t in tools}
    assert needs == {
        "bare": True,
        "read_only": False,
        "read_only_but_destructive": False,  # destructiveHint is meaningless when read-only
        "not_destructive": True,
        "idempotent": True,
        "explicitly_not_read_only": True,
    }


def test_an_mcp_server_on_loopback_is_refused_by_default_and_never_contacted() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    port = listener.getsockname()[1]
    registry = Registry()
    try:
        with pytest.raises(SourceError, match="TOOLWIRE_HTTP_TOOLS_ALLOW_PRIVATE"):
            registry.add_mcp(f"http://127.0.0.1:{port}/mcp", timeout=5)
        with pytest.raises(BlockingIOError):
            listener.accept()  # no connection was even attempted
    finally:
        listener.close()
    assert registry.names == []
