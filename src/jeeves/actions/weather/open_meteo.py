"""Open-Meteo's wire formats: the request parameters we send and parsing what comes back.

Pure functions. Any body that does not have the documented shape raises `UnexpectedBody`, which
the action turns into a friendly "unavailable" reply.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any, Literal

Units = Literal["metric", "imperial"]
CURRENT = "temperature_2m,weather_code"
DAILY = "temperature_2m_max,temperature_2m_min,precipitation_probability_max,weather_code"
GEOCODING_COUNT = 10


def fold(text: str) -> str:
    """Case- and accent-insensitive form for comparing names ("Zürich" ~ "zurich")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


class WeatherUnavailable(Exception):
    """Open-Meteo could not be used: unreachable, timed out, 5xx, or an unexpected body."""


class UnexpectedBody(WeatherUnavailable):
    """An answer that is not the documented shape."""


@dataclass(frozen=True)
class Place:
    id: int
    name: str
    latitude: float
    longitude: float
    country: str
    country_code: str
    admin1: str
    timezone: str
    population: int

    @property
    def label(self) -> str:
        """ "Springfield, Missouri, United States"; the region is left out when it repeats."""
        parts = [self.name]
        if self.admin1 and fold(self.admin1) != fold(self.name):
            parts.append(self.admin1)
        if self.country:
            parts.append(self.country)
        return ", ".join(parts)


@dataclass(frozen=True)
class DayForecast:
    day: str  # YYYY-MM-DD, local to the place
    high: float
    low: float
    rain_chance: int | None  # percent
    code: int


@dataclass(frozen=True)
class Forecast:
    timezone: str
    temperature_unit: str  # "°C" or "°F"
    now_temperature: float
    now_code: int
    days: tuple[DayForecast, ...]


def geocoding_params(name: str) -> dict[str, str]:
    return {"name": name, "count": str(GEOCODING_COUNT), "language": "en", "format": "json"}


def forecast_params(place: Place, units: Units) -> dict[str, str]:
    params = {
        "latitude": f"{place.latitude:.4f}",
        "longitude": f"{place.longitude:.4f}",
        "current": CURRENT,
        "daily": DAILY,
        "timezone": "auto",
        "forecast_days": "2",
    }
    if units == "imperial":
        params["temperature_unit"] = "fahrenheit"
        params["wind_speed_unit"] = "mph"
    return params


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UnexpectedBody(f"{what} is not a number")
    return float(value)


def parse_places(body: Any) -> list[Place]:
    """Geocoding answer → places; no `results` key means nothing was found."""
    if not isinstance(body, dict):
        raise UnexpectedBody("geocoding answer is not an object")
    results = body.get("results", [])
    if not isinstance(results, list):
        raise UnexpectedBody("geocoding results is not a list")
    places = []
    for item in results:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise UnexpectedBody("geocoding result without a name")
        places.append(
            Place(
                id=int(_number(item.get("id", 0), "id")),
                name=item["name"],
                latitude=_number(item.get("latitude"), "latitude"),
                longitude=_number(item.get("longitude"), "longitude"),
                country=str(item.get("country") or ""),
                country_code=str(item.get("country_code") or ""),
                admin1=str(item.get("admin1") or ""),
                timezone=str(item.get("timezone") or "GMT"),
                population=int(_number(item.get("population") or 0, "population")),
            )
        )
    return places


def _column(daily: dict[str, Any], key: str, length: int | None) -> list[Any]:
    column = daily.get(key)
    if not isinstance(column, list) or (length is not None and len(column) != length):
        raise UnexpectedBody(f"forecast daily.{key} is missing or of the wrong length")
    return column


def parse_forecast(body: Any) -> Forecast:
    """Forecast answer → `Forecast`; anything missing raises UnexpectedBody."""
    if not isinstance(body, dict):
        raise UnexpectedBody("forecast answer is not an object")
    current, daily = body.get("current"), body.get("daily")
    units = body.get("current_units")
    if not isinstance(current, dict) or not isinstance(daily, dict) or not isinstance(units, dict):
        raise UnexpectedBody("forecast answer lacks current, current_units or daily")
    times = _column(daily, "time", None)
    highs = _column(daily, "temperature_2m_max", len(times))
    lows = _column(daily, "temperature_2m_min", len(times))
    rains = _column(daily, "precipitation_probability_max", len(times))
    codes = _column(daily, "weather_code", len(times))
    days = tuple(
        DayForecast(
            day=str(times[i]),
            high=_number(highs[i], "temperature_2m_max"),
            low=_number(lows[i], "temperature_2m_min"),
            rain_chance=None if rains[i] is None else round(_number(rains[i], "rain")),
            code=int(_number(codes[i], "weather_code")),
        )
        for i in range(len(times))
    )
    if not days:
        raise UnexpectedBody("forecast has no days")
    return Forecast(
        timezone=str(body.get("timezone") or "GMT"),
        temperature_unit=str(units.get("temperature_2m") or "°C"),
        now_temperature=_number(current.get("temperature_2m"), "temperature_2m"),
        now_code=int(_number(current.get("weather_code"), "weather_code")),
        days=days,
    )
