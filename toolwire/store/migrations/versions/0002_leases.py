"""Message leases (owner, expiry, attempts) and tool-call idempotency keys.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from toolwire.store.types import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("message") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(64), nullable=True))
        batch.add_column(sa.Column("lease_expires", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.create_index("ix_message_lease_expires", ["lease_expires"])
    with op.batch_alter_table("tool_call") as batch:
        batch.add_column(sa.Column("idempotency_key", sa.String(64), nullable=True))
        batch.create_index("ix_tool_call_idempotency_key", ["idempotency_key"])


def downgrade() -> None:
    with op.batch_alter_table("tool_call") as batch:
        batch.drop_index("ix_tool_call_idempotency_key")
        batch.drop_column("idempotency_key")
    with op.batch_alter_table("message") as batch:
        batch.drop_index("ix_message_lease_expires")
        batch.drop_column("attempts")
        batch.drop_column("lease_expires")
        batch.drop_column("lease_owner")
