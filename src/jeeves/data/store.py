"""Queries of the data service: writes in SQLAlchemy Core, hot reads in plain asyncpg.

Every function is one short transaction. Writes guarded by If-Match compare the row's version
in the UPDATE/DELETE itself, so two concurrent writers can never both win. The hottest reads
(a user, a fact, a page of facts) run as prepared statements on an asyncpg pool: through the
SQLAlchemy async engine the same read cost ~3x the CPU (measured by bench/data).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import RowMapping, and_, delete, func, literal_column, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import Label

from jeeves.data.credentials import queue_revocations
from jeeves.data.crypto import TokenCipher
from jeeves.data.domain import (
    ActivityIn,
    AuditIn,
    AuditQuery,
    ConnectionIn,
    DayRange,
    Precondition,
    SubscriptionIn,
)
from jeeves.data.schema import activity, audit_log, connections, facts, subscriptions, users
from jeeves.kit.errors import APIError

USER_COLUMNS = (
    users.c.id,
    users.c.team_id,
    users.c.slack_id,
    users.c.is_admin,
    users.c.version,
    users.c.created_at,
    users.c.updated_at,
)
FACT_COLUMNS = (
    facts.c.id,
    facts.c.key,
    facts.c.value,
    facts.c.version,
    facts.c.created_at,
    facts.c.updated_at,
)
CONNECTION_COLUMNS = (
    connections.c.id,
    connections.c.provider,
    connections.c.scopes,
    connections.c.expires_at,
    connections.c.account,
    connections.c.refresh_token_ciphertext.is_not(None).label("refreshable"),
    connections.c.version,
    connections.c.created_at,
    connections.c.updated_at,
)
INSERTED: Label[bool] = literal_column("(xmax = 0)").label("inserted")


def not_found(what: str) -> APIError:
    return APIError(404, "not_found", f"{what} not found")


def stale() -> APIError:
    return APIError(
        412, "precondition_failed", "the resource changed since it was read (If-Match is stale)"
    )


def _user_is(team_id: str, slack_id: str) -> Any:
    return and_(users.c.team_id == team_id, users.c.slack_id == slack_id)


def _version_matches(table: Any, pre: Precondition | None) -> Any:
    if pre is None or pre.any_version:
        return literal_column("true")
    return and_(table.c.id == pre.row_id, table.c.version == pre.version)


class Store:
    """The data service's database access; one per process, opened in before_serving."""

    def __init__(
        self, engine: AsyncEngine, pool: Callable[[], asyncpg.Pool], cipher: TokenCipher
    ) -> None:
        self.engine = engine
        self.pool = pool
        self.cipher = cipher

    # -- users ----------------------------------------------------------------------------

    async def _user_id(self, conn: AsyncConnection, team_id: str, slack_id: str) -> int | None:
        return await conn.scalar(select(users.c.id).where(_user_is(team_id, slack_id)))

    async def _ensure_user_id(self, conn: AsyncConnection, team_id: str, slack_id: str) -> int:
        found = await self._user_id(conn, team_id, slack_id)
        if found is not None:
            return found
        statement = (
            pg_insert(users)
            .values(team_id=team_id, slack_id=slack_id)
            .on_conflict_do_nothing(index_elements=["team_id", "slack_id"])
            .returning(users.c.id)
        )
        created = await conn.scalar(statement)
        if created is None:  # a concurrent request created it first
            created = await self._user_id(conn, team_id, slack_id)
        assert created is not None
        return int(created)

    async def ensure_user(self, team_id: str, slack_id: str) -> tuple[RowMapping, bool]:
        """Get-or-create; returns the row and whether this call created it."""
        async with self.engine.begin() as conn:
            row = await self._get_user(conn, team_id, slack_id)
            if row is not None:
                return row, False
            statement = (
                pg_insert(users)
                .values(team_id=team_id, slack_id=slack_id)
                .on_conflict_do_nothing(index_elements=["team_id", "slack_id"])
                .returning(*USER_COLUMNS)
            )
            created = (await conn.execute(statement)).mappings().first()
            if created is not None:
                return created, True
            row = await self._get_user(conn, team_id, slack_id)
            assert row is not None
            return row, False

    async def _get_user(
        self, conn: AsyncConnection, team_id: str, slack_id: str
    ) -> RowMapping | None:
        result = await conn.execute(select(*USER_COLUMNS).where(_user_is(team_id, slack_id)))
        return result.mappings().first()

    async def get_user(self, team_id: str, slack_id: str) -> Mapping[str, Any] | None:
        row: Mapping[str, Any] | None = await self.pool().fetchrow(USER_SQL, team_id, slack_id)
        return row

    async def list_users(self, after_id: int, limit: int) -> Sequence[RowMapping]:
        statement = (
            select(*USER_COLUMNS).where(users.c.id > after_id).order_by(users.c.id).limit(limit)
        )
        async with self.engine.connect() as conn:
            return (await conn.execute(statement)).mappings().all()

    async def set_admin(
        self, team_id: str, slack_id: str, is_admin: bool, pre: Precondition | None
    ) -> RowMapping:
        statement = (
            update(users)
            .where(_user_is(team_id, slack_id), _version_matches(users, pre))
            .values(is_admin=is_admin, version=users.c.version + 1, updated_at=func.now())
            .returning(*USER_COLUMNS)
        )
        async with self.engine.begin() as conn:
            row = (await conn.execute(statement)).mappings().first()
            if row is not None:
                return row
            if await self._user_id(conn, team_id, slack_id) is None and pre is None:
                raise not_found("user")
            raise stale()

    async def delete_user(self, team_id: str, slack_id: str, pre: Precondition | None) -> None:
        """Delete the user and, by cascade, every fact, connection and activity row of theirs;
        their connections' tokens wait in the revocation queue until revoked."""
        statement = (
            delete(users)
            .where(_user_is(team_id, slack_id), _version_matches(users, pre))
            .returning(users.c.id)
        )
        owned = select(users.c.id).where(_user_is(team_id, slack_id), _version_matches(users, pre))
        async with self.engine.begin() as conn:
            await queue_revocations(conn, connections.c.user_id.in_(owned))
            if await conn.scalar(statement) is not None:
                return
            if await self._user_id(conn, team_id, slack_id) is None and pre is None:
                raise not_found("user")
            raise stale()

    async def export_user(self, team_id: str, slack_id: str) -> dict[str, Any] | None:
        """Everything held about a user (tokens reported as present, never their ciphertext)."""
        async with self.engine.connect() as conn:
            user = await self._get_user(conn, team_id, slack_id)
            if user is None:
                return None
            uid = user["id"]
            fact_rows = await conn.execute(
                select(*FACT_COLUMNS).where(facts.c.user_id == uid).order_by(facts.c.key)
            )
            connection_rows = await conn.execute(
                select(*CONNECTION_COLUMNS)
                .where(connections.c.user_id == uid)
                .order_by(connections.c.provider)
            )
            activity_rows = await conn.execute(
                select(activity.c.action, activity.c.outcome, activity.c.latency_ms, activity.c.at)
                .where(activity.c.user_id == uid)
                .order_by(activity.c.at, activity.c.id)
            )
            subscription_rows = await conn.execute(
                select(subscriptions)
                .where(subscriptions.c.user_id == uid)
                .order_by(subscriptions.c.action)
            )
            return {
                "user": user,
                "facts": fact_rows.mappings().all(),
                "connections": connection_rows.mappings().all(),
                "activity": activity_rows.mappings().all(),
                "subscriptions": subscription_rows.mappings().all(),
            }

    # -- facts ----------------------------------------------------------------------------

    async def get_fact(self, team_id: str, slack_id: str, key: str) -> Mapping[str, Any] | None:
        row: Mapping[str, Any] | None = await self.pool().fetchrow(FACT_SQL, team_id, slack_id, key)
        return row

    async def list_facts(
        self, team_id: str, slack_id: str, after_key: str, limit: int
    ) -> Sequence[Mapping[str, Any]]:
        rows: list[Mapping[str, Any]] = await self.pool().fetch(
            FACTS_PAGE_SQL, team_id, slack_id, after_key, limit
        )
        return rows

    async def put_fact(
        self,
        team_id: str,
        slack_id: str,
        key: str,
        value: str,
        pre: Precondition | None,
        create_only: bool,
    ) -> tuple[RowMapping, bool]:
        """Create or replace a fact (creating the user if needed); returns (row, created)."""
        async with self.engine.begin() as conn:
            uid = await self._ensure_user_id(conn, team_id, slack_id)
            if pre is not None:
                row = await self._update_fact(conn, uid, key, value, pre)
                if row is None:
                    raise stale()
                return row, False
            statement = pg_insert(facts).values(user_id=uid, key=key, value=value)
            if create_only:
                statement = statement.on_conflict_do_nothing(index_elements=["user_id", "key"])
            else:
                statement = statement.on_conflict_do_update(
                    index_elements=["user_id", "key"],
                    set_={"value": value, "version": facts.c.version + 1, "updated_at": func.now()},
                )
            result = await conn.execute(statement.returning(*FACT_COLUMNS, INSERTED))
            row = result.mappings().first()
            if row is None:
                raise stale()
            return row, bool(row["inserted"])

    async def _update_fact(
        self, conn: AsyncConnection, uid: int, key: str, value: str, pre: Precondition
    ) -> RowMapping | None:
        statement = (
            update(facts)
            .where(facts.c.user_id == uid, facts.c.key == key, _version_matches(facts, pre))
            .values(value=value, version=facts.c.version + 1, updated_at=func.now())
            .returning(*FACT_COLUMNS)
        )
        return (await conn.execute(statement)).mappings().first()

    async def delete_fact(
        self, team_id: str, slack_id: str, key: str, pre: Precondition | None
    ) -> None:
        uid_query = select(users.c.id).where(_user_is(team_id, slack_id)).scalar_subquery()
        statement = (
            delete(facts)
            .where(facts.c.user_id == uid_query, facts.c.key == key, _version_matches(facts, pre))
            .returning(facts.c.id)
        )
        async with self.engine.begin() as conn:
            if await conn.scalar(statement) is not None:
                return
        if pre is not None:
            raise stale()
        raise not_found("fact")

    # -- connections ----------------------------------------------------------------------

    async def put_connection(
        self, team_id: str, slack_id: str, provider: str, body: ConnectionIn
    ) -> tuple[RowMapping, bool]:
        ciphertext = self.cipher.encrypt(body.token)
        refresh = self.cipher.encrypt(body.refresh_token) if body.refresh_token else None
        values = {
            "token_ciphertext": ciphertext,
            "scopes": list(body.scopes),
            "expires_at": body.expires_at,
            "refresh_token_ciphertext": refresh,
            "account": body.account,
            "refresh_lease_id": None,
            "refresh_lease_until": None,
        }
        async with self.engine.begin() as conn:
            uid = await self._ensure_user_id(conn, team_id, slack_id)
            statement = (
                pg_insert(connections)
                .values(user_id=uid, provider=provider, **values)
                .on_conflict_do_update(
                    index_elements=["user_id", "provider"],
                    set_={**values, "version": connections.c.version + 1, "updated_at": func.now()},
                )
                .returning(*CONNECTION_COLUMNS, INSERTED)
            )
            row = (await conn.execute(statement)).mappings().one()
            return row, bool(row["inserted"])

    async def list_connections(self, team_id: str, slack_id: str) -> Sequence[RowMapping]:
        statement = (
            select(*CONNECTION_COLUMNS)
            .join(users, users.c.id == connections.c.user_id)
            .where(_user_is(team_id, slack_id))
            .order_by(connections.c.provider)
        )
        async with self.engine.connect() as conn:
            return (await conn.execute(statement)).mappings().all()

    async def delete_connection(self, team_id: str, slack_id: str, provider: str) -> None:
        """Delete one connection; its tokens wait in the revocation queue until revoked."""
        uid_query = select(users.c.id).where(_user_is(team_id, slack_id)).scalar_subquery()
        mine = and_(connections.c.user_id == uid_query, connections.c.provider == provider)
        statement = delete(connections).where(mine).returning(connections.c.id)
        async with self.engine.begin() as conn:
            await queue_revocations(conn, mine)
            if await conn.scalar(statement) is None:
                raise not_found("connection")

    # -- activity and statistics ----------------------------------------------------------

    async def append_activity(self, body: ActivityIn, at: datetime | None = None) -> bool:
        """Record one action call; a repeated `event_id` is ignored. True when recorded."""
        async with self.engine.begin() as conn:
            uid = await self._ensure_user_id(conn, body.team_id, body.slack_id)
            values: dict[str, Any] = {
                "user_id": uid,
                "event_id": body.event_id,
                "action": body.action,
                "outcome": body.outcome,
                "latency_ms": body.latency_ms,
                "channel": body.channel,
            }
            if at is not None:
                values["at"] = at
            statement = pg_insert(activity).values(**values)
            if body.event_id is not None:
                statement = statement.on_conflict_do_nothing(index_elements=["event_id"])
            return await conn.scalar(statement.returning(activity.c.id)) is not None

    async def usage(self, days: DayRange) -> tuple[list[Any], list[Any], int]:
        start, end = days.bounds()
        params = {"start": start, "end": end}
        async with self.engine.connect() as conn:
            per_action = (await conn.execute(PER_ACTION_SQL, params)).mappings().all()
            per_day = (await conn.execute(ACTIVE_PER_DAY_SQL, params)).mappings().all()
            total = await conn.scalar(ACTIVE_TOTAL_SQL, params)
        return list(per_action), list(per_day), int(total or 0)

    async def usage_per_channel(self, days: DayRange) -> list[Any]:
        start, end = days.bounds()
        async with self.engine.connect() as conn:
            rows = await conn.execute(PER_CHANNEL_SQL, {"start": start, "end": end})
            return list(rows.mappings().all())

    async def append_audit(self, body: AuditIn) -> tuple[RowMapping, bool]:
        """Store one audited change (secret-looking params masked); returns (row, stored) —
        `stored` is False when a record with the same `key` was already there (that one is
        returned)."""
        values = body.masked().model_dump()
        insert = pg_insert(audit_log).values(**values)
        if body.key is not None:
            insert = insert.on_conflict_do_nothing(index_elements=[audit_log.c.key])
        statement = insert.returning(*audit_log.c)
        async with self.engine.begin() as conn:
            row = (await conn.execute(statement)).mappings().first()
            if row is not None:
                return row, True
            existing = await conn.execute(select(audit_log).where(audit_log.c.key == body.key))
            return existing.mappings().one(), False

    async def list_audit(
        self, *, before_id: int, limit: int, query: AuditQuery
    ) -> list[RowMapping]:
        """Newest first, below `before_id` (0: from the newest), filtered by `query`."""
        statement = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        conditions = [
            audit_log.c.id < before_id if before_id else None,
            audit_log.c.kind == query.kind if query.kind else None,
            audit_log.c.actor == query.actor if query.actor else None,
            audit_log.c.target == query.target if query.target else None,
            audit_log.c.detail["outcome"].astext == query.outcome if query.outcome else None,
            audit_log.c.detail["channel"].astext == query.channel if query.channel else None,
            audit_log.c.at >= query.since if query.since else None,
            audit_log.c.at < query.until if query.until else None,
        ]
        for condition in conditions:
            if condition is not None:
                statement = statement.where(condition)
        async with self.engine.connect() as conn:
            return list((await conn.execute(statement)).mappings().all())

    async def purge_audit(self, older_than_days: int, batch: int = 10_000) -> int:
        """Delete audit records older than the retention, in batches; returns how many."""
        total = 0
        while True:
            async with self.engine.begin() as conn:
                deleted = await conn.execute(PURGE_AUDIT_SQL, {"days": older_than_days, "n": batch})
                count = deleted.rowcount or 0
            total += count
            if count < batch:
                return total

    # -- subscriptions --------------------------------------------------------------------

    async def put_subscription(
        self, team_id: str, slack_id: str, action: str, body: SubscriptionIn
    ) -> tuple[RowMapping, bool]:
        """Subscribe (or move the time of) a user's daily alert; returns (row, created)."""
        channel = body.channel or slack_id  # a DM with the user
        async with self.engine.begin() as conn:
            uid = await self._ensure_user_id(conn, team_id, slack_id)
            statement = (
                pg_insert(subscriptions)
                .values(user_id=uid, action=action, at_time=body.time, channel=channel)
                .on_conflict_do_update(
                    index_elements=[subscriptions.c.user_id, subscriptions.c.action],
                    set_={
                        "at_time": body.time,
                        "channel": channel,
                        "version": subscriptions.c.version + 1,
                        "updated_at": func.now(),
                    },
                )
                .returning(*subscriptions.c, INSERTED)
            )
            row = (await conn.execute(statement)).mappings().one()
            return row, bool(row["inserted"])

    async def delete_subscription(self, team_id: str, slack_id: str, action: str) -> bool:
        statement = (
            delete(subscriptions)
            .where(
                subscriptions.c.action == action,
                subscriptions.c.user_id
                == select(users.c.id).where(_user_is(team_id, slack_id)).scalar_subquery(),
            )
            .returning(subscriptions.c.id)
        )
        async with self.engine.begin() as conn:
            return await conn.scalar(statement) is not None

    async def user_subscriptions(self, team_id: str, slack_id: str) -> list[RowMapping]:
        statement = (
            select(subscriptions)
            .join(users, users.c.id == subscriptions.c.user_id)
            .where(_user_is(team_id, slack_id))
            .order_by(subscriptions.c.action)
        )
        async with self.engine.connect() as conn:
            return list((await conn.execute(statement)).mappings().all())

    async def list_subscriptions(
        self, action: str | None, after_id: int, limit: int
    ) -> list[Mapping[str, Any]]:
        """Every subscription (of `action`), with the user's ids and `timezone` fact."""
        rows: list[Mapping[str, Any]] = await self.pool().fetch(
            SUBSCRIPTIONS_PAGE_SQL, action, after_id, limit
        )
        return rows

    async def schema_revision(self) -> str | None:
        async with self.engine.connect() as conn:
            revision = await conn.scalar(text("SELECT version_num FROM alembic_version"))
        return str(revision) if revision is not None else None


PURGE_AUDIT_SQL = text(
    "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log "
    "WHERE at < now() - make_interval(days => :days) ORDER BY id LIMIT :n)"
)
SUBSCRIPTIONS_PAGE_SQL = """
    SELECT s.id, u.team_id, u.slack_id, s.action, s.at_time, s.channel, s.updated_at,
           (SELECT f.value FROM facts f WHERE f.user_id = u.id AND f.key = 'timezone') AS timezone
    FROM subscriptions s JOIN users u ON u.id = s.user_id
    WHERE ($1::text IS NULL OR s.action = $1) AND s.id > $2
    ORDER BY s.id LIMIT $3"""

FACT_SELECT = """
    SELECT f.id, f.key, f.value, f.version, f.created_at, f.updated_at
    FROM facts f JOIN users u ON u.id = f.user_id
    WHERE u.team_id = $1 AND u.slack_id = $2"""
FACT_SQL = FACT_SELECT + " AND f.key = $3"
FACTS_PAGE_SQL = FACT_SELECT + " AND f.key > $3 ORDER BY f.key LIMIT $4"
USER_SQL = """
    SELECT id, team_id, slack_id, is_admin, version, created_at, updated_at
    FROM users WHERE team_id = $1 AND slack_id = $2"""

PER_ACTION_SQL = text(
    """
    SELECT (at AT TIME ZONE 'UTC')::date AS day, action,
           count(*) AS calls,
           count(*) FILTER (WHERE outcome IN ('error', 'timeout')) AS failed,
           count(*) FILTER (WHERE outcome = 'user_error') AS user_errors,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95_latency_ms
    FROM activity WHERE at >= :start AND at < :end
    GROUP BY 1, 2 ORDER BY 1, 2
    """
)
ACTIVE_PER_DAY_SQL = text(
    """
    SELECT (at AT TIME ZONE 'UTC')::date AS day, count(DISTINCT user_id) AS users
    FROM activity WHERE at >= :start AND at < :end GROUP BY 1 ORDER BY 1
    """
)
PER_CHANNEL_SQL = text(
    """
    SELECT coalesce(channel, '') AS channel, count(*) AS calls,
           count(*) FILTER (WHERE outcome IN ('error', 'timeout')) AS failed
    FROM activity WHERE at >= :start AND at < :end
    GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 50
    """
)
ACTIVE_TOTAL_SQL = text(
    "SELECT count(DISTINCT user_id) FROM activity WHERE at >= :start AND at < :end"
)
