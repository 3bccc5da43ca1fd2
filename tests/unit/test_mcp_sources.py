"""Imported MCP tools are protected by default: approval unless the server says read-only, and
no connection to an internal address over HTTP unless the operator allows it."""

from __future__ import annotations

import socket
import threading
from typing import Any

import pytest
from mcp import types

from toolwire.config import get_settings
from toolwire.sources import SourceError, add_mcp
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


def test_an_mcp_server_on_loopback_is_refused_without_allow_private_and_never_contacted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What an API client imports without an admin's ``allow_private``."""
    monkeypatch.delenv("TOOLWIRE_HTTP_TOOLS_ALLOW_PRIVATE", raising=False)
    get_settings.cache_clear()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    port = listener.getsockname()[1]
    registry = Registry()
    try:
        with pytest.raises(SourceError, match="TOOLWIRE_HTTP_TOOLS_ALLOW_PRIVATE"):
            add_mcp(registry, f"http://127.0.0.1:{port}/mcp", timeout=5, allow_private=False)
        with pytest.raises(BlockingIOError):
            listener.accept()  # no connection was even attempted
    finally:
        listener.close()
    assert registry.names == []


def test_the_operators_own_mcp_server_on_loopback_is_contacted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``add_mcp`` is the operator's: a server on 127.0.0.1 is reached with no setting (this
    one hangs up at once, so the import fails, but only after the connection was made)."""
    monkeypatch.delenv("TOOLWIRE_HTTP_TOOLS_ALLOW_PRIVATE", raising=False)
    get_settings.cache_clear()
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    contacted: list[bool] = []

    def hang_up() -> None:
        connection, _ = listener.accept()
        contacted.append(True)
        connection.close()

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    registry = Registry()
    try:
        with pytest.raises(SourceError, match="cannot list the tools") as refused:
            add_mcp(registry, f"http://127.0.0.1:{port}/mcp", timeout=10)
        assert "forbidden" not in str(refused.value).lower()
        thread.join(timeout=10)
    finally:
        listener.close()
    assert contacted == [True] and registry.names == []
