"""Assembles the dashboard: kit app, sessions database, token source, etcd, routes, frontend."""

from __future__ import annotations

from quart import Quart

from jeeves.dashboard.backends import Etcd, Services
from jeeves.dashboard.routes import admin, auth, me
from jeeves.dashboard.routes.common import PARTS_KEY, Parts
from jeeves.dashboard.settings import DashboardSettings
from jeeves.dashboard.web import install_security_headers, web_blueprint
from jeeves.kit.app import create_app, kit
from jeeves.kit.auth import install_auth
from jeeves.kit.db import install_database
from jeeves.kit.logging import get_logger

log = get_logger(__name__)


def build_app(settings: DashboardSettings) -> Quart:
    app = create_app("dashboard", settings)
    install_auth(app, settings)  # outbound: the dashboard's own token per service
    install_database(app, settings.database_url, max_size=5)
    etcd = Etcd(settings.etcd_endpoints)
    kit(app).extras[PARTS_KEY] = Parts(settings, Services(app, settings), etcd)

    @app.before_serving
    async def _open_etcd() -> None:
        await etcd.open()
        if not settings.admins:
            log.warning("no_admins", hint="set JEEVES_DASHBOARD_ADMINS to Slack user ids")

    @app.after_serving
    async def _close_etcd() -> None:
        await etcd.close()

    for blueprint in (auth.blueprint, admin.blueprint, me.blueprint):
        app.register_blueprint(blueprint)
    app.register_blueprint(web_blueprint(settings.dashboard_static_dir))  # last: catch-all
    install_security_headers(app)
    return app
