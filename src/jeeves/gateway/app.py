"""Assembles the gateway app: kit, database pool, group-commit writer, Slack routes."""

from __future__ import annotations

from quart import Quart

from jeeves.gateway.routes import STATE_KEY, EventMetrics, GatewayState, blueprint
from jeeves.gateway.settings import GatewaySettings
from jeeves.gateway.store import EventWriter
from jeeves.kit.app import create_app, kit
from jeeves.kit.db import install_database, pool_of
from jeeves.kit.etcd import install_etcd_check


def build_app(settings: GatewaySettings) -> Quart:
    app = create_app("gateway", settings)
    registry = kit(app).registry
    writer = EventWriter(
        lambda: pool_of(app),
        registry,
        writers=settings.ingest_writers,
        max_batch=settings.ingest_max_batch,
        linger_s=settings.ingest_linger_ms / 1000,
    )
    kit(app).extras[STATE_KEY] = GatewayState(
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        bot_user_id=settings.slack_bot_user_id,
        writer=writer,
        metrics=EventMetrics(registry),
        timeout_s=settings.ingest_timeout_s,
    )

    @app.before_serving
    async def _start_writer() -> None:
        writer.start()

    # Registered before the database hooks: after_serving runs in registration order, so
    # waiting events are written before the pool closes.
    @app.after_serving
    async def _stop_writer() -> None:
        await writer.stop(grace_s=settings.graceful_timeout_s)

    install_database(app, settings.database_url, max_size=settings.database_pool_size)
    if settings.etcd_endpoints:
        install_etcd_check(app, settings.etcd_endpoints)
    app.register_blueprint(blueprint)
    return app
