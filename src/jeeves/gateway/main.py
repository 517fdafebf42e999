"""`jeeves-gateway`: serve the gateway; `jeeves-gateway migrate` installs its schema."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from jeeves.gateway.app import build_app
from jeeves.gateway.settings import GatewaySettings, MigrateSettings
from jeeves.kit.entrypoint import service_main
from jeeves.kit.queue import migrate_queue_database
from jeeves.kit.serving import run
from jeeves.kit.settings import load_settings
from jeeves.kit.slack.inbound import create_tables


def migrate() -> Iterable[str]:
    url = load_settings(MigrateSettings).database_url
    return asyncio.run(migrate_queue_database(url, "gateway", create_tables))


def serve() -> None:
    settings = load_settings(GatewaySettings)
    # uvicorn: the hot path's server (jeeves.kit.serving, docs/performance.md).
    run(build_app(settings), settings, reuse_port=settings.reuse_port, server="uvicorn")


def main(argv: list[str] | None = None) -> None:
    service_main("jeeves-gateway", argv, serve=serve, migrate=migrate)
