"""Assembles the weather emulator: kit + the Open-Meteo routes."""

from __future__ import annotations

from quart import Quart

from jeeves.emulators.weather.faults import FaultBook
from jeeves.emulators.weather.routes import BOOK_KEY, blueprint
from jeeves.emulators.weather.settings import WeatherEmulatorSettings
from jeeves.kit.app import create_app, kit


def build_app(settings: WeatherEmulatorSettings) -> Quart:
    app = create_app("weather-emulator", settings)
    kit(app).extras[BOOK_KEY] = FaultBook()
    app.register_blueprint(blueprint)
    return app
