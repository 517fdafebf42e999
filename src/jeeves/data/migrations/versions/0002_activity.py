"""activity log (who, action, outcome, latency, time) for usage statistics.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "activity",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("event_id", sa.String(128), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("latency_ms", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name="pk_activity"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_activity_user_id_users", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("event_id", name="uq_activity_event_id"),
    )
    op.create_index("ix_activity_at_action", "activity", ["at", "action"])
    op.create_index("ix_activity_user_id", "activity", ["user_id"])


def downgrade() -> None:
    op.drop_table("activity")
