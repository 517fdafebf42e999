"""`jeeves-weather`: run the weather action under Hypercorn."""

from __future__ import annotations

from jeeves.actions.weather.app import build_app
from jeeves.actions.weather.settings import WeatherSettings
from jeeves.kit.serving import run
from jeeves.kit.settings import load_settings


def main() -> None:
    settings = load_settings(WeatherSettings)
    run(build_app(settings), settings)
