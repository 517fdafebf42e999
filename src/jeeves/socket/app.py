"""Assembles the Socket Mode ingress: kit app, database pool, group-commit writer, the links.

The process serves only `/healthz`, `/readyz` (database, and `slack`: at least one link open
and greeted) and `/metrics`; its work is the links it keeps open to Slack.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import aiohttp
from quart import Quart
from slack_sdk.web.async_client import AsyncWebClient

from jeeves.kit.app import create_app, kit
from jeeves.kit.auth import install_auth
from jeeves.kit.data_client import DataClient
from jeeves.kit.db import install_database, pool_of
from jeeves.kit.logging import get_logger
from jeeves.kit.slack.inbound import EventPruner, EventWriter
from jeeves.kit.slack.teams import InstalledTeams
from jeeves.socket.ingesting import EnvelopeHandler, EnvelopeMetrics
from jeeves.socket.linking import LinkMetrics, SocketLink
from jeeves.socket.settings import SocketSettings

log = get_logger(__name__)
SESSION = "socket_session"


def build_app(settings: SocketSettings) -> Quart:
    app = create_app("socket", settings)
    tools = kit(app)
    install_auth(app, settings)
    teams = None
    if settings.slack_distributed:
        data = DataClient(tools.http, settings.data_url)
        teams = InstalledTeams(data, positive_ttl_s=settings.installed_teams_ttl_s)
    writer = EventWriter(
        lambda: pool_of(app),
        tools.registry,
        writers=settings.ingest_writers,
        max_batch=settings.ingest_max_batch,
    )
    handler = EnvelopeHandler(
        writer=writer,
        bot_user_id=settings.slack_bot_user_id,
        timeout_s=settings.ingest_timeout_s,
        metrics=EnvelopeMetrics(tools.registry),
        teams=teams,
    )
    link_metrics = LinkMetrics(tools.registry)
    retention = timedelta(days=settings.inbound_retention_days)
    pruner = EventPruner(lambda: pool_of(app), retention) if retention else None
    links: list[SocketLink] = []
    tasks: list[asyncio.Task[None]] = []

    def session() -> aiohttp.ClientSession:
        value = tools.extras[SESSION]
        assert isinstance(value, aiohttp.ClientSession)
        return value

    async def open_url() -> str:
        client = AsyncWebClient(
            base_url=settings.slack_api_url, session=session(), timeout=10, retry_handlers=[]
        )
        answer = await client.apps_connections_open(
            app_token=settings.slack_app_token.get_secret_value()
        )
        return str(answer["url"])

    @app.before_serving
    async def _start() -> None:
        tools.extras[SESSION] = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
        writer.start()
        if pruner is not None:
            pruner.start()
        for index in range(settings.socket_connections):
            link = SocketLink(
                f"link-{index}",
                open_url=open_url,
                session=session,
                handle=handler,
                metrics=link_metrics,
                ping_interval_s=settings.socket_ping_interval_s,
                drain_s=settings.socket_drain_s,
                backoff_base_s=settings.socket_backoff_base_s,
                backoff_max_s=settings.socket_backoff_max_s,
            )
            links.append(link)
            tasks.append(asyncio.create_task(link.run(), name=link.name))

    # Registered before the database hooks: after_serving runs in registration order, so the
    # links stop (their envelopes stored and acked) and the writer drains before the pool closes.
    @app.after_serving
    async def _stop() -> None:
        for link in links:
            link.stop()
        if tasks:
            await asyncio.wait(tasks, timeout=settings.graceful_timeout_s or None)
        if pruner is not None:
            await pruner.stop()
        await writer.stop(grace_s=settings.graceful_timeout_s)
        value = tools.extras.pop(SESSION, None)
        if isinstance(value, aiohttp.ClientSession):
            await value.close()

    async def _slack() -> str | None:
        open_links = sum(link.connected for link in links)
        if not open_links:
            raise RuntimeError("no Socket Mode link is open")
        return f"{open_links}/{len(links)} links open"

    tools.readiness.add("slack", _slack)
    install_database(app, settings.database_url, max_size=settings.database_pool_size)
    return app
