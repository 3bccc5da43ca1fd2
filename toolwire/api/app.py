"""The FastAPI application: ``create_app()`` wires settings, database, engines and routers.

    uvicorn --factory toolwire.api.app:create_app      # or: toolwire serve

Everything is injectable, so tests run the real app on a scripted model and a throwaway
database: ``create_app(engine=Engine(registry, model=ScriptedModel([...])), database_url=...)``.
On startup the schema is migrated, messages a dead worker left running are marked failed and
pending ones are picked up; on shutdown background work is cancelled (and marked failed).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

import anyio.to_thread
from fastapi import FastAPI

import toolwire
from toolwire.api import openai_compat
from toolwire.api.content_type import FormAsJsonMiddleware
from toolwire.api.deps import AppState
from toolwire.api.engines import Engines
from toolwire.api.errors import install_error_handlers
from toolwire.api.metrics import Metrics, MetricsMiddleware
from toolwire.api.processing import Processor
from toolwire.api.routes import execute, health, interactions, messages, tools
from toolwire.config import Settings, get_settings
from toolwire.store import migrate
from toolwire.store.db import Database
from toolwire.tools import Registry

if TYPE_CHECKING:
    from toolwire.engine import Engine

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=10)


def create_app(
    *,
    engine: Engine | None = None,
    registry: Registry | None = None,
    database_url: str | None = None,
    settings: Settings | None = None,
    auto_migrate: bool = True,
    preload_model: bool = False,
    recover: bool = True,
    allowed_models: Collection[str] = (),
) -> FastAPI:
    """The toolwire REST API.

    Args:
        engine: the engine for the default model; built lazily from ``settings`` if omitted.
        registry: the tools (default: the engine's, else the built-in ones).
        database_url: SQLAlchemy URL (default ``settings.resolved_database_url``).
        settings: the configuration (default: from ``TOOLWIRE_*`` variables).
        auto_migrate: bring the schema up to date on startup.
        preload_model: load the model's weights at startup instead of on the first prompt.
        recover: on startup, fail messages left running and resume pending ones.
        allowed_models: model strings clients may name besides the default and plain names.
    """
    settings = settings or get_settings()
    metrics = Metrics()
    database = Database(database_url or settings.resolved_database_url)
    engines = Engines(
        settings=settings, engine=engine, registry=registry, allowed_models=allowed_models
    )
    state = AppState(
        settings=settings,
        database=database,
        engines=engines,
        processor=Processor(database=database, engines=engines, metrics=metrics),
        metrics=metrics,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if auto_migrate:
            await anyio.to_thread.run_sync(migrate.upgrade, database)
        if preload_model:
            await anyio.to_thread.run_sync(engines.preload)
        if recover:
            await state.processor.recover(stale_after=STALE_AFTER)
        try:
            yield
        finally:
            await state.processor.shutdown()
            database.dispose()

    app = FastAPI(
        title="toolwire",
        version=toolwire.__version__,
        summary="Sentences in, validated function calls out: every step stored.",
        lifespan=lifespan,
    )
    app.state.toolwire = state
    install_error_handlers(app)
    app.add_middleware(FormAsJsonMiddleware)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    for module in (execute, interactions, messages, tools, health):
        app.include_router(module.router)
    app.include_router(openai_compat.router)
    return app
