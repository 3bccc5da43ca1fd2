"""One tool call per idempotency key and message: a process fenced out of its lease, or any
other race, cannot record the same call twice.

Rows recorded twice before (the race this closes) keep their history: the earliest keeps
the key, the later ones lose it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSTRAINT = "uq_tool_call_message_id_idempotency_key"

LATER_DUPLICATES = sa.text("""
UPDATE tool_call SET idempotency_key = NULL
WHERE idempotency_key IS NOT NULL AND EXISTS (
    SELECT 1 FROM tool_call AS earlier
    WHERE earlier.message_id = tool_call.message_id
      AND earlier.idempotency_key = tool_call.idempotency_key
      AND (earlier.created < tool_call.created
           OR (earlier.created = tool_call.created AND earlier.id < tool_call.id))
)
""")


def upgrade() -> None:
    op.get_bind().execute(LATER_DUPLICATES)
    with op.batch_alter_table("tool_call") as table:
        table.create_unique_constraint(CONSTRAINT, ["message_id", "idempotency_key"])


def downgrade() -> None:
    with op.batch_alter_table("tool_call") as table:
        table.drop_constraint(CONSTRAINT, type_="unique")
