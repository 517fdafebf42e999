"""Assembles the dispatcher: kit app, database pool, action registry, queue worker (dispatch and
audit jobs), policy guard, scheduler, activity recording, admin API."""

from __future__ import annotations

from dataclasses import replace

from quart import Quart
from slack_sdk.web.async_client import AsyncWebClient

from jeeves.dispatcher.activity import activity_sink, serve_activity
from jeeves.dispatcher.auditor import Auditor
from jeeves.dispatcher.dispatching import Dispatcher, DispatchMetrics
from jeeves.dispatcher.groups import GroupDirectory, NoGroups, SlackGroups
from jeeves.dispatcher.guard import Guard
from jeeves.dispatcher.routes import admin_blueprints
from jeeves.dispatcher.scheduler import Scheduler, SchedulerMetrics
from jeeves.dispatcher.settings import (
    DispatcherSettings,
)
from jeeves.kit.actions import ActionRegistry
from jeeves.kit.app import create_app, kit
from jeeves.kit.auth import admin_authorizer, install_auth
from jeeves.kit.data_client import DataClient
from jeeves.kit.db import install_database, pool_of
from jeeves.kit.dead_letters import static_admin_token
from jeeves.kit.flags import install_flags
from jeeves.kit.jobs import AUDIT, DISPATCH
from jeeves.kit.logging import get_logger
from jeeves.kit.queue import WorkerOptions, install_worker
from jeeves.kit.registry import install_registry

log = get_logger(__name__)
AUDIT_CONCURRENCY = 2  # audit records in flight per dispatcher (in their own worker)


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
    data = DataClient(kit(app).http, settings.data_url) if settings.data_url else None
    dispatcher = Dispatcher(
        registry=registry,
        http=kit(app).http,
        pool=lambda: pool_of(app),
        bot_user_id=settings.slack_bot_user_id,
        metrics=DispatchMetrics(kit(app).registry),
        activity=activity,
        max_attempts=options.max_attempts,
        guard=Guard(lambda: pool_of(app), group_directory(settings)),
        audit=data is not None,
        flags=install_flags(app, env=settings.env, etcd_endpoints=settings.etcd_endpoints),
        dashboard_url=settings.dashboard_url,
    )
    install_worker(
        app,
        settings.database_url,
        {DISPATCH: dispatcher.handle},
        options,
        on_dead_letter={DISPATCH: dispatcher.dead_lettered},
    )
    if data is not None:  # its own worker: a slow data service never takes a dispatch's slot
        audit_options = replace(
            options, concurrency=AUDIT_CONCURRENCY, max_attempts=max(options.max_attempts, 10)
        )
        auditor = Auditor(data, kit(app).registry)
        install_worker(
            app, settings.database_url, {AUDIT: auditor.handle}, audit_options, check=None
        )
    serve_activity(app, activity, settings)  # after the worker: it stops after the worker
    install_scheduler(app, settings, registry, data, dispatcher)
    admin_token = settings.admin_token.get_secret_value()
    authorize = admin_authorizer(app, static_admin_token(admin_token))
    for blueprint in admin_blueprints(authorize, registry):
        app.register_blueprint(blueprint)

    @app.before_serving
    async def _warn_open_admin() -> None:
        if not admin_token and not auth.enabled:
            log.warning("admin_api_unauthenticated", hint="set JEEVES_ADMIN_TOKEN")
        if data is None:
            log.warning("audit_log_off", hint="set JEEVES_DATA_URL: action runs are not audited")

    return app


def group_directory(settings: DispatcherSettings) -> GroupDirectory:
    """Slack user-group membership for policies (or none, when no bot token is set)."""
    token = settings.slack_bot_token.get_secret_value()
    if not token:
        return NoGroups()
    client = AsyncWebClient(token=token, base_url=settings.slack_api_url, timeout=5)
    return SlackGroups(client, ttl_s=settings.groups_cache_s)


def install_scheduler(
    app: Quart,
    settings: DispatcherSettings,
    registry: ActionRegistry,
    data: DataClient | None,
    dispatcher: Dispatcher,
) -> Scheduler:
    """Fire schedules and alerts while `app` serves. A run claimed while this replica stops is
    a durable job like any other: another replica, or this one restarted, takes it."""
    scheduler = Scheduler(
        registry=registry,
        pool=lambda: pool_of(app),
        bot_user_id=settings.slack_bot_user_id,
        metrics=SchedulerMetrics(kit(app).registry),
        poll_s=settings.schedule_poll_s,
        data=data,
        alerts_refresh_s=settings.alerts_refresh_s,
        on_expired=dispatcher.expire_held,
    )

    @app.before_serving
    async def _start_scheduler() -> None:
        scheduler.start()

    @app.after_serving
    async def _stop_scheduler() -> None:
        await scheduler.stop()

    return scheduler
