"""Imported sources kept in the database, and loaded again when the service starts."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from toolwire.credentials import Credential
from toolwire.sources.documents import Fetch, SourceError, is_inline, is_url, load_document
from toolwire.sources.imports import add_openapi, resolve_credential
from toolwire.sources.mcp import add_mcp, server_label
from toolwire.sources.openapi import resolved_base_url, source_label
from toolwire.store.tables import SOURCE_LABEL_CHARS, ToolSource
from toolwire.tools.registry import Registry, Tool

log = logging.getLogger(__name__)


def import_openapi_source(
    registry: Registry,
    source: str | Path | dict[str, Any],
    *,
    base_url: str | None = None,
    auth: str | None = None,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    timeout: float = 30.0,
    credentials: Mapping[str, Credential] | None = None,
    check: Callable[[dict[str, Any]], None] | None = None,
    fetch: Fetch | None = None,
    allow_private: bool = False,
) -> tuple[list[Tool], ToolSource]:
    """Import an OpenAPI document into ``registry`` and the row that keeps it (to be saved).

    ``check`` sees the parsed document before anything changes and raises ``SourceError``
    for one that must not be kept (the API refuses text a database cannot store); ``fetch``
    reads a URL (the API's guards the address: ``documents.fetch_public``). ``allow_private``
    (the operator's CLI, an admin who asks): the tools may call the base URL's host even at
    an internal address; the row keeps it, so a reload does too."""
    resolve_credential(auth, credentials)  # an unknown name is refused before any fetch
    try:
        document = load_document(source, timeout=timeout, fetch=fetch)
    except RecursionError:
        raise SourceError("the document is nested too deeply to read") from None
    if check is not None:
        check(document)
    checked_label(source_label(document))
    if base_url is None and isinstance(source, str) and is_url(source):
        base_url = resolved_base_url(document, source)  # a relative server resolves now, once
    options = {"base_url": base_url, "auth": auth, "include": list(include), "exclude": list(exclude),
               "timeout": timeout, "allow_private": allow_private}
    location = str(source) if isinstance(source, str | Path) and not is_inline(str(source)) else None
    tools = add_openapi(
        registry, document, base_url=base_url, auth=auth, include=include, exclude=exclude,
        timeout=timeout, allow_private=allow_private, credentials=credentials,
    )
    row = ToolSource(kind="openapi", label=source_label(document), location=location,
                     document=document, options={k: v for k, v in options.items() if v})
    return tools, row


def import_mcp_source(
    registry: Registry, target: str | list[str], *, timeout: float = 30.0,
    allow_private: bool = False,
) -> tuple[list[Tool], ToolSource]:
    """Import an MCP server's tools into ``registry`` and the row that keeps the server
    (``allow_private``: its URL's host may be internal, kept in the row)."""
    checked_label(server_label(target))  # before connecting
    tools = add_mcp(registry, target, timeout=timeout, allow_private=allow_private)
    location = target if isinstance(target, str) else None
    options: dict[str, Any] = {"timeout": timeout}
    if allow_private:
        options["allow_private"] = True
    if not isinstance(target, str):
        options["argv"] = list(target)
    return tools, ToolSource(kind="mcp", label=server_label(target), location=location,
                             options=options)


def checked_label(label: str) -> str:
    """``label``, if a ``ToolSource`` row can keep it; ``SourceError`` otherwise."""
    if len(label) > SOURCE_LABEL_CHARS:
        raise SourceError(f"the source's label ({label[:40]}…) has {len(label)} characters; "
                          f"at most {SOURCE_LABEL_CHARS} are kept (shorten the document's "
                          "info.title or the server's URL)")
    return label


def load_saved(
    registry: Registry,
    rows: Iterable[ToolSource],
    credentials: Mapping[str, Credential] | None = None,
) -> dict[str, str]:
    """Import each saved source into ``registry``; ``{label: error}`` for those that failed
    (a server that is down, a credential no longer configured): the others still load."""
    failures: dict[str, str] = {}
    for row in rows:
        options = dict(row.options or {})
        timeout = float(options.get("timeout") or 30.0)
        try:
            if row.kind == "openapi":
                add_openapi(
                    registry, row.document or str(row.location), base_url=options.get("base_url"),
                    auth=options.get("auth"), include=options.get("include"),
                    exclude=options.get("exclude"), timeout=timeout,
                    allow_private=bool(options.get("allow_private")), credentials=credentials,
                    label=row.label,
                )
            elif row.kind == "mcp":
                add_mcp(registry, options.get("argv") or str(row.location), timeout=timeout,
                        allow_private=bool(options.get("allow_private")))
            else:
                raise SourceError(f"unknown source kind {row.kind!r}")
        except Exception as e:
            failures[row.label] = str(e)
            log.warning("tool source %s not loaded: %s", row.label, e)
    return failures
