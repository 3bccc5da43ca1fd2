"""``toolwire serve`` and ``toolwire db ...``: mounted on the main CLI by ``toolwire.cli``."""

from __future__ import annotations

import signal
from typing import Annotated

import typer

from toolwire.api.auth import is_loopback, resolved_auth
from toolwire.config import Settings
from toolwire.logs import configure_logging
from toolwire.memory import tune_malloc

db_app = typer.Typer(help="Database schema: migrations and status.", no_args_is_help=True)

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db (default: "
        "TOOLWIRE_DATABASE_URL, else a SQLite file under TOOLWIRE_HOME)",
    ),
]


def _settings(*, model: str | None = None, database_url: str | None = None) -> Settings:
    overrides: dict[str, str] = {}
    if model:
        overrides["model"] = model
    if database_url:
        overrides["database_url"] = database_url
    return Settings(**overrides)  # type: ignore[arg-type]


def _shown(url: str) -> str:
    from sqlalchemy import make_url

    return make_url(url).render_as_string(hide_password=True)


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Model string (default TOOLWIRE_MODEL).")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Run the REST API (OpenAPI docs at /docs). Migrates the database and loads the model first.

    Example: toolwire serve --port 8000, then
    curl -X POST localhost:8000/execute -H 'content-type: application/json' \
         -d '{"prompt": "convert 42 USD to CAD"}'
    """
    settings = _settings(model=model, database_url=database_url)
    # First, before any thread allocates (glibc fixes its arena limit then) and before the
    # app loads the embedder and starts the model process: glibc's sliding mmap threshold
    # and per-thread arenas kept ~100 MB of freed memory resident under load.
    tune_malloc(enabled=settings.malloc_tuning)
    import uvicorn

    from toolwire.api.app import create_app
    from toolwire.service.metrics import MetricsConfigError

    settings.auth = resolved_auth(settings.auth, host)
    if settings.auth == "off" and not is_loopback(host):
        typer.echo(f"toolwire: WARNING: serving {host} without API keys (TOOLWIRE_AUTH=off)", err=True)
    typer.echo(f"toolwire: model {settings.model}, database {_shown(settings.resolved_database_url)}, "
               f"API keys {'required' if settings.auth == 'required' else 'off'}")
    configure_logging(json_format=settings.log_format == "json")
    try:
        app = create_app(settings=settings, preload_model=True, host=host)
    except MetricsConfigError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    # SIGTERM: stop accepting, give in-flight requests shutdown_grace seconds, then cancel
    # them (their messages go back to their leases) instead of waiting forever. uvicorn
    # raises the signal again once it has shut down, into the handler found before it: a
    # stop that was asked for and done cleanly exits 0 (`docker stop`), not 143.
    signal.signal(signal.SIGTERM, _stopped)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        log_config=None,  # the handler configure_logging installed
        timeout_graceful_shutdown=max(1, round(settings.shutdown_grace)),
    )


def _stopped(signum: int, _frame: object) -> None:
    raise SystemExit(0)


@db_app.command("upgrade")
def upgrade(database_url: DatabaseOption = None) -> None:
    """Apply the migrations the database lacks (serve does this on startup too)."""
    from toolwire.store.db import Database
    from toolwire.store.migrate import current_revision, upgrade

    database = Database(_settings(database_url=database_url).resolved_database_url)
    try:
        upgrade(database)
        typer.echo(f"{_shown(database.url)}: at revision {current_revision(database)}")
    finally:
        database.dispose()


@db_app.command("current")
def current(database_url: DatabaseOption = None) -> None:
    """Show the database's revision and the newest one toolwire ships."""
    from toolwire.store.db import Database
    from toolwire.store.migrate import current_revision, head_revision

    database = Database(_settings(database_url=database_url).resolved_database_url)
    try:
        revision = current_revision(database)
    finally:
        database.dispose()
    head = head_revision()
    state = "up to date" if revision == head else "needs: toolwire db upgrade"
    typer.echo(f"{_shown(database.url)}: revision {revision or '(empty)'}, head {head} ({state})")
