"""`jeeves-strava`: run the Strava action under Hypercorn."""

from __future__ import annotations

from jeeves.actions.strava.app import build_app
from jeeves.actions.strava.settings import StravaSettings
from jeeves.kit.serving import run
from jeeves.kit.settings import load_settings


def main() -> None:
    settings = load_settings(StravaSettings)
    run(build_app(settings), settings)
