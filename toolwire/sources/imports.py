"""Adding a source's tools to a registry: all of them, or none (and nothing lost)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from toolwire.credentials import Credential
from toolwire.sources.documents import SourceError, is_url, load_document
from toolwire.sources.openapi import OpenApiSource, openapi_tools, source_label
from toolwire.tools.registry import Registry, Tool


def resolve_credential(
    auth: Credential | str | None, credentials: Mapping[str, Credential] | None
) -> tuple[Credential | None, str | None]:
    """``(credential, its name)`` for ``auth``: a configured name, a credential, or none."""
    if auth is None:
        return None, None
    if not isinstance(auth, str):
        return auth, getattr(auth, "type", "api")
    if credentials is None:
        from toolwire.config import get_settings

        credentials = get_settings().credentials
    if auth not in credentials:
        known = ", ".join(sorted(credentials)) or "none are configured"
        raise SourceError(f"no credential named {auth!r} in TOOLWIRE_CREDENTIALS ({known})")
    return credentials[auth], auth


def add_tools(registry: Registry, tools: list[Tool], *, replace_source: str | None = None) -> None:
    """Add ``tools`` to ``registry`` together; a name already taken (by another source) fails
    the whole import before anything changes. ``replace_source`` re-imports one source: its
    earlier tools are swapped for the new ones (and are back if adding the new ones fails)."""
    taken = [t.name for t in tools if t.name in registry
             and registry.get(t.name).source != replace_source]
    if taken:
        raise SourceError("tools already registered under these names: " + ", ".join(taken[:10]))
    names = [t.name for t in tools]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise SourceError("the source names two tools alike: " + ", ".join(twice[:10]))
    before = snapshot(registry)
    if replace_source is not None:
        for tool in [t for t in registry if t.source == replace_source]:
            registry.remove(tool.name)
    try:
        for tool in tools:
            registry.add(tool)
    except Exception:
        restore(registry, before)
        raise


def snapshot(registry: Registry) -> dict[str, Tool]:
    """The registry's tools by name, for ``restore``."""
    return {t.name: t for t in registry}


def restore(registry: Registry, before: Mapping[str, Tool]) -> None:
    """Put ``registry`` back as it was at ``snapshot``: an import that cannot be kept takes
    back the tools it added and returns those it replaced."""
    for tool in list(registry):
        if before.get(tool.name) is not tool:
            registry.remove(tool.name)
    for name, tool in before.items():
        if name not in registry:
            registry.add(tool)


def add_openapi(
    registry: Registry,
    source: str | Path | dict[str, Any],
    *,
    base_url: str | None = None,
    auth: Credential | str | None = None,
    include: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
    timeout: float = 30.0,
    allow_private: bool = True,
    credentials: Mapping[str, Credential] | None = None,
    label: str | None = None,
) -> list[Tool]:
    """Import an OpenAPI 3.x / Swagger 2.0 document (URL, path, text or dict) into
    ``registry``: one tool per operation, calling the real API (see ``openapi.py``). All the
    operations are added, or none (``SourceError`` says why).

    ``auth`` names a configured credential (``TOOLWIRE_CREDENTIALS``, or ``credentials``) or
    is a ``toolwire.credentials`` object. ``allow_private``: the tools may call the base URL's
    host and port even at a loopback or private address. The default suits the operator, who
    imports their own API here; a source an API client names is imported without it."""
    credential, auth_name = resolve_credential(auth, credentials)  # before any fetch
    document = load_document(source, timeout=timeout)
    spec = OpenApiSource(
        document=document,
        origin=source if isinstance(source, str) and is_url(source) else "",
        base_url=base_url,
        credential=credential,
        auth_name=auth_name,
        include=tuple(include or ()),
        exclude=tuple(exclude or ()),
        timeout=timeout,
        tool_source=label or source_label(document),
        allow_private=allow_private,
    )
    tools = openapi_tools(spec)
    add_tools(registry, tools, replace_source=spec.tool_source)
    return tools
