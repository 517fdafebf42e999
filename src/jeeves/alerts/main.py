"""`jeeves-alerts`: serve the alerts service; `jeeves-alerts migrate`: install its tables (and
the queue schema the poster's jobs live in)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from jeeves.alerts import store
from jeeves.alerts.app import build_app
from jeeves.alerts.settings import AlertsSettings, MigrateSettings
from jeeves.kit.entrypoint import service_main
from jeeves.kit.queue import migrate_queue_database
from jeeves.kit.serving import run
from jeeves.kit.settings import load_settings


def migrate() -> Iterable[str]:
    url = load_settings(MigrateSettings).database_url
    return asyncio.run(migrate_queue_database(url, "alerts", store.migrate))


def serve() -> None:
    settings = load_settings(AlertsSettings)
    run(build_app(settings), settings)


def main(argv: list[str] | None = None) -> None:
    service_main("jeeves-alerts", argv, serve=serve, migrate=migrate)
