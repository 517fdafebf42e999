"""The weather emulator: Open-Meteo shapes, unicode search, determinism and fault controls.

Real: the emulator's pure functions and its Quart app through the test client (in-process).
Nothing is faked; the clock is passed in explicitly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client

from jeeves.emulators.weather.app import build_app
from jeeves.emulators.weather.domain import BadRequest, fold, forecast, search
from jeeves.emulators.weather.settings import WeatherEmulatorSettings

pytestmark = pytest.mark.unit
NOW = datetime(2026, 7, 1, 12, 7, tzinfo=UTC)
PARAMS = {
    "latitude": "38.71667",
    "longitude": "-9.13333",
    "current": "temperature_2m,weather_code",
    "daily": "temperature_2m_max,temperature_2m_min,precipitation_probability_max,weather_code",
    "timezone": "auto",
    "forecast_days": "2",
}


@pytest.fixture(name="app")
async def fixture_app() -> AsyncIterator[Quart]:
    app = build_app(WeatherEmulatorSettings())
    async with app.test_app():
        yield app


@pytest.fixture(name="client")
def fixture_client(app: Quart) -> Client:
    return app.test_client()


def test_search_is_accent_and_case_insensitive() -> None:
    assert fold("São Paulo") == "sao paulo"
    for name in ("São Paulo", "sao paulo", "SAO PAU"):
        results = search(name)["results"]
        assert results[0]["name"] == "São Paulo"
        assert results[0]["country_code"] == "BR"


def test_search_has_no_results_key_when_nothing_matches() -> None:
    assert "results" not in search("Atlantis")
    assert "results" not in search("x")


def test_ambiguous_name_lists_every_candidate_most_populous_first() -> None:
    results = search("Springfield")["results"]
    assert [r["admin1"] for r in results] == ["Missouri", "Illinois"]
    assert {"id", "latitude", "longitude", "timezone", "population", "country"} <= set(results[0])


def test_search_count_limits_results_and_rejects_out_of_range() -> None:
    assert len(search("Springfield", count=1)["results"]) == 1
    with pytest.raises(BadRequest):
        search("Lisbon", count=0)


def test_forecast_has_open_meteo_shape_and_is_deterministic() -> None:
    body = forecast(PARAMS, NOW)
    assert body["timezone"] == "Europe/Lisbon"
    assert body["current_units"]["temperature_2m"] == "°C"
    assert body["current"]["time"] == "2026-07-01T13:00"
    assert set(body["current"]) == {"time", "interval", "temperature_2m", "weather_code"}
    assert body["daily"]["time"] == ["2026-07-01", "2026-07-02"]
    assert len(body["daily"]["temperature_2m_max"]) == 2
    assert body["daily_units"]["precipitation_probability_max"] == "%"
    low, high = body["daily"]["temperature_2m_min"][0], body["daily"]["temperature_2m_max"][0]
    assert low <= body["current"]["temperature_2m"] <= high
    assert forecast(PARAMS, NOW) == body


def test_fahrenheit_converts_temperatures() -> None:
    celsius = forecast(PARAMS, NOW)
    fahrenheit = forecast({**PARAMS, "temperature_unit": "fahrenheit"}, NOW)
    assert fahrenheit["current_units"]["temperature_2m"] == "°F"
    expected = round(celsius["daily"]["temperature_2m_max"][0] * 9 / 5 + 32, 1)
    assert fahrenheit["daily"]["temperature_2m_max"][0] == expected


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"latitude": "100"}, "Latitude must be in range"),
        ({"current": "temperature_3m"}, "invalid String value temperature_3m"),
        ({"forecast_days": "40"}, "Forecast days is invalid"),
        ({"temperature_unit": "kelvin"}, "temperature_unit"),
    ],
)
def test_bad_parameters_are_rejected_like_open_meteo(change: dict[str, str], reason: str) -> None:
    with pytest.raises(BadRequest, match=reason):
        forecast({**PARAMS, **change}, NOW)


async def test_http_answers_and_400_shape(client: Client) -> None:
    ok = await client.get("/v1/search", query_string={"name": "Porto", "count": "3"})
    assert ok.status_code == 200
    assert (await ok.get_json())["results"][0]["name"] == "Porto"
    bad = await client.get("/v1/forecast", query_string={**PARAMS, "latitude": "-91"})
    assert bad.status_code == 400
    assert (await bad.get_json())["error"] is True


async def test_faults_apply_per_api_and_count_down(client: Client) -> None:
    await client.post("/_control/reset")
    added = await client.post(
        "/_control/faults", json={"mode": "down", "api": "forecast", "count": 1}
    )
    assert added.status_code == 201
    down = await client.get("/v1/forecast", query_string=PARAMS)
    assert down.status_code == 503
    assert down.content_type.startswith("text/html")
    assert (await client.get("/v1/search", query_string={"name": "Porto"})).status_code == 200
    assert (await client.get("/v1/forecast", query_string=PARAMS)).status_code == 200
    await client.post("/_control/faults", json={"mode": "garbage"})
    garbage = await client.get("/v1/search", query_string={"name": "Porto"})
    assert garbage.status_code == 200
    assert b"garbage" in await garbage.get_data()
    await client.delete("/_control/faults")
    calls = await (await client.get("/_control/calls")).get_json()
    assert calls == {"geocoding": 2, "forecast": 2}


async def test_bad_fault_spec_is_422_json(client: Client) -> None:
    response = await client.post("/_control/faults", json={"mode": "explode"})
    assert response.status_code == 422
    assert "mode" in (await response.get_json())["error"]["message"]
