"""Column types that behave the same on SQLite and PostgreSQL.

- ``UTCDateTime``: timestamps are stored in UTC and always come back timezone-aware
  (SQLite keeps no zone, so one is attached on the way out).
- ``JSONType``: JSON on SQLite, JSONB on PostgreSQL; ``None`` is stored as SQL ``NULL``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

JSONType = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def to_json(value: Any) -> Any:
    """``value`` as plain JSON data; anything JSON cannot hold is kept as its ``str``."""
    return json.loads(json.dumps(value, default=str))


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp stored as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
