"""Interactions, messages and tool calls.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from toolwire.store.types import JSONType, UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamps(*names: str, nullable: bool = False) -> list[sa.Column[object]]:
    return [sa.Column(name, UTCDateTime(), nullable=nullable) for name in names]


def upgrade() -> None:
    op.create_table(
        "interaction",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("system_prompt", sa.Text(), nullable=True),
        sa.Column("model", sqlmodel.AutoString(length=200), nullable=True),
        sa.Column("settings", JSONType, nullable=False),
        sa.Column("owner", sqlmodel.AutoString(length=200), nullable=True),
        *_timestamps("created", "updated"),
    )
    for column in ("owner", "created", "updated"):
        op.create_index(f"ix_interaction_{column}", "interaction", [column])

    op.create_table(
        "message",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "interaction_id",
            sa.Uuid(),
            sa.ForeignKey("interaction.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "reply_to_id", sa.Uuid(), sa.ForeignKey("message.id", ondelete="CASCADE"), nullable=True
        ),
        *_timestamps("created", "updated"),
    )
    for column in ("interaction_id", "status", "reply_to_id", "created", "updated"):
        op.create_index(f"ix_message_{column}", "message", [column])

    op.create_table(
        "tool_call",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "message_id", sa.Uuid(), sa.ForeignKey("message.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("call_id", sqlmodel.AutoString(length=200), nullable=False),
        sa.Column("name", sqlmodel.AutoString(length=200), nullable=False),
        sa.Column("arguments", JSONType, nullable=False),
        sa.Column("attempts", JSONType, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("result", JSONType, nullable=True),
        sa.Column("error", JSONType, nullable=True),
        sa.Column("snippet", sa.Text(), nullable=True),
        *_timestamps("started", "finished", nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        *_timestamps("created"),
    )
    for column in ("message_id", "name", "status", "created"):
        op.create_index(f"ix_tool_call_{column}", "tool_call", [column])


def downgrade() -> None:
    op.drop_table("tool_call")
    op.drop_table("message")
    op.drop_table("interaction")
