"""`jeeves-gateway`: serve the gateway; `jeeves-gateway migrate` installs its schema."""

from __future__ import annotations

import asyncio
import sys

from jeeves.gateway.app import build_app
from jeeves.gateway.settings import GatewaySettings, MigrateSettings
from jeeves.gateway.store import migrate
from jeeves.kit.serving import run
from jeeves.kit.settings import load_settings

USAGE = "usage: jeeves-gateway [migrate]"


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args == ["migrate"]:
        migrate_settings = load_settings(MigrateSettings)
        for line in asyncio.run(migrate(migrate_settings.database_url)):
            print(f"jeeves-gateway migrate: {line}")
        return
    if args:
        print(USAGE, file=sys.stderr)
        raise SystemExit(2)
    settings = load_settings(GatewaySettings)
    run(build_app(settings), settings, reuse_port=settings.reuse_port)
