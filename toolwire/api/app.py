"""The FastAPI application: ``create_app()`` wires settings, database, engines and routers.

    uvicorn --factory toolwire.api.app:create_app      # or: toolwire serve

API keys: ``TOOLWIRE_AUTH=auto`` (the default) requires them unless the server is known to
listen on loopback only: ``toolwire serve`` passes its ``--host``; under ``uvicorn --factory``
the address is unknown, so keys are required unless ``TOOLWIRE_AUTH=off``.

Everything is injectable, so tests run the real app on a scripted model and a throwaway
database: ``create_app(engine=Engine(registry, model=ScriptedModel([...])), database_url=...)``.

Startup never dies on the database: the app serves at once, answering 503
``database_unavailable`` while it connects and migrates in the background with backoff; then
the saved tool sources are loaded (and followed: ``toolwire.service.registry``) and
the processor starts (leases renewed, expired ones taken up, pending messages claimed). On
shutdown (SIGTERM) it stops claiming, gives in-flight work ``shutdown_grace`` seconds and hands
the rest back to its lease; the model process is stopped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Collection
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy.exc import InterfaceError, OperationalError

import toolwire
from toolwire import tracing
from toolwire.api import openai_compat
from toolwire.api.auth import OPEN_PATHS, AuthGate, resolved_auth
from toolwire.api.deps import AppState, DatabaseGate
from toolwire.api.errors import ERROR_RESPONSES, install_error_handlers
from toolwire.api.guard import RequestGuard
from toolwire.api.metrics import MetricsMiddleware
from toolwire.api.request_ids import RequestIds
from toolwire.api.routes import (
    execute,
    health,
    interactions,
    messages,
    playground,
    tool_calls,
    tools,
)
from toolwire.config import Settings, get_settings
from toolwire.service.engines import Engines
from toolwire.service.metrics import Metrics, QueueDepthCollector
from toolwire.service.processing import Processor
from toolwire.service.queue import TaskQueue
from toolwire.store import migrate
from toolwire.store.db import Database
from toolwire.tools.registry import Registry

if TYPE_CHECKING:
    from toolwire.engine import Engine

log = logging.getLogger(__name__)



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
    host: str | None = None,
) -> FastAPI:
    """The toolwire REST API.

    Args:
        engine: the engine for the default model; built lazily from ``settings`` if omitted.
        registry: the tools (default: the engine's, else ``service_registry``'s); the
            sources saved in the database are loaded into it and followed.
        database_url: SQLAlchemy URL (default ``settings.resolved_database_url``).
        settings: the configuration (default: from ``TOOLWIRE_*`` variables).
        auto_migrate: bring the schema up to date on startup.
        preload_model: load the model's weights at startup instead of on the first prompt.
        recover: on startup, fail messages left running and resume pending ones.
        allowed_models: model strings clients may name besides the default and plain names.
        host: the address the server listens on, when known: with ``auth="auto"`` keys are
            off only for a loopback ``host``; unknown (``None``) means they are required.
    """
    settings = settings or get_settings()
    auth = resolved_auth(settings.auth, host)
    if auth != settings.auth:
        settings = settings.model_copy(update={"auth": auth})
    tracing.configure_tracing("toolwire-api", arguments=settings.trace_arguments)
    metrics = Metrics()
    database = Database(database_url or settings.resolved_database_url)
    engines = Engines(
        settings=settings, engine=engine, registry=registry, allowed_models=allowed_models,
        database=database,
    )
    state = AppState(
        settings=settings,
        database=database,
        engines=engines,
        processor=Processor(
            database=database,
            engines=engines,
            metrics=metrics,
            lease_seconds=settings.lease_seconds,
            max_attempts=settings.message_attempts,
            concurrency=settings.concurrency,
            queue=TaskQueue(settings.broker_url, lease_seconds=settings.lease_seconds)
            if settings.broker_url else None,
        ),
        metrics=metrics,
    )

    following: list[Callable[[], None]] = []

    async def connect() -> None:
        await wait_for_database(database, upgrade_schema=auto_migrate)
        following.append(await follow_sources(engines))
        state.database_ready = True
        if recover:
            state.processor.start()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if preload_model:
            await anyio.to_thread.run_sync(engines.preload)
        connecting = asyncio.create_task(connect(), name="toolwire-connect")
        await asyncio.wait({connecting}, timeout=5)  # a reachable database is ready at once
        try:
            yield
        finally:
            connecting.cancel()
            await asyncio.gather(connecting, return_exceptions=True)
            for halt in following:
                await anyio.to_thread.run_sync(halt)
            await state.processor.shutdown(grace=settings.shutdown_grace)
            await anyio.to_thread.run_sync(engines.close)
            database.dispose()

    app = FastAPI(
        title="toolwire",
        version=toolwire.__version__,
        summary="Sentences in, validated function calls out: every step stored.",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    app.state.toolwire = state
    queue = state.processor.queue
    if queue is not None:
        metrics.watch(QueueDepthCollector(lambda: queue.ping().get("depth")))
    if settings.auth == "required":
        _document_keys(app)
    install_error_handlers(app)
    # outermost last: metrics → CORS → database gate → keys → body guard → routes
    app.add_middleware(RequestGuard, max_body_bytes=settings.max_body_bytes)
    if settings.auth == "required":
        app.add_middleware(AuthGate, database=database, rate_per_minute=settings.rate_per_minute,
                           max_body_bytes=settings.max_body_bytes)
    app.add_middleware(DatabaseGate, state=state)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
                           expose_headers=["Idempotent-Replayed"])
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(RequestIds)
    for module in (execute, interactions, messages, tool_calls, tools, health):
        app.include_router(module.router)
    app.include_router(openai_compat.router)
    playground.install(app)
    tracing.instrument_app(app)  # a span per request, when traces are exported
    return app


def _document_keys(app: FastAPI) -> None:
    """State in the OpenAPI schema that every operation but the open ones takes a key."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schema.setdefault("components", {})["securitySchemes"] = {
                "apiKey": {"type": "http", "scheme": "bearer",
                           "description": "A key from `toolwire keys create`."}}
            for path, operations in schema["paths"].items():
                if not path.startswith(OPEN_PATHS):
                    for operation in operations.values():
                        operation["security"] = [{"apiKey": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


async def follow_sources(engines: Engines) -> Callable[[], None]:
    """Load the tool sources saved in the database (OpenAPI documents, MCP servers; one that
    fails is logged and the others load), then keep following them: an import or a forget
    through any replica shows here within ``POLL_SECONDS``. Returns what stops following."""
    sources = engines.sources
    assert sources is not None  # the app's engines have the database
    try:
        await engines.sync_sources()
    except Exception as e:  # the database went away again: following tries again
        log.warning("tool sources not loaded yet (trying again): %s", e)
    return sources.follow()


async def wait_for_database(
    database: Database, *, upgrade_schema: bool, max_delay: float = 30.0
) -> None:
    """Reach the database (and migrate it), retrying with backoff until it answers."""
    delay = 0.5
    while True:
        try:
            await anyio.to_thread.run_sync(
                migrate.upgrade if upgrade_schema else _ping, database, abandon_on_cancel=True
            )
            return
        except (OperationalError, InterfaceError) as e:
            first = (str(e.orig if hasattr(e, "orig") else e).strip().splitlines() or [""])[0]
            log.warning("database unavailable (%s); retrying in %.1f s", first, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_delay)


def _ping(database: Database) -> None:
    database.ping()

