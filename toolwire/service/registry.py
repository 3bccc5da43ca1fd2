"""The service's tools, built one way for every process and kept in step with the database.

    registry = service_registry(settings, database)

gives the built-in tools, those declared in ``TOOLWIRE_TOOL_MODULES``, the sandboxed ones of
``TOOLWIRE_SANDBOX_MODULES`` (``toolwire.builtin.default_registry``) and the tool sources saved
in the database (OpenAPI documents, MCP servers). The API, the worker, the CLI and
``toolwire mcp serve`` all build theirs here; ``toolwire.Engine()`` without a registry stays
on the built-in tools and needs no database.

Sources change through the database only. Every import and every forget bumps one version row
in the same transaction (``data.save_tool_source``, ``data.delete_tool_source``). A process
that keeps serving holds ``SavedSources`` over its registry: ``refresh()`` reads that row (one
cheap read) and, when it moved, adds the sources it lacks and removes the forgotten ones, in
place, so every engine sharing the registry and its retrieval index (kept in step by
``Registry.add``/``remove``) sees the change. The API and ``toolwire mcp serve`` refresh every
``POLL_SECONDS`` (``follow``); before running a message, the Processor loads at least the
version the message was accepted under (``Message.sources_version``), so a worker offers the
tools the API would have.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping

from toolwire.builtin import default_registry
from toolwire.config import Settings
from toolwire.credentials import Credential
from toolwire.sources.imports import restore, snapshot
from toolwire.sources.mcp import McpCall, McpConnection
from toolwire.sources.saved import load_saved
from toolwire.store import data
from toolwire.store.db import Database
from toolwire.store.tables import ToolSource
from toolwire.tools.registry import Registry, Tool

__all__ = ["POLL_SECONDS", "SavedSources", "service_registry"]

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
"""How often a following process reads the sources' version: an import or a forget on one
replica shows on the others within about this long."""

Load = Callable[[], tuple[list[Tool], ToolSource]]
"""Imports a source into the registry of ``SavedSources``; returns its tools and the row to
save (``toolwire.sources.saved.import_openapi_source`` or ``import_mcp_source``, bound)."""


def service_registry(settings: Settings, database: Database | None = None) -> Registry:
    """The tools the service serves: built-in, declared, sandboxed and (with ``database``) the
    saved sources as they are now. A source that does not load is logged and left out."""
    registry = default_registry(settings)
    if database is not None:
        SavedSources(registry, database, credentials=settings.credentials).refresh()
    return registry


class SavedSources:
    """The tool sources saved in ``database``, kept loaded in ``registry``.

    One lock orders every change this object makes, so a refresh never interleaves with an
    import or a forget made through it.
    """

    def __init__(
        self,
        registry: Registry,
        database: Database,
        *,
        credentials: Mapping[str, Credential] | None = None,
    ) -> None:
        self.registry = registry
        self.database = database
        self.credentials = credentials
        self.version: int | None = None
        """The sources' version loaded last; ``None`` before the first refresh."""
        self.failures: dict[str, str] = {}
        """Saved sources that did not load, with why (tried again when the version moves)."""
        self._loaded: dict[str, uuid.UUID] = {}
        self._lock = threading.Lock()

    def refresh(self) -> bool:
        """Load the sources added and drop those forgotten since the last refresh; whether
        the version had moved (nothing is read beyond the version when it had not)."""
        with self._lock:
            version = self.database.read_sync(lambda s: data.tool_sources_version(session=s))
            if version == self.version:
                return False
            rows = self.database.read_sync(lambda s: data.list_tool_sources(session=s))
            self._apply(rows)
            self.version = version  # read before the rows: a change between reads is redone
            return True

    def at_least(self, version: int | None) -> None:
        """Refresh unless the sources of ``version`` are loaded already (``None``, a message
        stored before versions were kept: refresh)."""
        loaded = self.version
        if version is None or loaded is None or loaded < version:
            self.refresh()

    def add(self, load: Load) -> list[Tool]:
        """Import a source here with ``load`` and save its row (the version moves with it);
        when either fails, the registry is put back as it was and the error raised."""
        with self._lock:
            before = snapshot(self.registry)
            try:
                tools, row = load()
                self.database.write_sync(lambda s: data.save_tool_source(session=s, source=row))
            except BaseException:
                restore(self.registry, before)
                raise
            replaced = [t for t in before.values() if t.source == row.label]
            _close_connections(replaced, keep=self.registry)
            self._loaded[row.label] = row.id
            self.failures.pop(row.label, None)
        return tools

    def forget(self, label: str) -> bool:
        """Delete the saved source ``label`` and remove its tools here (other processes at
        their next refresh); whether there was a row or a tool to forget."""
        with self._lock:
            found = self.database.write_sync(
                lambda s: data.delete_tool_source(session=s, label=label))
            dropped = self._drop(label)
            self.failures.pop(label, None)
        return found or bool(dropped)

    def follow(self, interval: float = POLL_SECONDS) -> Callable[[], None]:
        """Refresh every ``interval`` seconds on a daemon thread; returns the function that
        stops it. A failed refresh (the database away) is logged and tried again."""
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(interval):
                try:
                    self.refresh()
                except Exception as e:
                    log.warning("tool sources not refreshed (trying again): %s", e)

        thread = threading.Thread(target=loop, name="toolwire-sources", daemon=True)
        thread.start()

        def halt() -> None:
            stop.set()
            thread.join(timeout=30)

        return halt

    # -- applying a change ------------------------------------------------------------------
    def _apply(self, rows: list[ToolSource]) -> None:
        current = {row.label: row for row in rows}
        for label in [label for label in self._loaded if label not in current]:
            self._drop(label)
        fresh = [row for row in rows if self._loaded.get(row.label) != row.id]
        before = snapshot(self.registry)
        failures = load_saved(self.registry, fresh, self.credentials)
        for row in fresh:
            if row.label not in failures:
                _close_connections([t for t in before.values() if t.source == row.label],
                                   keep=self.registry)
                self._loaded[row.label] = row.id
        self.failures = {
            label: error for label, error in {**self.failures, **failures}.items()
            if label in current and self._loaded.get(label) != current[label].id
        }

    def _drop(self, label: str) -> list[Tool]:
        tools = [t for t in self.registry if t.source == label]
        for tool in tools:
            self.registry.remove(tool.name)
        self._loaded.pop(label, None)
        _close_connections(tools, keep=self.registry)
        return tools


def _close_connections(tools: Iterable[Tool], *, keep: Registry) -> None:
    """End the MCP sessions of ``tools`` that no tool of ``keep`` still uses."""
    used = {id(c) for c in map(_connection, keep) if c is not None}
    for connection in {id(c): c for c in map(_connection, tools) if c is not None}.values():
        if id(connection) not in used:
            connection.close()


def _connection(tool: Tool) -> McpConnection | None:
    return tool.handler.connection if isinstance(tool.handler, McpCall) else None
