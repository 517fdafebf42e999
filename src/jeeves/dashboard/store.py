"""The dashboard's only tables: sessions and pending sign-ins, in its PostgreSQL (asyncpg).

`dashboard_sessions` keeps the SHA-256 of each session id (never the id), who it is, the CSRF
token and the times; `dashboard_logins` keeps each started sign-in's state (hashed), nonce and
the hash of the browser-binding cookie, for ten minutes, consumed exactly once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from jeeves.dashboard.domain.sessions import Person, Session, digest

LOGIN_TTL = timedelta(minutes=10)

SCHEMA = """
CREATE TABLE IF NOT EXISTS dashboard_sessions (
    id_hash      bytea PRIMARY KEY,
    user_id      text NOT NULL,
    team_id      text NOT NULL,
    name         text NOT NULL,
    is_admin     boolean NOT NULL,
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS dashboard_sessions_expires_at ON dashboard_sessions (expires_at);
CREATE TABLE IF NOT EXISTS dashboard_logins (
    state_hash   bytea PRIMARY KEY,
    nonce        text NOT NULL,
    browser_hash bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
"""


async def create_tables(conn: asyncpg.Connection) -> None:
    await conn.execute(SCHEMA)


async def start_login(pool: asyncpg.Pool, state: str, nonce: str, browser: str) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            "DELETE FROM dashboard_logins WHERE created_at < now() - $1::interval", LOGIN_TTL
        )
        await conn.execute(
            "INSERT INTO dashboard_logins (state_hash, nonce, browser_hash) VALUES ($1, $2, $3)",
            digest(state),
            nonce,
            digest(browser),
        )


async def take_login(pool: asyncpg.Pool, state: str) -> tuple[str, bytes] | None:
    """(nonce, browser hash) of a pending sign-in, removed so it can be used once; None when
    unknown, already used or older than ten minutes."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "DELETE FROM dashboard_logins WHERE state_hash = $1 "
            "RETURNING nonce, browser_hash, created_at > now() - $2::interval AS fresh",
            digest(state),
            LOGIN_TTL,
        )
    if row is None or not row["fresh"]:
        return None
    return str(row["nonce"]), bytes(row["browser_hash"])


async def create_session(
    pool: asyncpg.Pool, session_id: str, person: Person, csrf_token: str, lifetime: timedelta
) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            "DELETE FROM dashboard_sessions WHERE expires_at < now()"
        )  # keep the table small
        await conn.execute(
            """INSERT INTO dashboard_sessions
               (id_hash, user_id, team_id, name, is_admin, csrf_token, expires_at)
               VALUES ($1, $2, $3, $4, $5, $6, now() + $7::interval)""",
            digest(session_id),
            person.user_id,
            person.team_id,
            person.name,
            person.is_admin,
            csrf_token,
            lifetime,
        )


async def load_session(pool: asyncpg.Pool, session_id: str) -> tuple[Session, datetime] | None:
    """The session and the database's current time, or None."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT *, now() AS now FROM dashboard_sessions WHERE id_hash = $1",
            digest(session_id),
        )
    if row is None:
        return None
    person = Person(row["user_id"], row["team_id"], row["name"], row["is_admin"])
    session = Session(
        person=person,
        csrf_token=row["csrf_token"],
        created_at=row["created_at"],
        last_seen_at=row["last_seen_at"],
        expires_at=row["expires_at"],
    )
    return session, row["now"]


async def touch_session(pool: asyncpg.Pool, session_id: str) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE dashboard_sessions SET last_seen_at = now() WHERE id_hash = $1",
            digest(session_id),
        )


async def end_session(pool: asyncpg.Pool, session_id: str) -> bool:
    async with pool.acquire() as conn:
        done = await conn.execute(
            "DELETE FROM dashboard_sessions WHERE id_hash = $1", digest(session_id)
        )
    return str(done).endswith(" 1")
