"""Assembles the gateway app: kit, database, routes."""

from __future__ import annotations

from quart import Quart

from jeeves.gateway.settings import GatewaySettings
from jeeves.kit.app import create_app
from jeeves.kit.db import install_database
from jeeves.kit.etcd import install_etcd_check


def build_app(settings: GatewaySettings) -> Quart:
    app = create_app("gateway", settings)
    install_database(app, settings.database_url)
    if settings.etcd_endpoints:
        install_etcd_check(app, settings.etcd_endpoints)
    return app
