"""`jeeves-strava-emulator`: run the Strava stand-in under Hypercorn."""

from __future__ import annotations

from jeeves.emulators.strava.app import build_app
from jeeves.emulators.strava.settings import StravaEmulatorSettings
from jeeves.kit.serving import run
from jeeves.kit.settings import load_settings


def main() -> None:
    settings = load_settings(StravaEmulatorSettings)
    run(build_app(settings), settings)
