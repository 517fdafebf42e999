"""Assembles the weather action on the action SDK: Open-Meteo client, caches, data client."""

from __future__ import annotations

from quart import Quart

from jeeves.actions.weather.cache import TTLCache
from jeeves.actions.weather.domain import WeatherService
from jeeves.actions.weather.open_meteo import Forecast, Place
from jeeves.actions.weather.routes import DEPS_KEY, Deps, act
from jeeves.actions.weather.settings import WeatherSettings
from jeeves.actions.weather.upstream import CacheCollector, json_getter, upstream_counter
from jeeves.kit.action_app import create_action_app
from jeeves.kit.app import kit
from jeeves.kit.data_client import DataClient

NAME = "weather"


def build_app(settings: WeatherSettings) -> Quart:
    app = create_action_app(NAME, settings, act)
    http = kit(app).http
    service = WeatherService(
        json_getter(http, settings.upstream_timeout_s, upstream_counter(kit(app).registry)),
        geocoding_url=settings.geocoding_url(),
        forecast_url=settings.open_meteo_url,
        places_cache=TTLCache[list[Place]](ttl_s=settings.geocoding_ttl_s),
        forecast_cache=TTLCache[Forecast](ttl_s=settings.forecast_ttl_s),
    )
    kit(app).registry.register(
        CacheCollector({"geocoding": service.places_cache, "forecast": service.forecast_cache})
    )
    data = DataClient(http, settings.data_url, timeout_s=settings.upstream_timeout_s)
    kit(app).extras[DEPS_KEY] = Deps(service=service, data=data)
    return app
