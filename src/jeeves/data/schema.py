"""The tables the data service owns, as SQLAlchemy Core metadata.

Migrations (`migrations/versions/`) create them; queries in `store.py` read and write them.
Every mutable row carries a `version` counter bumped on each change: ETags are built from it.
Child rows reference `users.id` with ON DELETE CASCADE, so deleting a user removes everything.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _timestamps() -> list[Column[object]]:
    return [
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    ]


users = Table(
    "users",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("team_id", String(64), nullable=False),
    Column("slack_id", String(64), nullable=False),
    Column("is_admin", Boolean, nullable=False, server_default="false"),
    Column("version", Integer, nullable=False, server_default="1"),
    *_timestamps(),
    UniqueConstraint("team_id", "slack_id"),
)

facts = Table(
    "facts",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(40), nullable=False),
    Column("value", Text, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    *_timestamps(),
    UniqueConstraint("user_id", "key"),
)


def _lease() -> list[Column[object]]:
    """A refresh lease: who may refresh the row's token now, and until when."""
    return [
        Column("refresh_lease_id", String(64), nullable=True),
        Column("refresh_lease_until", DateTime(timezone=True), nullable=True),
    ]


connections = Table(
    "connections",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("provider", String(40), nullable=False),
    Column("token_ciphertext", LargeBinary, nullable=False),
    Column("scopes", ARRAY(Text), nullable=False, server_default="{}"),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("version", Integer, nullable=False, server_default="1"),
    *_timestamps(),
    Column("refresh_token_ciphertext", LargeBinary, nullable=True),
    Column("account", String(255), nullable=True),
    *_lease(),
    UniqueConstraint("user_id", "provider"),
)

# Tokens of deleted connections, kept (encrypted, tied to no user) until the provider's service
# has revoked them; claimed with a lease so one worker at a time tries each.
connection_revocations = Table(
    "connection_revocations",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("provider", String(40), nullable=False),
    Column("token_ciphertext", LargeBinary, nullable=False),
    Column("refresh_token_ciphertext", LargeBinary, nullable=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("lease_until", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index(None, "provider", "id"),
)

# One row per Slack workspace the app is installed in (a distributed app). The bot token (and,
# with token rotation, the refresh token) are encrypted like connection tokens.
installations = Table(
    "installations",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("team_id", String(64), nullable=False, unique=True),
    Column("team_name", String(255), nullable=False, server_default=""),
    Column("enterprise_id", String(64), nullable=True),
    Column("enterprise_name", String(255), nullable=True),
    Column("is_enterprise_install", Boolean, nullable=False, server_default="false"),
    Column("app_id", String(64), nullable=False, server_default=""),
    Column("bot_user_id", String(64), nullable=False),
    Column("bot_id", String(64), nullable=False, server_default=""),
    Column("bot_scopes", ARRAY(Text), nullable=False, server_default="{}"),
    Column("installer_user_id", String(64), nullable=True),
    Column("bot_token_ciphertext", LargeBinary, nullable=False),
    Column("bot_refresh_token_ciphertext", LargeBinary, nullable=True),
    Column("bot_token_expires_at", DateTime(timezone=True), nullable=True),
    *_lease(),
    Column("version", Integer, nullable=False, server_default="1"),
    *_timestamps(),
)

# One-time OAuth `state` values (hashed), optionally bound to the Slack user who asked.
oauth_states = Table(
    "oauth_states",
    metadata,
    Column("state_hash", String(64), primary_key=True),
    Column("provider", String(40), nullable=False),
    Column("team_id", String(64), nullable=True),
    Column("slack_id", String(64), nullable=True),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index(None, "expires_at"),
)

activity = Table(
    "activity",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("event_id", String(128), nullable=True, unique=True),
    Column("action", String(64), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("latency_ms", Integer, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("channel", String(64), nullable=True),
    Index(None, "at", "action"),
    Index(None, "user_id"),
)

# Admin changes and other audited events: who (`actor`), what (`kind`, `target`), the value
# before and after, optional `detail`, when. Not tied to a user row: it outlives deletions.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("actor", String(128), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("target", String(256), nullable=False),
    Column("before", JSONB, nullable=True),
    Column("after", JSONB, nullable=True),
    Column("detail", JSONB, nullable=True),
    Column("key", String(200), nullable=True, unique=True),  # idempotency: one record per key
    Index(None, "kind", "id"),
    Index(None, "actor", "id"),
    Index(None, "at"),
)

# A user's daily alerts from an action ("weather every day at 7:30"): at `at_time` (HH:MM) in the
# user's own time zone (their `timezone` fact, else UTC), posted to `channel`.
subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("action", String(64), nullable=False),
    Column("at_time", String(5), nullable=False),
    Column("channel", String(64), nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    *_timestamps(),
    UniqueConstraint("user_id", "action"),
    Index(None, "action", "id"),
)

# Every table holding rows that belong to a user (export and delete must cover them all).
USER_TABLES = ("users", "facts", "connections", "activity", "subscriptions")
