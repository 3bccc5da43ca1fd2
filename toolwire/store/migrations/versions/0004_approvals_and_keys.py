"""Approval decisions on tool calls (and a message status wide enough to wait for one); API keys (stored hashed) with their owner and limits.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from toolwire.store.types import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("message") as table:  # "awaiting_approval" is 17 characters
        table.alter_column("status", type_=sa.String(32), existing_type=sa.String(16),
                           existing_nullable=False)
    with op.batch_alter_table("tool_call") as table:
        table.add_column(sa.Column("decision", sa.String(16), nullable=True))
        table.add_column(sa.Column("decided_by", sa.String(200), nullable=True))
        table.add_column(sa.Column("decided_at", UTCDateTime(), nullable=True))
        table.add_column(sa.Column("decision_reason", sa.Text(), nullable=True))
    op.create_table(
        "api_key",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("owner", sa.String(200), nullable=False, index=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("rate_per_minute", sa.Integer(), nullable=True),
        sa.Column("max_body_bytes", sa.Integer(), nullable=True),
        sa.Column("created", UTCDateTime(), nullable=False),
        sa.Column("revoked", UTCDateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("api_key")
    with op.batch_alter_table("tool_call") as table:
        for name in ("decision_reason", "decided_at", "decided_by", "decision"):
            table.drop_column(name)
    with op.batch_alter_table("message") as table:
        table.alter_column("status", type_=sa.String(16), existing_type=sa.String(32),
                           existing_nullable=False)
