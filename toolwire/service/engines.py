"""Which engine runs a prompt: the server's default, or one per allowed model string.

The default engine is built on first use (or at startup with ``preload``), so importing the
app never loads a model. A request may name another model; only plain names of the known
providers are accepted from clients (no file paths, URLs or ``scripted:`` imports), unless
the server lists the exact string in ``allowed_models``.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from typing import TYPE_CHECKING

import anyio.to_thread

from toolwire.config import Settings
from toolwire.service.errors import Invalid
from toolwire.service.registry import SavedSources, service_registry
from toolwire.store.db import Database
from toolwire.tools.registry import Registry

if TYPE_CHECKING:
    from toolwire.engine import Engine
    from toolwire.models.base import Model

CLIENT_PROVIDERS = ("local", "openai", "anthropic", "gemini")


def check_model_string(model: str, *, default: str, allowed: Collection[str] = ()) -> None:
    """Refuse (422) a model string a client may not choose."""
    if model == default or model in allowed:
        return
    provider, _, name = model.partition(":")
    if provider not in CLIENT_PROVIDERS or not name or any(c in name for c in "/\\@"):
        raise Invalid(
            "model_not_allowed",
            f"model {model!r} is not allowed here: use the server's default ({default!r}) or "
            "a plain model name such as openai:gpt-4o-mini",
        )


class Engines:
    """Engines by model string, built lazily and shared by all requests."""

    def __init__(
        self,
        *,
        settings: Settings,
        engine: Engine | None = None,
        registry: Registry | None = None,
        allowed_models: Collection[str] = (),
        database: Database | None = None,
    ) -> None:
        """``database`` holds the saved tool sources: the registry is kept in step with them
        (``sources``, ``sync_sources``)."""
        self.settings = settings
        self._configured_model = settings.model
        self.default_model = engine.model.name if engine is not None else settings.model
        self._registry = registry if registry is not None else _registry_of(engine)
        self._engines: dict[str, Engine] = {}
        self._default = engine
        self.allowed_models = frozenset(allowed_models)
        self._lock = threading.Lock()
        self._database = database
        self._sources: SavedSources | None = None

    @property
    def registry(self) -> Registry:
        """The tools every engine selects from: ``service_registry``'s unless given."""
        if self._registry is None:
            self._registry = service_registry(self.settings)
        return self._registry

    @property
    def sources(self) -> SavedSources | None:
        """The database's saved tool sources, kept loaded in ``registry`` (``None`` without a
        database)."""
        if self._sources is None and self._database is not None:
            self._sources = SavedSources(self.registry, self._database,
                                         credentials=self.settings.credentials)
        return self._sources

    async def sync_sources(self, at_least: int | None = None) -> None:
        """Load the saved sources up to version ``at_least`` at least (``None``: the newest),
        in a worker thread; nothing without a database."""
        sources = self.sources
        if sources is not None:
            await anyio.to_thread.run_sync(sources.at_least, at_least)

    def check(self, model: str | None) -> None:
        """Refuse (422) a model string a client may not choose."""
        if model is not None:
            check_model_string(model, default=self.default_model, allowed=self._allowed())

    def _allowed(self) -> frozenset[str]:
        return self.allowed_models | {self._configured_model}

    def get(self, model: str | None = None) -> Engine:
        """The engine for ``model`` (``None``: the default), built on first use."""
        with self._lock:
            if model is None or model in (self.default_model, self._configured_model):
                if self._default is None:
                    self._default = self._build(self._configured_model)
                return self._default
            if model not in self._engines:
                self._engines[model] = self._build(model)
            return self._engines[model]

    async def aget(self, model: str | None = None) -> Engine:
        """``get``, in a worker thread when the engine must be built (that may read files)."""
        built = self.built(model)
        return built if built is not None else await anyio.to_thread.run_sync(self.get, model)

    def built(self, model: str | None) -> Engine | None:
        if model is None or model in (self.default_model, self._configured_model):
            return self._default
        return self._engines.get(model)

    def _build(self, model: str) -> Engine:
        from toolwire.engine import Engine

        return Engine(self.registry, model=model, settings=self.settings)

    def models(self) -> list[Model]:
        """The models of the engines built so far (the default first)."""
        built = [self._default, *self._engines.values()]
        return [engine.model for engine in built if engine is not None]

    def close(self) -> None:
        """Stop the model processes of every built engine."""
        for model in self.models():
            model.close()

    def preload(self) -> None:
        """Build the default engine and load its model's weights now (at startup)."""
        self.get().model.load()


def _registry_of(engine: Engine | None) -> Registry | None:
    registry = getattr(engine, "registry", None)
    return registry if isinstance(registry, Registry) else None
