"""Assembles the alerts service: the action SDK app, database pool, Alertmanager client, the
webhook and admin routes, and the pruning of old notifications."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from quart import Quart

from jeeves.alerts import store
from jeeves.alerts.alertmanager import Alertmanager
from jeeves.alerts.routes import (
    DEPS_KEY,
    AlertsMetrics,
    Deps,
    act,
    admin_blueprint,
    webhook_blueprint,
)
from jeeves.alerts.settings import AlertsSettings
from jeeves.kit.action_app import create_action_app
from jeeves.kit.app import kit
from jeeves.kit.auth import admin_authorizer
from jeeves.kit.data_client import DataClient
from jeeves.kit.db import install_database, pool_of
from jeeves.kit.dead_letters import static_admin_token
from jeeves.kit.logging import get_logger

NAME = "alerts"
PRUNE_EVERY_S = 3600.0
log = get_logger(__name__)


def build_app(settings: AlertsSettings) -> Quart:
    app = create_action_app(NAME, settings, act)
    install_database(app, settings.database_url, max_size=settings.db_pool_size)
    the_kit = kit(app)
    alertmanager = (
        Alertmanager(the_kit.http, settings.alertmanager_url, settings.alertmanager_timeout_s)
        if settings.alertmanager_url
        else None
    )
    the_kit.extras[DEPS_KEY] = Deps(
        webhook_token=settings.alerts_webhook_token.get_secret_value(),
        routes=settings.routes(),
        default_channel=settings.alerts_default_channel,
        silence=timedelta(seconds=settings.alerts_silence_s),
        alertmanager=alertmanager,
        metrics=AlertsMetrics(the_kit.registry),
        data=DataClient(the_kit.http, settings.data_url) if settings.data_url else None,
        team_id=settings.alerts_team_id or None,
    )
    app.register_blueprint(webhook_blueprint())
    admin = admin_authorizer(app, static_admin_token(settings.admin_token.get_secret_value()))
    app.register_blueprint(admin_blueprint(admin))
    _install_pruning(app, settings.alerts_retention_days)
    return app


def _install_pruning(app: Quart, days: int) -> None:
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []

    async def prune_forever() -> None:
        while not stop.is_set():
            try:
                deleted = await store.prune_notifications(pool_of(app), days)
                log.info("alert_notifications_pruned", deleted=deleted, days=days)
            except Exception as exc:  # the next round tries again
                log.warning("alert_notifications_prune_failed", error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), PRUNE_EVERY_S)

    @app.before_serving
    async def _start() -> None:
        stop.clear()
        tasks.append(asyncio.create_task(prune_forever(), name="alerts-prune"))

    @app.after_serving
    async def _stop() -> None:
        stop.set()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        tasks.clear()
