"""``toolwire tools import-openapi|import-mcp|sources`` and ``toolwire mcp serve``.

Every command that needs the service's tools builds them with
``toolwire.service.registry.service_registry`` over the configured database; ``mcp serve``
keeps following the saved sources while it runs, as the API does.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import Annotated

import typer
from rich.console import Console

from toolwire.config import Settings, get_settings
from toolwire.sources.documents import SourceError
from toolwire.store.db import Database
from toolwire.tools.registry import Registry, Tool

mcp_app = typer.Typer(help="Serve the registry over MCP.", no_args_is_help=True)
err = Console(stderr=True)


def _database(settings: Settings) -> AbstractContextManager[Database]:
    from toolwire.store import migrate

    return migrate.opened(settings.resolved_database_url)


def service_tools(settings: Settings | None = None) -> Registry:
    """The service's tools for one command (``service_registry`` with the configured
    database); without a database, a warning and the tools that need none."""
    from sqlalchemy.exc import SQLAlchemyError

    from toolwire.service.registry import service_registry

    settings = settings or get_settings()
    try:
        with _database(settings) as database:
            return service_registry(settings, database)
    except SQLAlchemyError as e:  # no database: the built-in tools still work
        err.print(f"[yellow]warning:[/yellow] imported tool sources not loaded: {e}")
        return service_registry(settings)


@contextmanager
def _followed_tools(settings: Settings) -> Iterator[Registry]:
    """The service's tools, the saved sources followed while the block runs (an import or a
    forget anywhere shows within seconds)."""
    from sqlalchemy.exc import SQLAlchemyError

    from toolwire.service.registry import SavedSources, service_registry

    registry = service_registry(settings)
    with ExitStack() as stack:
        try:
            database = stack.enter_context(_database(settings))
        except SQLAlchemyError as e:  # no database: the other tools are served all the same
            err.print(f"[yellow]warning:[/yellow] imported tool sources not loaded: {e}")
        else:
            sources = SavedSources(registry, database, credentials=settings.credentials)
            sources.refresh()
            stack.callback(sources.follow())
        yield registry


def _report(tools: list[Tool], label: str, as_json: bool) -> None:
    if as_json:
        rows = [{"name": t.name, "source": t.source, "requires_approval": t.requires_approval}
                for t in tools]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    typer.echo(f"imported {len(tools)} tools from {label}:")
    for t in tools:
        typer.echo(f"  {t.name}" + ("  (needs approval)" if t.requires_approval else ""))


def import_openapi(
    source: Annotated[str, typer.Argument(help="Path or URL of an OpenAPI/Swagger document.")],
    base_url: Annotated[str | None, typer.Option(help="Overrides the document's servers.")] = None,
    auth: Annotated[str | None, typer.Option(help="A credential's name in "
                                                  "TOOLWIRE_CREDENTIALS.")] = None,
    include: Annotated[list[str] | None, typer.Option(help="operationId or 'METHOD /path' "
                                                           "glob to import (repeatable).")] = None,
    exclude: Annotated[list[str] | None, typer.Option(help="Glob to leave out.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Import an OpenAPI 3.x / Swagger 2.0 document's operations as HTTP tools, kept in the
    database (every running service process loads them within seconds). The tools may call
    the base URL's host even on loopback or a private network: the operator imported it."""
    from toolwire.sources.saved import import_openapi_source
    from toolwire.store import data

    settings = get_settings()
    try:
        tools, row = import_openapi_source(
            Registry(), source, base_url=base_url, auth=auth, include=include or (),
            exclude=exclude or (), timeout=settings.http_timeout,
            credentials=settings.credentials, allow_private=True,  # the operator's own source
        )
    except SourceError as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(2) from None
    with _database(settings) as database:
        database.write_sync(lambda s: data.save_tool_source(session=s, source=row))
    _report(tools, row.label, as_json)


def import_mcp(
    server: Annotated[list[str], typer.Argument(help="The server's command line (stdio), or "
                                                     "its streamable-HTTP URL.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Import the tools of an MCP server, kept in the database (calls are forwarded to it).

    Example: toolwire tools import-mcp -- python -m my_mcp_server --flag"""
    from toolwire.sources.saved import import_mcp_source
    from toolwire.store import data

    settings = get_settings()
    target: str | list[str] = server[0] if len(server) == 1 else server
    registry = Registry()
    try:
        tools, row = import_mcp_source(registry, target, timeout=settings.http_timeout,
                                       allow_private=True)  # the operator's own server
    except SourceError as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(2) from None
    finally:
        for tool in registry:
            close = getattr(getattr(tool.handler, "connection", None), "close", None)
            if close is not None:
                close()
                break
    with _database(settings) as database:
        database.write_sync(lambda s: data.save_tool_source(session=s, source=row))
    _report(tools, row.label, as_json)


def sources(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the imported tool sources."""
    from toolwire.store import data

    with _database(get_settings()) as database:
        rows = database.read_sync(lambda s: data.list_tool_sources(session=s))
    if as_json:
        out = [{"label": r.label, "kind": r.kind, "location": r.location, "options": r.options}
               for r in rows]
        sys.stdout.write(json.dumps(out, indent=2) + "\n")
        return
    for r in rows:
        typer.echo(f"{r.label}  ({r.kind}: {r.location or 'inline document'})")


@mcp_app.command("serve")
def mcp_serve(
    stdio: Annotated[bool, typer.Option("--stdio", help="Speak MCP on stdin/stdout "
                                                        "(the default).")] = False,
    http: Annotated[int | None, typer.Option("--http", help="Serve streamable HTTP on this "
                                                            "port (path /mcp).")] = None,
    host: Annotated[str, typer.Option(help="Interface for --http.")] = "127.0.0.1",
) -> None:
    """Expose the registry's tools to any MCP client; calls run through toolwire's dispatch."""
    from toolwire.mcp_server import run_stdio, serve_http

    if stdio and http is not None:
        err.print("[red]error:[/red] choose --stdio or --http PORT, not both")
        raise typer.Exit(2)
    with _followed_tools(get_settings()) as registry:
        if http is not None:
            err.print(f"toolwire MCP server on http://{host}:{http}/mcp "
                      f"({len(registry.names)} tools)")
            serve_http(registry, host=host, port=http)
        else:
            run_stdio(registry)
