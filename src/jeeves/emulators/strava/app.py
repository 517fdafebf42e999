"""Assembles the Strava emulator: kit + Strava's OAuth and athlete routes, seeded athletes."""

from __future__ import annotations

import time

from quart import Quart

from jeeves.emulators.strava.domain import Strava, seed_athletes
from jeeves.emulators.strava.routes import STRAVA_KEY, blueprint
from jeeves.emulators.strava.settings import StravaEmulatorSettings
from jeeves.kit.app import create_app, kit


def build_app(settings: StravaEmulatorSettings) -> Quart:
    app = create_app("strava-emulator", settings)
    kit(app).extras[STRAVA_KEY] = Strava(
        client_id=settings.strava_client_id,
        client_secret=settings.strava_client_secret.get_secret_value(),
        athletes=seed_athletes(time.time()),
        token_ttl_s=settings.emulator_strava_token_ttl_s,
    )
    app.register_blueprint(blueprint)
    return app
