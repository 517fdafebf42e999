"""Assembles the dispatcher: kit app, database pool, action registry, queue worker, activity
recording, admin API."""

from __future__ import annotations

from quart import Quart

from jeeves.dispatcher.activity import activity_sink, serve_activity
from jeeves.dispatcher.dispatching import Dispatcher, DispatchMetrics
from jeeves.dispatcher.routes import admin_blueprints
from jeeves.dispatcher.settings import (
    DispatcherSettings,
)
from jeeves.kit.app import create_app, kit
from jeeves.kit.auth import admin_authorizer, install_auth
from jeeves.kit.db import install_database, pool_of
from jeeves.kit.dead_letters import static_admin_token
from jeeves.kit.flags import install_flags
from jeeves.kit.jobs import DISPATCH
from jeeves.kit.logging import get_logger
from jeeves.kit.queue import WorkerOptions, install_worker
from jeeves.kit.registry import install_registry

log = get_logger(__name__)


def build_app(settings: DispatcherSettings) -> Quart:
    app = create_app("dispatcher", settings)
    auth = install_auth(app, settings)  # outbound: a token per action (audience = its name)
    install_database(app, settings.database_url, max_size=settings.db_pool_size)
    registry = install_registry(
        app,
        env=settings.env,
        etcd_endpoints=settings.etcd_endpoints,
        static=settings.static_actions(),
    )
    options = WorkerOptions.from_settings(settings)
    activity = activity_sink(app, settings)  # usage statistics, after auth (its tokens)
    dispatcher = Dispatcher(
        registry=registry,
        http=kit(app).http,
        pool=lambda: pool_of(app),
        bot_user_id=settings.slack_bot_user_id,
        metrics=DispatchMetrics(kit(app).registry),
        activity=activity,
        max_attempts=options.max_attempts,
        flags=install_flags(app, env=settings.env, etcd_endpoints=settings.etcd_endpoints),
        dashboard_url=settings.dashboard_url,
    )
    install_worker(app, settings.database_url, {DISPATCH: dispatcher.handle}, options)
    serve_activity(app, activity, settings)  # after the worker: it stops after the worker
    admin_token = settings.admin_token.get_secret_value()
    for blueprint in admin_blueprints(admin_authorizer(app, static_admin_token(admin_token))):
        app.register_blueprint(blueprint)

    @app.before_serving
    async def _warn_open_admin() -> None:
        if not admin_token and not auth.enabled:
            log.warning("admin_api_unauthenticated", hint="set JEEVES_ADMIN_TOKEN")

    return app
