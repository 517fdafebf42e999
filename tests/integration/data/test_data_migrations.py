"""Schema migrations with `jeeves-data migrate` / `downgrade` on real PostgreSQL.

Real: PostgreSQL, the `jeeves-data` entry point (Alembic configured in code), and the service's
`/readyz` schema check. Nothing is faked.
"""

from __future__ import annotations

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from data_service_support import ENCRYPTION_KEY, jeeves_data
from sqlalchemy.ext.asyncio import create_async_engine

from jeeves.data.migrating import sqlalchemy_url
from jeeves.data.schema import metadata
from jeeves.localstack.postgres import PostgresServer
from support.services import ServiceProcess, http_json

pytestmark = pytest.mark.integration
ALL_TABLES = {
    "users",
    "facts",
    "connections",
    "activity",
    "audit_log",
    "installations",
    "oauth_states",
    "connection_revocations",
    "subscriptions",
}
HEAD = "0005_audit_runs_subscriptions"
INSTALLATIONS = {"installations", "oauth_states", "connection_revocations"}


async def _state(url: str) -> tuple[set[str], str | None]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = {r["tablename"] for r in rows} - {"alembic_version"}
        revision = None
        if "alembic_version" in {r["tablename"] for r in rows}:
            revision = await conn.fetchval("SELECT version_num FROM alembic_version")
        return tables, revision
    finally:
        await conn.close()


def _run(*args: str, url: str) -> None:
    done = jeeves_data(*args, database_url=url)
    assert done.returncode == 0, done.stderr


async def test_upgrade_from_empty_then_down_one_and_up_again(
    postgres_server: PostgresServer,
) -> None:
    url = postgres_server.create_database("jeeves_data_migrations")
    assert await _state(url) == (set(), None)
    _run("migrate", url=url)
    assert await _state(url) == (ALL_TABLES, HEAD)
    _run("downgrade", "-1", url=url)
    assert await _state(url) == (ALL_TABLES - {"subscriptions"}, "0004_installations")
    _run("downgrade", "-1", url=url)
    later = INSTALLATIONS | {"subscriptions"}
    assert await _state(url) == (ALL_TABLES - later, "0003_audit_and_channel")
    _run("downgrade", "-1", url=url)
    assert await _state(url) == (ALL_TABLES - later - {"audit_log"}, "0002")
    _run("downgrade", "-1", url=url)
    assert await _state(url) == (ALL_TABLES - later - {"activity", "audit_log"}, "0001")
    _run("migrate", url=url)
    assert await _state(url) == (ALL_TABLES, HEAD)
    _run("migrate", url=url)  # idempotent at head
    assert await _state(url) == (ALL_TABLES, HEAD)
    _run("downgrade", "base", url=url)
    assert (await _state(url))[0] == set()


async def test_previous_revision_data_survives_the_upgrade(
    postgres_server: PostgresServer,
) -> None:
    url = postgres_server.create_database("jeeves_data_upgrade_keeps_rows")
    _run("migrate", "0001", url=url)
    conn = await asyncpg.connect(url)
    try:
        user_id = await conn.fetchval(
            "INSERT INTO users (team_id, slack_id) VALUES ('T1', 'U1') RETURNING id"
        )
        await conn.execute(
            "INSERT INTO facts (user_id, key, value) VALUES ($1, 'location', 'Porto')", user_id
        )
    finally:
        await conn.close()
    _run("migrate", url=url)
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("SELECT value FROM facts WHERE key = 'location'") == "Porto"
    finally:
        await conn.close()


def test_service_is_not_ready_until_migrated(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database("jeeves_data_unmigrated")
    service = ServiceProcess(
        "jeeves-data",
        {"JEEVES_DATABASE_URL": url, "JEEVES_DATA_ENCRYPTION_KEY": ENCRYPTION_KEY},
        probe="/healthz",
    )
    try:
        service.start()
        status, body = http_json("GET", service.url + "/readyz")
        assert status == 503
        check = next(c for c in body["checks"] if c["name"] == "schema")
        assert check["ok"] is False
        _run("migrate", url=url)
        service.wait_ready()
    finally:
        service.close()


def test_missing_encryption_key_stops_with_one_line(migrated_url: str) -> None:
    service = ServiceProcess("jeeves-data", {"JEEVES_DATABASE_URL": migrated_url})
    service.env.pop("JEEVES_DATA_ENCRYPTION_KEY", None)
    with pytest.raises(RuntimeError, match="JEEVES_DATA_ENCRYPTION_KEY is required"):
        service.start()
    service.close()


async def test_migrations_match_the_table_definitions(migrated_url: str) -> None:
    """Alembic's autogenerate finds no difference between `schema.py` and the migrated DB."""
    engine = create_async_engine(sqlalchemy_url(migrated_url))
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
            )
    finally:
        await engine.dispose()
    assert diff == []
