"""`jeeves-weather-emulator`: run the Open-Meteo stand-in under Hypercorn."""

from __future__ import annotations

from jeeves.emulators.weather.app import build_app
from jeeves.emulators.weather.settings import WeatherEmulatorSettings
from jeeves.kit.serving import run
from jeeves.kit.settings import load_settings


def main() -> None:
    settings = load_settings(WeatherEmulatorSettings)
    run(build_app(settings), settings)
