"""`jeeves-dashboard`: serve the dashboard; `jeeves-dashboard migrate` creates its tables."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import asyncpg

from jeeves.dashboard.app import build_app
from jeeves.dashboard.settings import DashboardSettings, MigrateSettings
from jeeves.dashboard.store import create_tables
from jeeves.kit.db import asyncpg_dsn
from jeeves.kit.entrypoint import service_main
from jeeves.kit.serving import run
from jeeves.kit.settings import load_settings


async def _migrate(url: str) -> list[str]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await create_tables(conn)
    finally:
        await conn.close()
    return ["dashboard_sessions and dashboard_logins are in place"]


def migrate() -> Iterable[str]:
    return asyncio.run(_migrate(load_settings(MigrateSettings).database_url))


def serve() -> None:
    settings = load_settings(DashboardSettings)
    run(build_app(settings), settings)


def main(argv: list[str] | None = None) -> None:
    service_main("jeeves-dashboard", argv, serve=serve, migrate=migrate)
