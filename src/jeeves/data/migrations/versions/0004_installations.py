"""Slack installations (distributed app), OAuth states, refreshable connections, revocations.

- `installations`: one per workspace the app is installed in: bot user, scopes, the bot token
  (and, with token rotation, its refresh token and expiry) encrypted, and a refresh lease;
- `oauth_states`: one-time OAuth `state` values (stored hashed), optionally bound to a user;
- `connections` gain an encrypted refresh token, the provider's account id and a refresh lease;
- `connection_revocations`: tokens of deleted connections waiting to be revoked at the provider.

Revision ID: 0004_installations
Revises: 0003_audit_and_channel
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004_installations"
down_revision = "0003_audit_and_channel"
branch_labels = None
depends_on = None


def _now(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def _lease() -> list[sa.Column[object]]:
    return [
        sa.Column("refresh_lease_id", sa.String(64), nullable=True),
        sa.Column("refresh_lease_until", sa.DateTime(timezone=True), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "installations",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("team_id", sa.String(64), nullable=False),
        sa.Column("team_name", sa.String(255), nullable=False, server_default=""),
        sa.Column("enterprise_id", sa.String(64), nullable=True),
        sa.Column("enterprise_name", sa.String(255), nullable=True),
        sa.Column("is_enterprise_install", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("app_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("bot_user_id", sa.String(64), nullable=False),
        sa.Column("bot_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("bot_scopes", postgresql.ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("installer_user_id", sa.String(64), nullable=True),
        sa.Column("bot_token_ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("bot_refresh_token_ciphertext", sa.LargeBinary, nullable=True),
        sa.Column("bot_token_expires_at", sa.DateTime(timezone=True), nullable=True),
        *_lease(),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        _now("created_at"),
        _now("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_installations"),
        sa.UniqueConstraint("team_id", name="uq_installations_team_id"),
    )
    op.create_table(
        "oauth_states",
        sa.Column("state_hash", sa.String(64), nullable=False),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("team_id", sa.String(64), nullable=True),
        sa.Column("slack_id", sa.String(64), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        _now("created_at"),
        sa.PrimaryKeyConstraint("state_hash", name="pk_oauth_states"),
    )
    op.create_index("ix_oauth_states_expires_at", "oauth_states", ["expires_at"])
    op.add_column("connections", sa.Column("refresh_token_ciphertext", sa.LargeBinary))
    op.add_column("connections", sa.Column("account", sa.String(255)))
    for column in _lease():
        op.add_column("connections", column)
    op.create_table(
        "connection_revocations",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("token_ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("refresh_token_ciphertext", sa.LargeBinary, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        _now("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_connection_revocations"),
    )
    op.create_index(
        "ix_connection_revocations_provider_id", "connection_revocations", ["provider", "id"]
    )


def downgrade() -> None:
    op.drop_table("connection_revocations")
    for column in (
        "refresh_lease_until",
        "refresh_lease_id",
        "account",
        "refresh_token_ciphertext",
    ):
        op.drop_column("connections", column)
    op.drop_table("oauth_states")
    op.drop_table("installations")
