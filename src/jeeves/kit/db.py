"""PostgreSQL access for services that own tables: one asyncpg pool per process.

The pool is created in the serving lifecycle with `min_size=0`, so a service starts even while
the database is down and reports it through `/readyz` instead of crashing.

Releasing a connection costs no round trip: asyncpg's default reset sends `SELECT
pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL` on every release, and Jeeves never
leaves session state on a pooled connection — no `SET`, no session advisory locks (only
`pg_advisory_xact_lock`), no cursors, no `LISTEN` (the queue listens on its own connection). A
transaction left open is still rolled back (asyncpg does that before calling `reset`). Measured
in the pipeline: five of those round trips per event (docs/performance.md).
"""

from __future__ import annotations

import asyncpg
from quart import Quart

from jeeves.kit.app import kit

POOL_KEY = "db_pool"


def asyncpg_dsn(url: str) -> str:
    """Accept SQLAlchemy-style URLs (`postgresql+asyncpg://`) as well as plain ones."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def keep_session(_conn: asyncpg.Connection) -> None:
    """The pool's `reset`: nothing to undo (see the module docstring)."""


def install_database(app: Quart, url: str, *, max_size: int = 10) -> None:
    """Open a pool when serving starts, close it at shutdown, and add a `database` check."""

    @app.before_serving
    async def _open() -> None:
        pool = await asyncpg.create_pool(
            asyncpg_dsn(url),
            min_size=0,
            max_size=max_size,
            command_timeout=10,
            max_inactive_connection_lifetime=60,
            reset=keep_session,
        )
        kit(app).extras[POOL_KEY] = pool

    @app.after_serving
    async def _close() -> None:
        pool = kit(app).extras.pop(POOL_KEY, None)
        if isinstance(pool, asyncpg.Pool):
            await pool.close()

    async def _check() -> str | None:
        async with pool_of(app).acquire(timeout=1.5) as conn:
            await conn.execute("SELECT 1")
        return None

    kit(app).readiness.add("database", _check)


def pool_of(app: Quart) -> asyncpg.Pool:
    pool = kit(app).extras.get(POOL_KEY)
    if not isinstance(pool, asyncpg.Pool):
        raise RuntimeError("database pool is not open (serving has not started)")
    return pool
