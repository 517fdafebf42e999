"""Pure Open-Meteo behaviour: place search and deterministic forecasts in the real shapes.

Values are a function of (place, day, hour) only, so tests can predict them. Shapes follow the
real APIs: geocoding omits `results` when nothing matches; forecast answers `current`/`daily`
blocks with their `*_units`; bad parameters answer 400 `{"error": true, "reason": ...}`.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from jeeves.emulators.weather.gazetteer import PLACES, Place

CURRENT_VARIABLES = frozenset(
    {
        "temperature_2m",
        "apparent_temperature",
        "relative_humidity_2m",
        "is_day",
        "precipitation",
        "weather_code",
        "cloud_cover",
        "wind_speed_10m",
        "wind_direction_10m",
    }
)
DAILY_VARIABLES = frozenset(
    {
        "weather_code",
        "temperature_2m_max",
        "temperature_2m_min",
        "precipitation_sum",
        "precipitation_probability_max",
        "wind_speed_10m_max",
        "sunrise",
        "sunset",
    }
)
WEATHER_CODES = (0, 1, 2, 3, 45, 51, 61, 63, 71, 80, 95)


class BadRequest(ValueError):
    """A parameter Open-Meteo would reject with 400; the message is its `reason`."""


def fold(text: str) -> str:
    """Case- and accent-insensitive form for matching ("São" ~ "sao")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


def place_json(place: Place) -> dict[str, Any]:
    return {
        "id": place.id,
        "name": place.name,
        "latitude": place.latitude,
        "longitude": place.longitude,
        "elevation": place.elevation,
        "feature_code": place.feature_code,
        "country_code": place.country_code,
        "timezone": place.timezone,
        "population": place.population,
        "country": place.country,
        "admin1": place.admin1,
    }


def search(name: str, count: int = 10) -> dict[str, Any]:
    """The geocoding answer for `name`: prefix matches, most populous first."""
    if not 1 <= count <= 100:
        raise BadRequest("Parameter count must be between 1 and 100.")
    wanted = fold(name)
    body: dict[str, Any] = {"generationtime_ms": 0.4}
    if len(wanted) < 2:
        return body
    found = [p for p in PLACES if fold(p.name).startswith(wanted)]
    found.sort(key=lambda p: (fold(p.name) != wanted, -p.population))
    if found:
        body["results"] = [place_json(p) for p in found[:count]]
    return body


def _noise(*parts: object) -> float:
    """A deterministic number in [0, 1) from the given parts."""
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _base_celsius(latitude: float, day: date) -> float:
    season = 1 if latitude >= 0 else -1
    summer = 1 - abs((day.timetuple().tm_yday - 196) / 183)  # 1 in mid July, 0 mid January
    return 27 - abs(latitude) * 0.45 + season * (summer - 0.5) * 16


def daily_values(latitude: float, longitude: float, day: date) -> dict[str, Any]:
    key = (round(latitude, 2), round(longitude, 2), day.isoformat())
    base = _base_celsius(latitude, day) + (_noise(*key, "t") - 0.5) * 6
    spread = 4 + _noise(*key, "s") * 8
    rain = int(_noise(*key, "p") * 100)
    code = (
        WEATHER_CODES[int(_noise(*key, "c") * len(WEATHER_CODES))]
        if rain > 40
        else (0 if rain < 15 else 2)
    )
    return {
        "temperature_2m_max": round(base + spread / 2, 1),
        "temperature_2m_min": round(base - spread / 2, 1),
        "precipitation_probability_max": rain,
        "precipitation_sum": round(max(0.0, (rain - 40) / 6), 1),
        "weather_code": code,
        "wind_speed_10m_max": round(5 + _noise(*key, "w") * 30, 1),
        "sunrise": f"{day.isoformat()}T07:{int(_noise(*key, 'r') * 50):02d}",
        "sunset": f"{day.isoformat()}T17:{int(_noise(*key, 'u') * 50):02d}",
    }


def current_values(latitude: float, longitude: float, local: datetime) -> dict[str, Any]:
    today = daily_values(latitude, longitude, local.date())
    hour_weight = 1 - abs(local.hour - 14) / 14  # warmest at 14:00
    low, high = today["temperature_2m_min"], today["temperature_2m_max"]
    temperature = round(low + (high - low) * hour_weight, 1)
    key = (round(latitude, 2), round(longitude, 2), local.isoformat(timespec="hours"))
    return {
        "temperature_2m": temperature,
        "apparent_temperature": round(temperature - 1.5, 1),
        "relative_humidity_2m": 40 + int(_noise(*key, "h") * 55),
        "is_day": 1 if 7 <= local.hour < 18 else 0,
        "precipitation": today["precipitation_sum"] if today["weather_code"] >= 51 else 0.0,
        "weather_code": today["weather_code"],
        "cloud_cover": int(_noise(*key, "cc") * 100),
        "wind_speed_10m": round(today["wind_speed_10m_max"] * 0.6, 1),
        "wind_direction_10m": int(_noise(*key, "wd") * 360),
    }


def nearest_timezone(latitude: float, longitude: float) -> str:
    """`timezone=auto`: the zone of the nearest gazetteer place within ~2°, else GMT."""
    best = min(PLACES, key=lambda p: (p.latitude - latitude) ** 2 + (p.longitude - longitude) ** 2)
    near = abs(best.latitude - latitude) < 2 and abs(best.longitude - longitude) < 2
    return best.timezone if near else "GMT"


def _float(params: Mapping[str, str], name: str, low: float, high: float) -> float:
    raw = params.get(name)
    if raw is None:
        raise BadRequest(f"Parameter '{name}' is required.")
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(f"Cannot initialize Float from invalid String value {raw}") from None
    if not low <= value <= high:
        raise BadRequest(
            f"{name.capitalize()} must be in range of {low:g} to {high:g}°. Given: {value}."
        )
    return value


def _variables(params: Mapping[str, str], name: str, allowed: frozenset[str]) -> list[str]:
    raw = params.get(name, "")
    variables = [v.strip() for v in raw.split(",") if v.strip()]
    for variable in variables:
        if variable not in allowed:
            raise BadRequest(
                f"Cannot initialize WeatherVariable from invalid String value {variable} "
                f"for key {name}"
            )
    return variables


def _units(params: Mapping[str, str]) -> dict[str, str]:
    temperature = params.get("temperature_unit", "celsius")
    wind = params.get("wind_speed_unit", "kmh")
    precipitation = params.get("precipitation_unit", "mm")
    if temperature not in ("celsius", "fahrenheit"):
        raise BadRequest(f"Invalid temperature_unit {temperature}")
    if wind not in ("kmh", "ms", "mph", "kn"):
        raise BadRequest(f"Invalid wind_speed_unit {wind}")
    if precipitation not in ("mm", "inch"):
        raise BadRequest(f"Invalid precipitation_unit {precipitation}")
    return {"temperature": temperature, "wind": wind, "precipitation": precipitation}


UNIT_LABELS = {
    "celsius": "°C",
    "fahrenheit": "°F",
    "kmh": "km/h",
    "ms": "m/s",
    "mph": "mp/h",
    "kn": "kn",
    "mm": "mm",
    "inch": "inch",
}


def _unit_of(variable: str, units: Mapping[str, str]) -> str:
    if variable.startswith(("temperature", "apparent")):
        return UNIT_LABELS[units["temperature"]]
    if variable.startswith("wind_speed"):
        return UNIT_LABELS[units["wind"]]
    if variable.startswith("precipitation_probability") or variable in (
        "relative_humidity_2m",
        "cloud_cover",
    ):
        return "%"
    if variable.startswith("precipitation"):
        return UNIT_LABELS[units["precipitation"]]
    if variable == "weather_code":
        return "wmo code"
    if variable == "wind_direction_10m":
        return "°"
    if variable in ("sunrise", "sunset"):
        return "iso8601"
    return ""


def _convert(variable: str, value: Any, units: Mapping[str, str]) -> Any:
    if not isinstance(value, float | int) or isinstance(value, bool):
        return value
    if variable.startswith(("temperature", "apparent")) and units["temperature"] == "fahrenheit":
        return round(value * 9 / 5 + 32, 1)
    if variable.startswith("wind_speed"):
        factor = {"kmh": 1.0, "ms": 1 / 3.6, "mph": 0.621371, "kn": 0.539957}[units["wind"]]
        return round(value * factor, 1)
    if variable == "precipitation_sum" and units["precipitation"] == "inch":
        return round(value / 25.4, 2)
    return value


def forecast(params: Mapping[str, str], now: datetime) -> dict[str, Any]:
    """The forecast answer for the query parameters, at instant `now` (UTC)."""
    latitude = _float(params, "latitude", -90, 90)
    longitude = _float(params, "longitude", -180, 180)
    current = _variables(params, "current", CURRENT_VARIABLES)
    daily = _variables(params, "daily", DAILY_VARIABLES)
    units = _units(params)
    days_raw = params.get("forecast_days", "7")
    if not days_raw.isdigit() or not 0 <= int(days_raw) <= 16:
        raise BadRequest("Forecast days is invalid. Allowed range 0 to 16.")
    zone_name = params.get("timezone", "GMT")
    if zone_name == "auto":
        zone_name = nearest_timezone(latitude, longitude)
    try:
        zone = ZoneInfo(zone_name)
    except (KeyError, ValueError):
        raise BadRequest(f"Invalid timezone {zone_name}") from None
    local = now.astimezone(zone)
    body: dict[str, Any] = {
        "latitude": round(latitude, 4),
        "longitude": round(longitude, 4),
        "generationtime_ms": 0.1,
        "utc_offset_seconds": int((local.utcoffset() or timedelta()).total_seconds()),
        "timezone": zone_name,
        "timezone_abbreviation": local.tzname() or "GMT",
        "elevation": 50.0,
    }
    if current:
        slot = local.replace(minute=local.minute - local.minute % 15, second=0, microsecond=0)
        values = current_values(latitude, longitude, slot)
        body["current_units"] = {"time": "iso8601", "interval": "seconds"} | {
            v: _unit_of(v, units) for v in current
        }
        body["current"] = {"time": slot.strftime("%Y-%m-%dT%H:%M"), "interval": 900} | {
            v: _convert(v, values[v], units) for v in current
        }
    if daily:
        days = [local.date() + timedelta(days=i) for i in range(int(days_raw))]
        rows = [daily_values(latitude, longitude, d) for d in days]
        body["daily_units"] = {"time": "iso8601"} | {v: _unit_of(v, units) for v in daily}
        body["daily"] = {"time": [d.isoformat() for d in days]} | {
            v: [_convert(v, row[v], units) for row in rows] for v in daily
        }
    return body


def utc_now() -> datetime:
    return datetime.now(UTC)
