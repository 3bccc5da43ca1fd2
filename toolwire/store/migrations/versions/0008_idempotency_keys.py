"""Idempotency keys: the first answer to a request sent with an ``Idempotency-Key`` header,
kept for its retries.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from toolwire.store.types import JSONType, UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_key",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("route", sa.String(300), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("body", JSONType, nullable=True),
        sa.Column("headers", JSONType, nullable=False),
        sa.Column("created", UTCDateTime(), nullable=False, index=True),
        sa.UniqueConstraint("owner", "key", name="uq_idempotency_key_owner_key"),
    )


def downgrade() -> None:
    op.drop_table("idempotency_key")
