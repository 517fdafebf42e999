"""`jeeves-socket`: serve the Socket Mode ingress; `jeeves-socket migrate` installs its schema
(the same queue schema and inbound event log as `jeeves-gateway migrate`)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from jeeves.kit.entrypoint import service_main
from jeeves.kit.queue import migrate_queue_database
from jeeves.kit.serving import run
from jeeves.kit.settings import load_settings
from jeeves.kit.slack.inbound import create_tables
from jeeves.socket.app import build_app
from jeeves.socket.settings import MigrateSettings, SocketSettings


def migrate() -> Iterable[str]:
    url = load_settings(MigrateSettings).database_url
    return asyncio.run(migrate_queue_database(url, "socket", create_tables))


def serve() -> None:
    settings = load_settings(SocketSettings)
    run(build_app(settings), settings)


def main(argv: list[str] | None = None) -> None:
    service_main("jeeves-socket", argv, serve=serve, migrate=migrate)
