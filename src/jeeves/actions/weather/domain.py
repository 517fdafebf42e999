"""The weather action's behaviour: pick the place, fetch (cached) forecasts, choose the reply.

Upstream I/O is one injected function (`GetJson`), so everything here runs in unit tests
against the weather emulator's own logic; the app passes the kit's HTTP client.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jeeves.actions.weather.cache import TTLCache
from jeeves.actions.weather.formatting import (
    Reply,
    ambiguous_reply,
    forecast_reply,
    no_location_reply,
    unavailable_reply,
    unknown_place_reply,
)
from jeeves.actions.weather.open_meteo import (
    Forecast,
    Place,
    Units,
    WeatherUnavailable,
    fold,
    forecast_params,
    geocoding_params,
    parse_forecast,
    parse_places,
)
from jeeves.actions.weather.parsing import WeatherQuery, split_place

# GET url?params → decoded JSON; raises WeatherUnavailable on timeouts, 5xx or bad JSON.
GetJson = Callable[[str, Mapping[str, str]], Awaitable[Any]]
# A second candidate this share of the first's population (or more) makes a name ambiguous.
AMBIGUITY_SHARE = 0.25


@dataclass(frozen=True)
class Resolution:
    place: Place | None = None
    candidates: tuple[Place, ...] = ()  # more than one: ambiguous; none and no place: unknown


def _qualified(place: Place, qualifier: str) -> bool:
    wanted = fold(qualifier)
    return (
        fold(place.admin1).startswith(wanted)
        or fold(place.country).startswith(wanted)
        or place.country_code.lower() == wanted
    )


def choose_place(name: str, qualifier: str | None, places: list[Place]) -> Resolution:
    """The place meant by `name` (and an optional region/country), or the candidates."""
    if qualifier:
        places = [p for p in places if _qualified(p, qualifier)]
    if not places:
        return Resolution()
    exact = [p for p in places if fold(p.name) == fold(name)] or places[:1]
    exact.sort(key=lambda p: -p.population)
    if len(exact) > 1 and exact[1].population >= exact[0].population * AMBIGUITY_SHARE:
        return Resolution(candidates=tuple(exact))
    return Resolution(place=exact[0])


def units_of(facts: Mapping[str, str]) -> Units:
    return "imperial" if facts.get("units", "").lower() == "imperial" else "metric"


class WeatherService:
    """Geocoding and forecasts through Open-Meteo (or its emulator), with TTL caches."""

    def __init__(
        self,
        get_json: GetJson,
        *,
        geocoding_url: str,
        forecast_url: str,
        places_cache: TTLCache[list[Place]],
        forecast_cache: TTLCache[Forecast],
    ) -> None:
        self._get_json = get_json
        self._geocoding = geocoding_url.rstrip("/") + "/v1/search"
        self._forecast = forecast_url.rstrip("/") + "/v1/forecast"
        self.places_cache = places_cache
        self.forecast_cache = forecast_cache

    async def places(self, name: str) -> list[Place]:
        key = fold(name)
        cached = self.places_cache.get(key)
        if cached is not None:
            return cached
        found = parse_places(await self._get_json(self._geocoding, geocoding_params(name)))
        self.places_cache.put(key, found)
        return found

    async def forecast(self, place: Place, units: Units) -> Forecast:
        key = (round(place.latitude, 3), round(place.longitude, 3), units)
        cached = self.forecast_cache.get(key)
        if cached is not None:
            return cached
        params = forecast_params(place, units)
        found = parse_forecast(await self._get_json(self._forecast, params))
        self.forecast_cache.put(key, found)
        return found

    async def answer(self, query: WeatherQuery, facts: Mapping[str, str]) -> Reply:
        """The reply for `query`; upstream trouble becomes a friendly reply, never an error."""
        wanted = query.place or facts.get("location")
        if not wanted:
            return no_location_reply()
        name, qualifier = split_place(wanted)
        try:
            resolution = choose_place(name, qualifier, await self.places(name))
            if resolution.candidates:
                return ambiguous_reply(name, list(resolution.candidates))
            if resolution.place is None:
                return unknown_place_reply(wanted)
            forecast = await self.forecast(resolution.place, units_of(facts))
        except WeatherUnavailable:
            return unavailable_reply()
        return forecast_reply(resolution.place, forecast, query.day)
