"""Secrets the data service keeps for others: Slack installations, refreshable tokens, one-time
OAuth states and the revocation queue.

- Installations: one row per workspace; the bot token (and refresh token) encrypted with the
  same Fernet keys as connection tokens (`crypto.TokenCipher`).
- Refresh leases, for installations and connections alike: a caller that wants to refresh a
  token first takes the row's lease (one conditional UPDATE: it succeeds for exactly one caller
  while the lease is free or expired, so one refresh runs at a time across every replica of
  every service); it then calls the provider and stores the new token *under that lease id*,
  which fails once someone else has taken the lease since (the refresh token it used may be
  spent). The lease expires by itself, so a caller that dies mid-refresh blocks nobody for long.
- OAuth states: random values handed out once, stored as a SHA-256, consumed atomically by a
  DELETE … RETURNING, so a state works once, for its provider, before it expires.
- Revocations: deleting a connection (or its user) moves its tokens here in the same
  transaction; the provider's service claims them (FOR UPDATE SKIP LOCKED, with a lease),
  revokes them at the provider and deletes them. Entries older than `REVOCATION_RETENTION` are
  dropped whatever happened to them.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    RowMapping,
    Table,
    and_,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import Label

from jeeves.data.crypto import TokenCipher
from jeeves.data.domain import InstallationIn, StateIn, TokenIn, state_hash
from jeeves.data.schema import (
    connection_revocations,
    connections,
    installations,
    oauth_states,
    users,
)
from jeeves.kit.errors import APIError

REVOCATION_RETENTION = timedelta(days=30)
INSTALLATION_COLUMNS = (
    installations.c.id,
    installations.c.team_id,
    installations.c.team_name,
    installations.c.enterprise_id,
    installations.c.enterprise_name,
    installations.c.is_enterprise_install,
    installations.c.app_id,
    installations.c.bot_user_id,
    installations.c.bot_id,
    installations.c.bot_scopes,
    installations.c.installer_user_id,
    installations.c.bot_token_expires_at,
    (installations.c.bot_refresh_token_ciphertext.is_not(None)).label("refreshable"),
    installations.c.version,
    installations.c.created_at,
    installations.c.updated_at,
)
INSERTED: Label[bool] = literal_column("(xmax = 0)").label("inserted")


@dataclass(frozen=True)
class Secret:
    """A token as its user needs it."""

    token: str
    expires_at: datetime | None
    refreshable: bool


@dataclass(frozen=True)
class Lease:
    """The right to refresh one token, until `until`; store the result under `lease_id`."""

    lease_id: str
    token: str
    refresh_token: str
    expires_at: datetime | None
    until: datetime


@dataclass(frozen=True)
class Revocation:
    id: int
    token: str
    refresh_token: str | None
    attempts: int


@dataclass(frozen=True)
class _Columns:
    """Where one table keeps a refreshable token."""

    table: Table
    token: str
    refresh_token: str
    expires_at: str


INSTALLATION_TOKEN = _Columns(
    installations, "bot_token_ciphertext", "bot_refresh_token_ciphertext", "bot_token_expires_at"
)
CONNECTION_TOKEN = _Columns(
    connections, "token_ciphertext", "refresh_token_ciphertext", "expires_at"
)


def not_found(what: str) -> APIError:
    return APIError(404, "not_found", f"{what} not found")


def _connection_is(team_id: str, slack_id: str, provider: str) -> ColumnElement[bool]:
    user = select(users.c.id).where(users.c.team_id == team_id, users.c.slack_id == slack_id)
    return and_(connections.c.user_id == user.scalar_subquery(), connections.c.provider == provider)


class Credentials:
    """Installations, tokens under leases, OAuth states and revocations."""

    def __init__(
        self,
        engine: AsyncEngine,
        cipher: TokenCipher,
        new_state: Callable[[], str] = lambda: secrets.token_urlsafe(32),
    ) -> None:
        self.engine = engine
        self.cipher = cipher
        self._new_state = new_state

    def _seal(self, value: str | None) -> bytes | None:
        return self.cipher.encrypt(value) if value is not None else None

    def _open(self, value: bytes | None) -> str | None:
        return self.cipher.decrypt(value) if value is not None else None

    # -- installations ----------------------------------------------------------------------

    async def put_installation(self, team_id: str, body: InstallationIn) -> tuple[RowMapping, bool]:
        """Create or replace a workspace's installation (a reinstall replaces its tokens)."""
        values: dict[str, Any] = {
            "team_name": body.team_name,
            "enterprise_id": body.enterprise_id,
            "enterprise_name": body.enterprise_name,
            "is_enterprise_install": body.is_enterprise_install,
            "app_id": body.app_id,
            "bot_user_id": body.bot_user_id,
            "bot_id": body.bot_id,
            "bot_scopes": list(body.scopes),
            "installer_user_id": body.installer_user_id,
            "bot_token_ciphertext": self.cipher.encrypt(body.bot_token),
            "bot_refresh_token_ciphertext": self._seal(body.bot_refresh_token),
            "bot_token_expires_at": body.bot_token_expires_at,
            "refresh_lease_id": None,
            "refresh_lease_until": None,
        }
        statement = (
            pg_insert(installations)
            .values(team_id=team_id, **values)
            .on_conflict_do_update(
                index_elements=["team_id"],
                set_={
                    **values,
                    "version": installations.c.version + 1,
                    "updated_at": func.now(),
                },
            )
            .returning(*INSTALLATION_COLUMNS, INSERTED)
        )
        async with self.engine.begin() as conn:
            row = (await conn.execute(statement)).mappings().one()
        return row, bool(row["inserted"])

    async def get_installation(self, team_id: str) -> RowMapping | None:
        statement = select(*INSTALLATION_COLUMNS).where(installations.c.team_id == team_id)
        async with self.engine.connect() as conn:
            return (await conn.execute(statement)).mappings().first()

    async def list_installations(self, after_id: int, limit: int) -> Sequence[RowMapping]:
        statement = (
            select(*INSTALLATION_COLUMNS)
            .where(installations.c.id > after_id)
            .order_by(installations.c.id)
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            return (await conn.execute(statement)).mappings().all()

    async def delete_installation(self, team_id: str) -> bool:
        statement = (
            delete(installations)
            .where(installations.c.team_id == team_id)
            .returning(installations.c.id)
        )
        async with self.engine.begin() as conn:
            return await conn.scalar(statement) is not None

    async def installation_token(self, team_id: str) -> tuple[Secret, str] | None:
        """(the bot token, the bot user id) of a workspace, or None when not installed."""
        statement = select(
            installations.c.bot_token_ciphertext,
            installations.c.bot_token_expires_at,
            installations.c.bot_refresh_token_ciphertext.is_not(None).label("refreshable"),
            installations.c.bot_user_id,
        ).where(installations.c.team_id == team_id)
        async with self.engine.connect() as conn:
            row = (await conn.execute(statement)).mappings().first()
        if row is None:
            return None
        secret = Secret(
            self.cipher.decrypt(row["bot_token_ciphertext"]),
            row["bot_token_expires_at"],
            bool(row["refreshable"]),
        )
        return secret, str(row["bot_user_id"])

    async def lease_installation(self, team_id: str, lease_s: float) -> Lease:
        return await self._lease(
            INSTALLATION_TOKEN, installations.c.team_id == team_id, "installation", lease_s
        )

    async def store_installation_token(self, team_id: str, body: TokenIn) -> None:
        await self._store_token(
            INSTALLATION_TOKEN, installations.c.team_id == team_id, "installation", body
        )

    # -- connection tokens ------------------------------------------------------------------

    async def connection_token(self, team_id: str, slack_id: str, provider: str) -> Secret | None:
        where = _connection_is(team_id, slack_id, provider)
        statement = select(
            connections.c.token_ciphertext,
            connections.c.expires_at,
            connections.c.refresh_token_ciphertext.is_not(None).label("refreshable"),
        ).where(where)
        async with self.engine.connect() as conn:
            row = (await conn.execute(statement)).mappings().first()
        if row is None:
            return None
        return Secret(
            self.cipher.decrypt(row["token_ciphertext"]),
            row["expires_at"],
            bool(row["refreshable"]),
        )

    async def lease_connection(
        self, team_id: str, slack_id: str, provider: str, lease_s: float
    ) -> Lease:
        where = _connection_is(team_id, slack_id, provider)
        return await self._lease(CONNECTION_TOKEN, where, "connection", lease_s)

    async def store_connection_token(
        self, team_id: str, slack_id: str, provider: str, body: TokenIn
    ) -> None:
        where = _connection_is(team_id, slack_id, provider)
        await self._store_token(CONNECTION_TOKEN, where, "connection", body)

    # -- leases (shared) --------------------------------------------------------------------

    async def _lease(
        self, where_token: _Columns, where: ColumnElement[bool], what: str, lease_s: float
    ) -> Lease:
        table = where_token.table
        lease_id = uuid.uuid4().hex
        free = or_(table.c.refresh_lease_until.is_(None), table.c.refresh_lease_until < func.now())
        statement = (
            update(table)
            .where(where, table.c[where_token.refresh_token].is_not(None), free)
            .values(
                refresh_lease_id=lease_id,
                refresh_lease_until=func.now() + timedelta(seconds=lease_s),
            )
            .returning(
                table.c[where_token.token],
                table.c[where_token.refresh_token],
                table.c[where_token.expires_at],
                table.c.refresh_lease_until,
            )
        )
        async with self.engine.begin() as conn:
            row = (await conn.execute(statement)).mappings().first()
            if row is None:
                raise await self._why_no_lease(conn, where_token, where, what)
        return Lease(
            lease_id=lease_id,
            token=self.cipher.decrypt(row[where_token.token]),
            refresh_token=self.cipher.decrypt(row[where_token.refresh_token]),
            expires_at=row[where_token.expires_at],
            until=row["refresh_lease_until"],
        )

    async def _why_no_lease(
        self, conn: AsyncConnection, where_token: _Columns, where: ColumnElement[bool], what: str
    ) -> APIError:
        table = where_token.table
        probe = select(
            table.c[where_token.refresh_token].is_not(None).label("refreshable"),
            func.extract("epoch", table.c.refresh_lease_until - func.now()).label("left_s"),
        ).where(where)
        row = (await conn.execute(probe)).mappings().first()
        if row is None:
            return not_found(what)
        if not row["refreshable"]:
            return APIError(409, "not_refreshable", f"the {what}'s token has no refresh token")
        left = max(0.0, float(row["left_s"] or 0.0))
        return APIError(
            409,
            "refresh_in_progress",
            f"another caller is refreshing this token; read it again in {left:.1f}s",
            retry_after_s=round(left, 3),
        )

    async def _store_token(
        self, where_token: _Columns, where: ColumnElement[bool], what: str, body: TokenIn
    ) -> None:
        table = where_token.table
        values: dict[str, Any] = {
            where_token.token: self.cipher.encrypt(body.token),
            where_token.expires_at: body.expires_at,
            "refresh_lease_id": None,
            "refresh_lease_until": None,
            "version": table.c.version + 1,
            "updated_at": func.now(),
        }
        if body.refresh_token is not None:
            values[where_token.refresh_token] = self.cipher.encrypt(body.refresh_token)
        statement = (
            update(table)
            .where(where, table.c.refresh_lease_id == body.lease_id)
            .values(**values)
            .returning(table.c.id)
        )
        async with self.engine.begin() as conn:
            if await conn.scalar(statement) is not None:
                return
            if await conn.scalar(select(table.c.id).where(where)) is None:
                raise not_found(what)
        raise APIError(409, "lease_lost", "the refresh lease was taken over; read the token again")

    # -- OAuth states -----------------------------------------------------------------------

    async def create_state(self, body: StateIn) -> tuple[str, datetime]:
        state = self._new_state()
        statement = (
            insert(oauth_states)
            .values(
                state_hash=state_hash(state),
                provider=body.provider,
                team_id=body.team_id,
                slack_id=body.slack_id,
                expires_at=func.now() + timedelta(seconds=body.ttl_s),
            )
            .returning(oauth_states.c.expires_at)
        )
        async with self.engine.begin() as conn:
            await conn.execute(delete(oauth_states).where(oauth_states.c.expires_at < func.now()))
            expires_at = await conn.scalar(statement)
        assert expires_at is not None
        return state, expires_at

    async def consume_state(self, provider: str, state: str) -> RowMapping | None:
        """The state's binding, once: a second use, another provider or an expired state → None."""
        statement = (
            delete(oauth_states)
            .where(
                oauth_states.c.state_hash == state_hash(state),
                oauth_states.c.provider == provider,
                oauth_states.c.expires_at >= func.now(),
            )
            .returning(oauth_states.c.provider, oauth_states.c.team_id, oauth_states.c.slack_id)
        )
        async with self.engine.begin() as conn:
            return (await conn.execute(statement)).mappings().first()

    # -- revocations ------------------------------------------------------------------------

    async def claim_revocations(
        self, provider: str, limit: int, lease_s: float
    ) -> list[Revocation]:
        async with self.engine.begin() as conn:
            await conn.execute(
                delete(connection_revocations).where(
                    connection_revocations.c.created_at < func.now() - REVOCATION_RETENTION
                )
            )
            rows = (
                (
                    await conn.execute(
                        CLAIM_SQL,
                        {"provider": provider, "limit": limit, "lease": timedelta(seconds=lease_s)},
                    )
                )
                .mappings()
                .all()
            )
        return [
            Revocation(
                id=int(row["id"]),
                token=self.cipher.decrypt(row["token_ciphertext"]),
                refresh_token=self._open(row["refresh_token_ciphertext"]),
                attempts=int(row["attempts"]),
            )
            for row in rows
        ]

    async def finish_revocation(self, provider: str, revocation_id: int) -> bool:
        statement = (
            delete(connection_revocations)
            .where(
                connection_revocations.c.id == revocation_id,
                connection_revocations.c.provider == provider,
            )
            .returning(connection_revocations.c.id)
        )
        async with self.engine.begin() as conn:
            return await conn.scalar(statement) is not None


CLAIM_SQL = text(
    """
WITH picked AS (
    SELECT id FROM connection_revocations
    WHERE provider = :provider AND (lease_until IS NULL OR lease_until < now())
    ORDER BY id
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
)
UPDATE connection_revocations r
SET lease_until = now() + :lease, attempts = r.attempts + 1
FROM picked WHERE r.id = picked.id
RETURNING r.id, r.token_ciphertext, r.refresh_token_ciphertext, r.attempts
"""
)


async def queue_revocations(conn: AsyncConnection, where: ColumnElement[bool]) -> None:
    """Move the tokens of the connections matching `where` into the revocation queue (call in
    the transaction that deletes them)."""
    await conn.execute(
        insert(connection_revocations).from_select(
            ["provider", "token_ciphertext", "refresh_token_ciphertext"],
            select(
                connections.c.provider,
                connections.c.token_ciphertext,
                connections.c.refresh_token_ciphertext,
            ).where(where),
        )
    )
