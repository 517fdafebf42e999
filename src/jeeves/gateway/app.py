"""Assembles the gateway app: kit, database pool, group-commit writer, Slack routes."""

from __future__ import annotations

from datetime import timedelta

from quart import Quart

from jeeves.gateway.routes import EventMetrics, GatewayState, SlackRoutes
from jeeves.gateway.settings import GatewaySettings
from jeeves.kit.app import create_app, kit
from jeeves.kit.db import install_database, pool_of
from jeeves.kit.etcd import install_etcd_check
from jeeves.kit.slack.inbound import EventPruner, EventWriter


def build_app(settings: GatewaySettings) -> Quart:
    app = create_app("gateway", settings)
    tools = kit(app)
    writer = EventWriter(
        lambda: pool_of(app),
        tools.registry,
        writers=settings.ingest_writers,
        max_batch=settings.ingest_max_batch,
        linger_s=settings.ingest_linger_ms / 1000,
    )
    state = GatewayState(
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        bot_user_id=settings.slack_bot_user_id,
        writer=writer,
        metrics=EventMetrics(tools.registry),
        http_metrics=tools.http_metrics,
        timeout_s=settings.ingest_timeout_s,
        max_body_bytes=settings.max_body_bytes,
    )
    # Quart's middleware hook: the Slack routes are served in front of Quart (see routes.py).
    app.asgi_app = SlackRoutes(app.asgi_app, state)  # type: ignore[method-assign,assignment]

    retention = timedelta(days=settings.inbound_retention_days)
    pruner = EventPruner(lambda: pool_of(app), retention) if retention else None

    @app.before_serving
    async def _start_writer() -> None:
        writer.start()
        if pruner is not None:
            pruner.start()

    # Registered before the database hooks: after_serving runs in registration order, so
    # waiting events are written before the pool closes.
    @app.after_serving
    async def _stop_writer() -> None:
        if pruner is not None:
            await pruner.stop()
        await writer.stop(grace_s=settings.graceful_timeout_s)

    install_database(app, settings.database_url, max_size=settings.database_pool_size)
    if settings.etcd_endpoints:
        install_etcd_check(app, settings.etcd_endpoints)
    return app
