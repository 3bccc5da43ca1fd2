"""The tool sources' version: one row every import and forget bumps, so every process sees the
change by reading it; each message keeps the version it was accepted under.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from toolwire.store.types import UTCDateTime, utcnow

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "tool_source_version",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated", UTCDateTime(), nullable=False),
    )
    op.bulk_insert(table, [{"id": 1, "version": 0, "updated": utcnow()}])
    with op.batch_alter_table("message") as message:
        message.add_column(sa.Column("sources_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("message") as message:
        message.drop_column("sources_version")
    op.drop_table("tool_source_version")
