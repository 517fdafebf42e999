"""`jeeves-dispatcher`: serve the dispatcher; `jeeves-dispatcher migrate`: install its tables."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from jeeves.dispatcher import store
from jeeves.dispatcher.app import build_app
from jeeves.dispatcher.settings import DispatcherSettings, MigrateSettings
from jeeves.kit.entrypoint import service_main
from jeeves.kit.queue import migrate_queue_database
from jeeves.kit.serving import run
from jeeves.kit.settings import load_settings


def migrate() -> Iterable[str]:
    url = load_settings(MigrateSettings).database_url
    return asyncio.run(migrate_queue_database(url, "dispatcher", store.migrate))


def serve() -> None:
    settings = load_settings(DispatcherSettings)
    run(build_app(settings), settings)


def main(argv: list[str] | None = None) -> None:
    service_main("jeeves-dispatcher", argv, serve=serve, migrate=migrate)
