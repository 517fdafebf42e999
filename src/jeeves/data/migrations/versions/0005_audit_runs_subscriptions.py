"""audit log for action runs: an idempotency `key` per record and an index on `at` (time
filters, retention); per-user subscriptions to daily action alerts ("weather every day at 7:30").

Revision ID: 0005_audit_runs_subscriptions
Revises: 0004_installations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_audit_runs_subscriptions"
down_revision = "0004_installations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("key", sa.String(200), nullable=True))
    op.create_unique_constraint("uq_audit_log_key", "audit_log", ["key"])
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("at_time", sa.String(5), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("id", name="pk_subscriptions"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_subscriptions_user_id_users", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("user_id", "action", name="uq_subscriptions_user_id_action"),
    )
    op.create_index("ix_subscriptions_action_id", "subscriptions", ["action", "id"])


def downgrade() -> None:
    op.drop_table("subscriptions")
    op.drop_index("ix_audit_log_at", "audit_log")
    op.drop_constraint("uq_audit_log_key", "audit_log")
    op.drop_column("audit_log", "key")
