"""Assembles the gateway app: kit, database pool, group-commit writer, Slack routes, and — for a
distributed app — the workspace gate and the OAuth install routes."""

from __future__ import annotations

from datetime import timedelta

from quart import Quart

from jeeves.gateway.install import InstallConfig, install_blueprint
from jeeves.gateway.routes import EventMetrics, GatewayState, SlackRoutes
from jeeves.gateway.settings import GatewaySettings
from jeeves.kit.app import create_app, kit
from jeeves.kit.asgi import mount_front
from jeeves.kit.auth import install_auth
from jeeves.kit.data_client import DataClient
from jeeves.kit.db import install_database, pool_of
from jeeves.kit.slack.inbound import EventPruner, EventWriter
from jeeves.kit.slack.teams import InstalledTeams


def build_app(settings: GatewaySettings) -> Quart:
    app = create_app("gateway", settings)
    tools = kit(app)
    teams = _distributed(app, settings) if settings.slack_distributed else None
    writer = EventWriter(
        lambda: pool_of(app),
        tools.registry,
        writers=settings.ingest_writers,
        max_batch=settings.ingest_max_batch,
        linger_s=settings.ingest_linger_ms / 1000,
        backlog=settings.ingest_backlog,
    )
    state = GatewayState(
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        bot_user_id=settings.slack_bot_user_id,
        writer=writer,
        metrics=EventMetrics(tools.registry),
        timeout_s=settings.ingest_timeout_s,
        max_body_bytes=settings.max_body_bytes,
        teams=teams,
    )
    # The Slack routes are served in front of Quart, behind the kit's middleware (routes.py).
    mount_front(app, lambda quart: SlackRoutes(quart, state))

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

    # Readiness is the database alone: the gateway needs nothing else to accept an event
    # (docs/operations.md). It reads no etcd, so no etcd check.
    install_database(app, settings.database_url, max_size=settings.database_pool_size)
    return app


def _distributed(app: Quart, settings: GatewaySettings) -> InstalledTeams:
    """The workspace gate and the install routes of a distributed app."""
    tools = kit(app)
    install_auth(app, settings)  # its calls to the data service carry tokens
    data = DataClient(tools.http, settings.data_url)
    teams = InstalledTeams(data, positive_ttl_s=settings.installed_teams_ttl_s)
    config = InstallConfig(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        redirect_uri=settings.slack_redirect_uri,
        scopes=settings.slack_scopes,
        authorize_url=settings.slack_authorize_url,
        api_url=settings.slack_api_url,
    )
    app.register_blueprint(install_blueprint(config, data, teams, lambda: tools.http.session))
    return teams
