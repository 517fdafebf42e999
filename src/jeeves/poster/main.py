"""`jeeves-poster`: serve the poster; `jeeves-poster migrate`: install its tables."""

from __future__ import annotations

import asyncio
import sys

import asyncpg

from jeeves.kit.db import asyncpg_dsn
from jeeves.kit.queue import install_queue_schema
from jeeves.kit.serving import run
from jeeves.kit.settings import EXIT_BAD_SETTINGS, load_settings
from jeeves.poster import outbound
from jeeves.poster.app import build_app
from jeeves.poster.settings import MigrateSettings, PosterSettings

USAGE = "usage: jeeves-poster [migrate]"


async def migrate(database_url: str) -> str:
    """Install the queue schema and the outbound log; returns what was done."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url), timeout=10)
    try:
        queue = await install_queue_schema(conn)
        await outbound.migrate(conn)
    finally:
        await conn.close()
    return f"queue schema {queue}; outbound_messages ready"


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args == ["migrate"]:
        database_url = load_settings(MigrateSettings).database_url
        print(f"jeeves-poster: {asyncio.run(migrate(database_url))}")
        return
    if args:
        print(USAGE, file=sys.stderr)
        raise SystemExit(EXIT_BAD_SETTINGS)
    settings = load_settings(PosterSettings)
    run(build_app(settings), settings)
