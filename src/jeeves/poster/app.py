"""Assembles the poster: kit app, database pool, Slack client, governor, queue worker, API."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
from quart import Quart
from slack_sdk.web.async_client import AsyncWebClient

from jeeves.kit.app import create_app, kit
from jeeves.kit.auth import admin_authorizer, install_auth, scope_authorizer
from jeeves.kit.data_client import DataClient
from jeeves.kit.db import install_database, pool_of
from jeeves.kit.dead_letters import static_admin_token
from jeeves.kit.jobs import REPLY
from jeeves.kit.logging import get_logger
from jeeves.kit.queue import WorkerOptions, install_worker
from jeeves.kit.refreshing import TokenKeeper
from jeeves.poster.domain.governor import Governor
from jeeves.poster.posting import Poster, PostMetrics
from jeeves.poster.routes import blueprints
from jeeves.poster.settings import PosterSettings
from jeeves.poster.tokens import BotTokens

log = get_logger(__name__)
SLACK_CLIENT = "slack_client"
POST_SCOPE = "post"  # what a caller's token needs for POST /v1/messages


async def _open_sender() -> None:
    """Without a token dealer (JEEVES_TOKENS_URL unset) `/v1/messages` is open (loopback dev)."""


def bot_tokens(
    app: Quart, settings: PosterSettings, client: Callable[[], AsyncWebClient]
) -> BotTokens:
    """The configured bot token, or (distributed) each workspace's installation."""
    if not settings.slack_distributed:
        return BotTokens(static=settings.slack_bot_token.get_secret_value())

    def session() -> aiohttp.ClientSession:
        value = client().session
        assert value is not None
        return value

    return BotTokens(
        data=DataClient(kit(app).http, settings.data_url),
        keeper=TokenKeeper(margin_s=settings.slack_token_refresh_margin_s),
        api_url=settings.slack_api_url,
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        session=session,
    )


def build_app(settings: PosterSettings) -> Quart:
    app = create_app("poster", settings)
    auth = install_auth(app, settings)
    install_database(app, settings.database_url, max_size=settings.db_pool_size)
    governor = Governor(
        channel_rate=settings.post_channel_rate,
        channel_burst=settings.post_channel_burst,
        global_rate=settings.post_global_rate,
        global_burst=settings.post_global_burst,
    )

    def client() -> AsyncWebClient:
        value = kit(app).extras.get(SLACK_CLIENT)
        if not isinstance(value, AsyncWebClient):
            raise RuntimeError("the Slack client is not open (serving has not started)")
        return value

    @app.before_serving
    async def _open_slack() -> None:
        # slack_sdk applies its own timeout only to sessions it creates: ours carries it.
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=100),
            timeout=aiohttp.ClientTimeout(total=settings.slack_timeout_s),
        )
        kit(app).extras[SLACK_CLIENT] = AsyncWebClient(
            base_url=settings.slack_api_url,
            timeout=int(max(1, settings.slack_timeout_s)),
            session=session,
            retry_handlers=[],  # retries belong to the queue, which knows about the outbound log
        )
        if not settings.admin_token.get_secret_value() and not auth.enabled:
            log.warning("admin_api_unauthenticated", hint="set JEEVES_ADMIN_TOKEN")

    @app.after_serving
    async def _close_slack() -> None:
        value = kit(app).extras.pop(SLACK_CLIENT, None)
        if isinstance(value, AsyncWebClient) and value.session is not None:
            await value.session.close()

    poster = Poster(
        client=client,
        tokens=bot_tokens(app, settings, client),
        pool=lambda: pool_of(app),
        http=lambda: kit(app).http,
        slack_api_url=settings.slack_api_url,
        slack_timeout_s=settings.slack_timeout_s,
        governor=governor,
        metrics=PostMetrics(kit(app).registry),
        lease_s=settings.post_lease_s,
        max_wait_s=settings.post_max_wait_s,
        max_attempts=settings.queue_max_attempts,
    )
    install_worker(
        app, settings.database_url, {REPLY: poster.handle}, WorkerOptions.from_settings(settings)
    )
    admin = admin_authorizer(app, static_admin_token(settings.admin_token.get_secret_value()))
    sender = scope_authorizer(POST_SCOPE) if auth.enabled else _open_sender
    for blueprint in blueprints(sender, admin):
        app.register_blueprint(blueprint)
    return app
