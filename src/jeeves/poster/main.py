"""`jeeves-poster`: serve the poster; `jeeves-poster migrate`: install its tables."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import asyncpg

from jeeves.kit.entrypoint import service_main
from jeeves.kit.queue import migrate_queue_database
from jeeves.kit.serving import run
from jeeves.kit.settings import load_settings
from jeeves.poster import editing, outbound
from jeeves.poster.app import build_app
from jeeves.poster.settings import MigrateSettings, PosterSettings


async def create_tables(conn: asyncpg.Connection) -> None:
    await outbound.migrate(conn)
    await editing.migrate(conn)


def migrate() -> Iterable[str]:
    url = load_settings(MigrateSettings).database_url
    return asyncio.run(migrate_queue_database(url, "poster", create_tables))


def serve() -> None:
    settings = load_settings(PosterSettings)
    run(build_app(settings), settings)


def main(argv: list[str] | None = None) -> None:
    service_main("jeeves-poster", argv, serve=serve, migrate=migrate)
