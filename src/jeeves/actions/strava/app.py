"""Assembles the Strava action on the action SDK: data client, Strava client, token keeper,
the OAuth callback and the revocation worker."""

from __future__ import annotations

from quart import Quart

from jeeves.actions.strava.revoking import RevocationWorker
from jeeves.actions.strava.routes import DEPS_KEY, Deps, act, callback_blueprint
from jeeves.actions.strava.settings import StravaSettings
from jeeves.actions.strava.strava_api import StravaApi
from jeeves.kit.action_app import create_action_app
from jeeves.kit.app import kit
from jeeves.kit.data_client import DataClient
from jeeves.kit.refreshing import TokenKeeper

NAME = "strava"


def build_app(settings: StravaSettings) -> Quart:
    app = create_action_app(NAME, settings, act)
    tools = kit(app)
    data = DataClient(tools.http, settings.data_url, timeout_s=settings.upstream_timeout_s)
    strava = StravaApi(
        tools.http,
        settings.strava_url,
        client_id=settings.strava_client_id,
        client_secret=settings.strava_client_secret.get_secret_value(),
        timeout_s=settings.upstream_timeout_s,
    )
    tools.extras[DEPS_KEY] = Deps(
        data=data,
        strava=strava,
        # Read from the data service every time (max_age 0): a connection forgotten there
        # ("forget everything", the dashboard) is forgotten here at once.
        keeper=TokenKeeper(margin_s=settings.strava_refresh_margin_s, max_age_s=0.0),
        strava_url=settings.strava_url,
        client_id=settings.strava_client_id,
        public_url=settings.strava_public_url,
        link_ttl_s=settings.strava_link_ttl_s,
    )
    app.register_blueprint(callback_blueprint())
    worker = RevocationWorker(data, strava, settings.strava_revoke_interval_s, tools.registry)

    @app.before_serving
    async def _start_revoking() -> None:
        worker.start()

    @app.after_serving
    async def _stop_revoking() -> None:
        await worker.stop()

    return app
