"""Replies of the weather action: concise Block Kit plus a plain-text fallback.

Pure functions from parsed data to `{"text", "blocks"}`. Text is Slack mrkdwn: what the user
typed (a place name) and what Open-Meteo sent (labels, time zone) is escaped with the SDK's
`escape_mrkdwn`, so neither can ping anyone or inject a link.
"""

from __future__ import annotations

from typing import Any, TypedDict

from jeeves.actions.weather.open_meteo import Forecast, Place
from jeeves.actions.weather.parsing import Day
from jeeves.kit.action_app import escape_mrkdwn

# WMO weather interpretation codes (Open-Meteo docs) → (emoji, words).
WMO: dict[int, tuple[str, str]] = {
    0: (":sunny:", "clear sky"),
    1: (":mostly_sunny:", "mainly clear"),
    2: (":partly_sunny:", "partly cloudy"),
    3: (":cloud:", "overcast"),
    45: (":fog:", "fog"),
    48: (":fog:", "rime fog"),
    51: (":rain_cloud:", "light drizzle"),
    53: (":rain_cloud:", "drizzle"),
    55: (":rain_cloud:", "dense drizzle"),
    56: (":rain_cloud:", "freezing drizzle"),
    57: (":rain_cloud:", "freezing drizzle"),
    61: (":rain_cloud:", "light rain"),
    63: (":rain_cloud:", "rain"),
    65: (":rain_cloud:", "heavy rain"),
    66: (":rain_cloud:", "freezing rain"),
    67: (":rain_cloud:", "freezing rain"),
    71: (":snow_cloud:", "light snow"),
    73: (":snow_cloud:", "snow"),
    75: (":snow_cloud:", "heavy snow"),
    77: (":snow_cloud:", "snow grains"),
    80: (":rain_cloud:", "rain showers"),
    81: (":rain_cloud:", "rain showers"),
    82: (":rain_cloud:", "violent rain showers"),
    85: (":snow_cloud:", "snow showers"),
    86: (":snow_cloud:", "snow showers"),
    95: (":thunder_cloud_and_rain:", "thunderstorm"),
    96: (":thunder_cloud_and_rain:", "thunderstorm with hail"),
    99: (":thunder_cloud_and_rain:", "thunderstorm with hail"),
}
HOW_TO_SET = (
    "Tell me where you are with `remember my location is Porto`, or ask `weather in Lisbon`."
)


class Reply(TypedDict):
    text: str
    blocks: list[dict[str, Any]]


def describe(code: int) -> tuple[str, str]:
    return WMO.get(code, (":grey_question:", "unknown conditions"))


def _temp(value: float, unit: str) -> str:
    return f"{round(value)}{unit}"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def plain(text: str) -> Reply:
    return {"text": text, "blocks": [_section(text)]}


def forecast_reply(place: Place, forecast: Forecast, day: Day) -> Reply:
    """Now and today (or tomorrow) for `place`, in the forecast's temperature unit."""
    unit = forecast.temperature_unit
    label = escape_mrkdwn(place.label)
    index = 1 if day == "tomorrow" and len(forecast.days) > 1 else 0
    chosen = forecast.days[index]
    rain = f", {chosen.rain_chance}% chance of rain" if chosen.rain_chance is not None else ""
    span = f"{_temp(chosen.low, unit)} to {_temp(chosen.high, unit)}"
    if index == 0:
        emoji, words = describe(forecast.now_code)
        headline = f"{emoji} *{label}*: {_temp(forecast.now_temperature, unit)}, {words}"
        detail = f"Today: high {_temp(chosen.high, unit)}, low {_temp(chosen.low, unit)}{rain}"
        now = _temp(forecast.now_temperature, unit)
        text = f"{label}: now {now}, {words}. Today {span}{rain}."
    else:
        emoji, words = describe(chosen.code)
        headline = f"{emoji} *{label}* tomorrow: {words}"
        detail = f"High {_temp(chosen.high, unit)}, low {_temp(chosen.low, unit)}{rain}"
        text = f"{label} tomorrow: {words}, {span}{rain}."
    zone = escape_mrkdwn(forecast.timezone)
    blocks = [_section(headline), _context(f"{detail} · {zone} · Open-Meteo")]
    return {"text": text, "blocks": blocks}


def ambiguous_reply(name: str, candidates: list[Place]) -> Reply:
    listed = "\n".join(f"• {escape_mrkdwn(p.label)}" for p in candidates[:5])
    first = candidates[0]
    example = escape_mrkdwn(f"{first.name}, {first.admin1 or first.country}")
    text = (
        f"There is more than one {escape_mrkdwn(name)}. Which one do you mean?\n{listed}\n"
        f"Try `weather in {example}`."
    )
    return plain(text)


def unknown_place_reply(name: str) -> Reply:
    return plain(
        f"I couldn't find a place called “{escape_mrkdwn(name)}”. Check the spelling, "
        "or add the country: `weather in Porto, Portugal`."
    )


def no_location_reply() -> Reply:
    return plain(f"I don't know where you are yet. {HOW_TO_SET}")


def unavailable_reply() -> Reply:
    return plain("The weather service is unavailable right now. Please try again in a few minutes.")
