"""The weather action's pure parts: text parsing, TTL cache, Open-Meteo parsing, place choice,
reply formatting, and the service flow.

Real: the action's domain code and, as its upstream, the weather emulator's own search and
forecast functions called in-process (no HTTP). Faked: the clock (a counter) and, for outage
cases, an upstream function that raises `WeatherUnavailable`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from jeeves.actions.weather.cache import TTLCache
from jeeves.actions.weather.domain import WeatherService, choose_place, units_of
from jeeves.actions.weather.formatting import (
    ambiguous_reply,
    forecast_reply,
    unknown_place_reply,
)
from jeeves.actions.weather.open_meteo import (
    Forecast,
    Place,
    UnexpectedBody,
    WeatherUnavailable,
    parse_forecast,
    parse_places,
)
from jeeves.actions.weather.parsing import WeatherQuery, parse_query, split_place
from jeeves.emulators.weather import domain as emulator

pytestmark = pytest.mark.unit
NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("text", "place", "day"),
    [
        ("weather", None, "today"),
        ("Weather?", None, "today"),
        ("weather in Lisbon", "Lisbon", "today"),
        ("weather in São Paulo tomorrow", "São Paulo", "tomorrow"),
        ("weather tomorrow in Porto", "Porto", "tomorrow"),
        ("<@U0BOT> weather for Springfield, Missouri?", "Springfield, Missouri", "today"),
        ("what's the weather in Zürich today", "Zürich", "today"),
        ("forecast Berlin", "Berlin", "today"),
        ("weather tomorrow", None, "tomorrow"),
    ],
)
def test_parse_query(text: str, place: str | None, day: str) -> None:
    assert parse_query(text) == WeatherQuery(place=place, day=day)  # type: ignore[arg-type]


def test_split_place() -> None:
    assert split_place("Springfield, Missouri") == ("Springfield", "Missouri")
    assert split_place("Porto") == ("Porto", None)


def test_cache_expires_with_the_clock_and_bounds_size() -> None:
    clock = FakeClock()
    cache: TTLCache[str] = TTLCache(ttl_s=60, max_entries=2, clock=clock)
    cache.put("a", "A")
    clock.now += 59
    assert cache.get("a") == "A"
    clock.now += 1
    assert cache.get("a") is None
    for key in ("x", "y", "z"):
        cache.put(key, key)
    assert len(cache) == 2
    assert cache.get("x") is None
    assert (cache.hits, cache.misses) == (1, 2)


def test_parse_places_from_real_shapes() -> None:
    places = parse_places(emulator.search("São Paulo"))
    assert places[0].label == "São Paulo, Brazil"
    assert parse_places(emulator.search("Zurich"))[0].label == "Zürich, Switzerland"
    assert parse_places(emulator.search("Atlantis")) == []
    for bad in ("garbage", {"results": "x"}, {"results": [{"id": 1}]}, [1]):
        with pytest.raises(UnexpectedBody):
            parse_places(bad)


def _forecast_body(**params: str) -> dict[str, Any]:
    query = {
        "latitude": "41.15",
        "longitude": "-8.61",
        "current": "temperature_2m,weather_code",
        "daily": "temperature_2m_max,temperature_2m_min,precipitation_probability_max,weather_code",
        "timezone": "auto",
        "forecast_days": "2",
        **params,
    }
    return emulator.forecast(query, NOW)


def test_parse_forecast_from_real_shape_and_rejects_others() -> None:
    forecast = parse_forecast(_forecast_body())
    assert forecast.timezone == "Europe/Lisbon"
    assert forecast.temperature_unit == "°C"
    assert len(forecast.days) == 2
    broken = _forecast_body()
    broken["daily"]["temperature_2m_max"] = broken["daily"]["temperature_2m_max"][:1]
    for bad in ({"unexpected": "shape"}, broken, None, {"current": {}, "daily": {}}):
        with pytest.raises(UnexpectedBody):
            parse_forecast(bad)


def test_choose_place_handles_ambiguity_and_qualifiers() -> None:
    springfields = parse_places(emulator.search("Springfield"))
    ambiguous = choose_place("Springfield", None, springfields)
    assert ambiguous.place is None
    assert len(ambiguous.candidates) == 2
    chosen = choose_place("Springfield", "Illinois", springfields)
    assert chosen.place is not None
    assert chosen.place.admin1 == "Illinois"
    portland = choose_place("Portland", None, parse_places(emulator.search("Portland")))
    assert portland.place is not None
    assert portland.place.admin1 == "Oregon"  # dominant population: not ambiguous
    assert choose_place("Springfield", "Narnia", springfields) == choose_place("x", None, [])


def test_units_from_facts() -> None:
    assert units_of({"units": "imperial"}) == "imperial"
    assert units_of({}) == "metric"


def test_forecast_reply_now_and_tomorrow() -> None:
    place = parse_places(emulator.search("Porto"))[0]
    forecast = parse_forecast(_forecast_body())
    today = forecast_reply(place, forecast, "today")
    assert today["text"].startswith("Porto, Portugal: now ")
    assert "Today" in today["text"]
    assert "chance of rain" in today["text"]
    assert today["blocks"][0]["type"] == "section"
    tomorrow = forecast_reply(place, forecast, "tomorrow")
    assert "tomorrow" in tomorrow["text"]
    high = round(forecast.days[1].high)
    assert f"{high}°C" in tomorrow["text"]


def _service(get_json: Any, clock: FakeClock | None = None) -> WeatherService:
    clock = clock or FakeClock()
    return WeatherService(
        get_json,
        geocoding_url="http://geo",
        forecast_url="http://api",
        places_cache=TTLCache[list[Place]](ttl_s=3600, clock=clock),
        forecast_cache=TTLCache[Forecast](ttl_s=600, clock=clock),
    )


class EmulatedUpstream:
    """Open-Meteo answered by the emulator's functions; counts calls per API."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def __call__(self, url: str, params: Mapping[str, str]) -> Any:
        self.calls.append(url)
        if url.endswith("/v1/search"):
            return emulator.search(params["name"], int(params["count"]))
        return emulator.forecast(params, NOW)


async def test_service_uses_text_then_fact_then_explains() -> None:
    upstream = EmulatedUpstream()
    service = _service(upstream)
    by_text = await service.answer(WeatherQuery("Lisbon", "today"), {"location": "Porto"})
    assert by_text["text"].startswith("Lisbon, Portugal")
    by_fact = await service.answer(WeatherQuery(None, "today"), {"location": "Porto"})
    assert by_fact["text"].startswith("Porto, Portugal")
    nothing = await service.answer(WeatherQuery(None, "today"), {})
    assert "remember my location is" in nothing["text"]
    fahrenheit = await service.answer(WeatherQuery("Berlin", "today"), {"units": "imperial"})
    assert "°F" in fahrenheit["text"]


async def test_service_caches_geocoding_and_forecasts_until_ttl() -> None:
    clock = FakeClock()
    upstream = EmulatedUpstream()
    service = _service(upstream, clock)
    for _ in range(3):
        await service.answer(WeatherQuery("São Paulo", "today"), {})
    assert len(upstream.calls) == 2
    clock.now += 601  # forecast expired, geocoding still fresh
    await service.answer(WeatherQuery("sao paulo", "tomorrow"), {})
    assert [u.rsplit("/", 1)[1] for u in upstream.calls] == ["search", "forecast", "forecast"]


async def test_service_unknown_and_ambiguous_places() -> None:
    service = _service(EmulatedUpstream())
    unknown = await service.answer(WeatherQuery("Atlantis", "today"), {})
    assert "couldn't find a place called “Atlantis”" in unknown["text"]
    ambiguous = await service.answer(WeatherQuery("Springfield", "today"), {})
    assert "Springfield, Illinois, United States" in ambiguous["text"]
    assert "Springfield, Missouri, United States" in ambiguous["text"]


async def test_service_turns_upstream_trouble_into_a_friendly_reply() -> None:
    async def down(url: str, params: Mapping[str, str]) -> Any:
        raise WeatherUnavailable("503")

    async def garbage(url: str, params: Mapping[str, str]) -> Any:
        return {"unexpected": "shape"} if "forecast" in url else emulator.search("Porto")

    for upstream in (down, garbage):
        reply = await _service(upstream).answer(WeatherQuery("Porto", "today"), {})
        assert "unavailable right now" in reply["text"]


def test_place_names_from_the_user_or_upstream_are_escaped() -> None:
    unknown = unknown_place_reply("<!channel>")
    assert "“&lt;!channel&gt;”" in unknown["text"]
    assert "<!channel>" not in str(unknown["blocks"])
    odd = Place(1, "<@U0BOB>", 1.0, 2.0, "A&B", "AB", "", "Etc/UTC", 10)
    ambiguous = ambiguous_reply("<x>", [odd, odd])
    assert "more than one &lt;x&gt;" in ambiguous["text"]
    assert "• &lt;@U0BOB&gt;, A&amp;B" in ambiguous["text"]
    assert "<" not in ambiguous["text"].replace("`", "")
    today = forecast_reply(odd, parse_forecast(_forecast_body()), "today")
    assert today["text"].startswith("&lt;@U0BOB&gt;, A&amp;B: now ")
    assert "*&lt;@U0BOB&gt;, A&amp;B*" in today["blocks"][0]["text"]["text"]
