"""Schema migrations from code: ``upgrade(url)`` is what ``toolwire db upgrade`` and ``serve`` run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from toolwire.store.db import Database

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at toolwire's migrations and ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (the newest by default)."""
    config = alembic_config(database.url)
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(database: Database) -> str | None:
    """The revision the database is at; ``None`` for an empty database."""
    with database.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest revision toolwire ships."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


@contextmanager
def opened(url: str) -> Iterator[Database]:
    """The database at ``url``, migrated, disposed of afterwards (for commands)."""
    database = Database(url)
    try:
        upgrade(database)
        yield database
    finally:
        database.dispose()
