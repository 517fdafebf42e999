"""The weather action as a real process, called on `POST /v1/act` like the dispatcher does.

Real: `jeeves-weather`, `jeeves-data` on PostgreSQL, and `jeeves-weather-emulator` as Open-Meteo
(its fault controls make it down, slow or garbled). Nothing is faked.
"""

from __future__ import annotations

import itertools
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from support.services import ServiceProcess, http_json

pytestmark = pytest.mark.integration
_ids = itertools.count(1)
TEAM = "T0WEATHER"


def act(weather: ServiceProcess, text: str, user: str = "U0W1") -> tuple[int, Any]:
    """Call the action as the dispatcher does: `text` without the keyword, the whole message
    in `args.message`."""
    keyword = text.split()[0] if text.split() else ""
    body = {
        "id": f"weather-test-{next(_ids)}",
        "action": "weather",
        "text": text[len(keyword) :].strip(),
        "args": {"keyword": keyword, "message": text},
        "user": {"slack_id": user, "team_id": TEAM},
        "channel": "C0TEST",
        "thread_ts": None,
        "sent_at": 1764000000.0,
    }
    return http_json("POST", weather.url + "/v1/act", body)


def reply_text(answer: tuple[int, Any]) -> str:
    status, body = answer
    assert status == 200, body
    assert isinstance(body["reply"]["blocks"], list)
    return str(body["reply"]["text"])


@pytest.fixture(autouse=True)
def _healthy_emulator(weather_emulator: ServiceProcess) -> Iterator[None]:
    http_json("POST", weather_emulator.url + "/_control/reset")
    yield
    http_json("DELETE", weather_emulator.url + "/_control/faults")


def test_weather_in_a_named_place_unicode_and_tomorrow(weather_action: ServiceProcess) -> None:
    assert reply_text(act(weather_action, "weather in Lisbon")).startswith("Lisbon, Portugal: now")
    tomorrow = reply_text(act(weather_action, "weather in São Paulo tomorrow"))
    assert tomorrow.startswith("São Paulo, Brazil tomorrow:")
    assert "chance of rain" in tomorrow


def test_weather_uses_the_stored_location_and_units(
    weather_action: ServiceProcess, data_service: ServiceProcess
) -> None:
    user = "U0W2"
    text = reply_text(act(weather_action, "weather", user))
    assert "remember my location is" in text
    facts = f"{data_service.url}/v1/users/{TEAM}/{user}/facts"
    assert http_json("PUT", facts + "/location", {"value": "Kraków"})[0] == 201
    assert http_json("PUT", facts + "/units", {"value": "imperial"})[0] == 201
    text = reply_text(act(weather_action, "weather", user))
    assert text.startswith("Kraków, Lesser Poland, Poland: now")
    assert "°F" in text


def test_unknown_and_ambiguous_places_get_helpful_replies(weather_action: ServiceProcess) -> None:
    assert "couldn't find a place called" in reply_text(act(weather_action, "weather in Atlantis"))
    ambiguous = reply_text(act(weather_action, "weather in Springfield"))
    assert "more than one Springfield" in ambiguous
    assert "Illinois" in ambiguous
    assert "Missouri" in ambiguous
    chosen = reply_text(act(weather_action, "weather in Springfield, Missouri"))
    assert chosen.startswith("Springfield, Missouri, United States")


def test_repeated_questions_are_served_from_the_cache(
    weather_action: ServiceProcess, weather_emulator: ServiceProcess
) -> None:
    for _ in range(3):
        reply_text(act(weather_action, "weather in Zürich"))
    _, calls = http_json("GET", weather_emulator.url + "/_control/calls")
    assert calls == {"geocoding": 1, "forecast": 1}
    with urllib.request.urlopen(weather_action.url + "/metrics", timeout=5) as response:
        metrics = response.read().decode()
    assert 'jeeves_weather_cache_lookups_total{cache="forecast",result="hit"}' in metrics
    assert 'jeeves_weather_upstream_total{api="forecast",outcome="ok"}' in metrics


@pytest.mark.parametrize(
    ("fault", "place"),
    [
        ({"mode": "down"}, "Tokyo"),
        ({"mode": "error", "status": 500}, "London"),
        ({"mode": "garbage"}, "New York"),
        ({"mode": "wrong_shape", "api": "forecast"}, "Reykjavík"),
        ({"mode": "slow", "delay_s": 3}, "Portland"),
    ],
)
def test_upstream_trouble_is_a_friendly_reply(
    weather_action: ServiceProcess,
    weather_emulator: ServiceProcess,
    fault: dict[str, Any],
    place: str,
) -> None:
    """Each case asks for a place not cached yet, so the upstream is really called."""
    assert http_json("POST", weather_emulator.url + "/_control/faults", fault)[0] == 201
    text = reply_text(act(weather_action, f"weather in {place}"))
    assert "unavailable right now" in text
    http_json("DELETE", weather_emulator.url + "/_control/faults")
    assert reply_text(act(weather_action, f"weather in {place}")).startswith(place)


def test_upstream_process_gone_is_a_friendly_reply(data_service: ServiceProcess) -> None:
    emulator = ServiceProcess("jeeves-weather-emulator")
    emulator.start()
    action = ServiceProcess(
        "jeeves-weather",
        {"JEEVES_OPEN_METEO_URL": emulator.url, "JEEVES_DATA_URL": data_service.url},
    )
    try:
        action.start()
        emulator.kill()
        assert "unavailable right now" in reply_text(act(action, "weather in Berlin"))
        assert http_json("GET", action.url + "/healthz")[0] == 200
    finally:
        action.close()
        emulator.close()


def test_data_service_down_still_answers_named_places(
    weather_emulator: ServiceProcess, data_service: ServiceProcess
) -> None:
    action = ServiceProcess(
        "jeeves-weather",
        {"JEEVES_OPEN_METEO_URL": weather_emulator.url, "JEEVES_DATA_URL": "http://127.0.0.1:9"},
    )
    try:
        action.start()
        assert reply_text(act(action, "weather in Porto")).startswith("Porto, Portugal")
        assert "can't reach your saved location" in reply_text(act(action, "weather"))
    finally:
        action.close()


def test_bad_envelope_is_422(weather_action: ServiceProcess) -> None:
    status, body = http_json("POST", weather_action.url + "/v1/act", {"id": "x"})
    assert status == 422
    assert body["error"]["code"] == "validation_failed"
