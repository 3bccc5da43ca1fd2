"""Shared fixtures: throwaway databases for the persistence and API tests.

``database_url`` is parametrised over a SQLite file and a real PostgreSQL database (created
and dropped per test on ``TOOLWIRE_TEST_POSTGRES``, default the local server). When the
PostgreSQL server cannot be reached the PostgreSQL cases are skipped, except under ``CI=true``
where they fail: CI must run them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings

if TYPE_CHECKING:
    from toolwire.store.db import Database

# No deadline per generated example: the machines are shared and noisy, and speed is checked
# by the benchmarks (bench/), never by a unit test's clock.
settings.register_profile("toolwire", deadline=None)
settings.load_profile("toolwire")

POSTGRES_ADMIN_URL = os.environ.get(
    "TOOLWIRE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, uniquely named PostgreSQL database (dropped afterwards); yields its URL."""
    import psycopg
    from sqlalchemy import make_url

    name = f"toolwire_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as e:
        message = f"PostgreSQL unreachable at {POSTGRES_ADMIN_URL}: {e}"
        if _in_ci():
            pytest.fail(f"{message} (CI runs the PostgreSQL tests; start the server)")
        pytest.skip(message)
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql+psycopg", database=name)
            yield url.render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'toolwire.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, then a real PostgreSQL database."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    with postgres_database() as url:
        yield url


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A migrated ``toolwire.store.db.Database`` on ``database_url``."""
    from toolwire.store.db import Database
    from toolwire.store.migrate import upgrade

    db = Database(database_url)
    upgrade(db)
    yield db
    db.dispose()


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test gets its own TOOLWIRE_HOME (database, caches) and fresh settings."""
    from toolwire.config import get_settings

    monkeypatch.setenv("TOOLWIRE_HOME", str(tmp_path_factory.mktemp("toolwire-home")))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
