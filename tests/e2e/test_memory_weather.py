"""Memory and weather through the whole pipeline: Slack emulator → ingress → dispatcher →
memory/weather actions (→ data service, → weather emulator) → poster → Slack emulator, over the
Events API and over Socket Mode (the stack is started once per ingress).

Real: PostgreSQL (one database for the pipeline, one for the data service), the Slack emulator,
`jeeves-gateway` or two `jeeves-socket` replicas, `jeeves-dispatcher`, `jeeves-poster`,
`jeeves-data`, `jeeves-memory`, `jeeves-weather`, `jeeves-echo`, `jeeves-weather-emulator` as
Open-Meteo and `jeeves-tokens` (every call between services carries the dealer's JWT). Faked:
nothing; the upstream outage comes from the weather emulator's fault controls. This module
starts its own pipeline (the shared `pipeline` fixture registers only echo).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pipeline_stack import (
    ADMIN,
    APP_TOKEN,
    FAST_QUEUE,
    INGRESSES,
    SECRET,
    TOKEN,
    Dealer,
    fresh_channel,
    migrate,
    start_dealer,
    start_ingress,
)

from integration.data.data_service_support import start_data_service
from jeeves.localstack.postgres import PostgresServer
from support.services import ServiceProcess, http_json
from support.slack import BOT_USER_ID, SlackEmulator, start_slack_emulator

pytestmark = pytest.mark.e2e
TEAM_REPLY_TIMEOUT = 20.0


@dataclass
class Stack:
    slack: SlackEmulator
    data: ServiceProcess
    weather_emulator: ServiceProcess
    dealer: Dealer


def _actions(echo: str, memory: str, weather: str) -> dict[str, dict[str, Any]]:
    return {
        "echo": {"keywords": ["echo"], "url": echo, "timeout_s": 5},
        "memory": {
            "keywords": ["remember", "forget", "what do you know", "my"],
            "url": memory,
            "description": "Remembers facts about you",
            "usage": "remember my location is Porto",
            "timeout_s": 5,
        },
        "weather": {
            "keywords": ["weather", "forecast"],
            "url": weather,
            "description": "Weather now and today",
            "usage": "weather in Lisbon",
            "timeout_s": 8,
        },
    }


@pytest.fixture(name="stack", scope="module", params=INGRESSES)
def fixture_stack(
    postgres_server: PostgresServer, request: pytest.FixtureRequest
) -> Iterator[Stack]:
    suffix = uuid.uuid4().hex[:8]
    pipeline_db = postgres_server.create_database(f"jeeves_e2e_mw_{suffix}")
    data_db = postgres_server.create_database(f"jeeves_e2e_mw_data_{suffix}")
    started: list[ServiceProcess] = []

    def launch(command: str, env: dict[str, str] | None = None) -> ServiceProcess:
        return launch_process(ServiceProcess(command, env))

    def launch_process(service: ServiceProcess) -> ServiceProcess:
        started.append(service)
        return service.start()

    try:
        for command in ("jeeves-gateway", "jeeves-dispatcher", "jeeves-poster"):
            migrate(command, pipeline_db)
        dealer = start_dealer(started)
        emulator = start_slack_emulator(signing_secret=SECRET, token=TOKEN, app_token=APP_TOKEN)
        started.append(emulator)
        slack = SlackEmulator(emulator.url)
        weather_emulator = launch("jeeves-weather-emulator")
        data = start_data_service(data_db, dealer.env("data"))
        started.append(data)
        echo = launch("jeeves-echo", dealer.env("echo"))
        memory = launch("jeeves-memory", {"JEEVES_DATA_URL": data.url, **dealer.env("memory")})
        weather = launch(
            "jeeves-weather",
            {
                "JEEVES_DATA_URL": data.url,
                "JEEVES_OPEN_METEO_URL": weather_emulator.url,
                "JEEVES_UPSTREAM_TIMEOUT_S": "1.5",
                **dealer.env("weather"),
            },
        )
        common = {"JEEVES_DATABASE_URL": pipeline_db, "JEEVES_LOG_LEVEL": "info", **FAST_QUEUE}
        launch(
            "jeeves-poster",
            {
                **common,
                "JEEVES_SLACK_BOT_TOKEN": TOKEN,
                "JEEVES_SLACK_API_URL": slack.api_url,
                "JEEVES_ADMIN_TOKEN": ADMIN,
                **dealer.env("poster"),
            },
        )
        launch(
            "jeeves-dispatcher",
            {
                **common,
                "JEEVES_SLACK_BOT_USER_ID": BOT_USER_ID,
                "JEEVES_ACTIONS": json.dumps(_actions(echo.url, memory.url, weather.url)),
                "JEEVES_ADMIN_TOKEN": ADMIN,
                **dealer.env("dispatcher"),
            },
        )
        start_ingress(
            str(request.param),
            slack,
            launch_process,
            {**common, "JEEVES_SLACK_BOT_USER_ID": BOT_USER_ID},
        )
        yield Stack(slack, data, weather_emulator, dealer)
    finally:
        for service in reversed(started):
            print(f"===== {service.command}\n{service.logs()[-4000:]}")  # shown on failure
            service.close()


def ask(stack: Stack, text: str, channel: str, user: str) -> dict[str, Any]:
    """Mention the bot and return its one reply in that channel."""
    since = time.time()
    stack.slack.send_mention(text, channel=channel, user=user)
    [reply] = stack.slack.wait_for_messages(
        1, channel=channel, since=since, timeout=TEAM_REPLY_TIMEOUT
    )
    return reply


def test_remember_a_unicode_location_then_weather_uses_it(stack: Stack) -> None:
    channel, user = fresh_channel(), "U0E2EMW1"
    remembered = ask(stack, "remember my location is São Paulo", channel, user)
    assert "your location is São Paulo" in remembered["text"]
    forecast = ask(stack, "weather", channel, user)
    assert forecast["text"].startswith("São Paulo, Brazil: now")
    assert "chance of rain" in forecast["text"]
    tomorrow = ask(stack, "weather in Zürich tomorrow", channel, user)
    assert tomorrow["text"].startswith("Zürich, Switzerland tomorrow:")


def test_unknown_and_ambiguous_places_get_helpful_replies(stack: Stack) -> None:
    channel, user = fresh_channel(), "U0E2EMW2"
    assert "couldn't find a place" in ask(stack, "weather in Atlantis", channel, user)["text"]
    ambiguous = ask(stack, "weather in Springfield", channel, user)["text"]
    assert "Illinois" in ambiguous
    assert "Missouri" in ambiguous
    assert "remember my location" in ask(stack, "weather", channel, user)["text"]


def test_weather_upstream_down_is_friendly_and_the_pipeline_keeps_serving(stack: Stack) -> None:
    channel, user = fresh_channel(), "U0E2EMW3"
    faults = stack.weather_emulator.url + "/_control/faults"
    assert http_json("POST", faults, {"mode": "down"})[0] == 201
    try:
        down = ask(stack, "weather in Kraków", channel, user)
        assert "unavailable right now" in down["text"]
        assert ask(stack, "echo still here", channel, user)["text"] == "still here"
        assert "Porto" in ask(stack, "remember my location is Porto", channel, user)["text"]
    finally:
        http_json("DELETE", faults)
    assert ask(stack, "weather in Kraków", channel, user)["text"].startswith("Kraków")


def test_forget_everything_with_the_confirmation_button(stack: Stack) -> None:
    channel, user = fresh_channel(), "U0E2EMW4"
    ask(stack, "my timezone is Europe/Lisbon", channel, user)
    listed = ask(stack, "what do you know about me", channel, user)
    assert "Europe/Lisbon" in listed["text"]
    question = ask(stack, "forget everything", channel, user)
    assert "Are you sure?" in question["text"]
    blocks = question.get("blocks") or []
    buttons = [e for b in blocks if b.get("type") == "actions" for e in b["elements"]]
    confirm = next(b for b in buttons if b["action_id"] == "memory:forget_all:confirm")
    since = time.time()
    stack.slack.click(confirm["action_id"], confirm["value"], channel=channel, user=user)
    [done] = stack.slack.wait_for_messages(  # a click is answered through its response_url
        1, channel=channel, since=since, timeout=TEAM_REPLY_TIMEOUT, source="api,response_url"
    )
    assert "forgotten everything" in done["text"]
    token = stack.dealer.token("dashboard", "data")  # any caller of data with scope `data`
    headers = {"Authorization": f"Bearer {token}"}
    status, _ = http_json("GET", f"{stack.data.url}/v1/users/T0E2E/{user}", None, headers)
    assert status == 404
    assert "don't know anything" in ask(stack, "what do you know about me", channel, user)["text"]
