"""Round trip: toolwire as an MCP client of ``toolwire mcp serve``, over stdio and over HTTP,
lists the same tools with equal schemas and gets the same results as in-process dispatch."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.petshop import free_port
from toolwire.builtin import default_registry
from toolwire.sources import SourceError, add_mcp
from toolwire.tools.dispatch import dispatch
from toolwire.tools.registry import Registry

pytestmark = pytest.mark.integration


def _server_command(home: Path, *args: str) -> list[str]:
    # the SDK starts a stdio server with a minimal environment: TOOLWIRE_HOME goes on the line
    return ["/usr/bin/env", f"TOOLWIRE_HOME={home}", sys.executable, "-m", "toolwire", "mcp",
            "serve", *args]


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "TOOLWIRE_HOME": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "toolwire", "mcp", "serve", "--http", str(port)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/mcp"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            break
        except httpx.HTTPError:
            if process.poll() is not None:
                raise RuntimeError(process.stderr.read().decode()) from None  # type: ignore[union-attr]
            time.sleep(0.2)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _round_trip(target: str | list[str]) -> None:
    local = default_registry()
    remote = Registry()
    imported = add_mcp(remote, target, timeout=60)
    try:
        assert {t.name for t in imported} == set(local.names)
        for tool in imported:
            assert tool.parameters == local.get(tool.name).parameters, tool.name
            assert tool.description == local.get(tool.name).description
            assert tool.source.startswith("mcp:")
        arguments = {"amount": 42, "from_currency": "USD", "to_currency": "CAD"}
        # a server that does not mark its tools read-only gets them approved (MCP's default)
        assert all(tool.requires_approval for tool in imported)
        there = asyncio.run(dispatch(remote, "convert_currency", arguments, approved=True))
        here = asyncio.run(dispatch(local, "convert_currency", arguments))
        assert there.status == here.status == "ok"
        assert there.result == here.result == 131.95
        # toolwire validates before forwarding; the server validates too (a client that
        # does not): both errors name the problem
        bad = asyncio.run(dispatch(remote, "convert_currency", {"amount": "lots"}))
        assert bad.status == "invalid" and "amount" in bad.error["message"]  # type: ignore[index]
        connection = imported[0].handler.connection  # type: ignore[union-attr]
        raw = asyncio.run(connection.call("convert_currency", {"amount": "lots"}))
        assert raw.isError and "invalid" in raw.content[0].text
        assert "amount" in raw.content[0].text
    finally:
        imported[0].handler.connection.close()  # type: ignore[union-attr]


def test_stdio_round_trip(tmp_path: Path) -> None:
    _round_trip(_server_command(tmp_path, "--stdio"))


def test_http_round_trip(http_server: str) -> None:
    """The server is on loopback: the operator's own, which the Python API trusts."""
    _round_trip(http_server)


def test_an_unreachable_server_is_a_clear_error_and_nothing_is_lost() -> None:
    registry = Registry()
    registry.add_schema({"name": "kept"})
    with pytest.raises(SourceError, match=r"cannot list the tools of mcp:http://127\.0\.0\.1:9/mcp"):
        add_mcp(registry, "http://127.0.0.1:9/mcp", timeout=5)
    with pytest.raises(SourceError, match="cannot list the tools of mcp:"):
        add_mcp(registry, [sys.executable, "-c", "raise SystemExit(3)"], timeout=10)
    assert registry.names == ["kept"]
