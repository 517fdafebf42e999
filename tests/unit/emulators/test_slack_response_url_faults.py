"""The emulator's `response_url`s over HTTP in-process (Quart's test client): answers show up in
the messages list like a bot reply, every post is in the call log as method `response_url`, and
faults naming that method answer expired/used URLs (404), server errors and slow answers.

Real: the emulator app; hooks are issued directly (no gateway, nothing leaves the process).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client

from jeeves.emulators.slack.app import build_app
from jeeves.emulators.slack.emulator import emulator_of
from jeeves.emulators.slack.settings import SlackEmulatorSettings

pytestmark = pytest.mark.unit


@pytest.fixture(name="app")
async def fixture_app() -> AsyncIterator[Quart]:
    settings = SlackEmulatorSettings(slack_signing_secret="s", slack_bot_token="xoxb-unit")
    app = build_app(settings)
    async with app.test_app():
        yield app


@pytest.fixture(name="client")
def fixture_client(app: Quart) -> Client:
    return app.test_client()


def hook_path(app: Quart, channel: str = "C0SECRET") -> str:
    return f"/_emulator/hooks/{emulator_of(app).responses.issue(channel, 'U0ALICE')}"


async def test_an_in_channel_answer_is_listed_like_a_bot_reply(app: Quart, client: Client) -> None:
    answer = await client.post(
        hook_path(app), json={"text": "Commands: help", "response_type": "in_channel"}
    )
    assert (answer.status_code, await answer.get_json()) == (200, {"ok": True})
    listed = await (await client.get("/_emulator/messages?channel=C0SECRET")).get_json()
    [message] = listed["messages"]
    assert (message["source"], message["user"], message["text"]) == (
        "response_url",
        "U0JEEVES",
        "Commands: help",
    )
    assert message["ephemeral_to"] is None
    calls = await (await client.get("/_emulator/calls?method=response_url")).get_json()
    assert [(c["channel"], c["status"], c["ok"]) for c in calls["calls"]] == [
        ("C0SECRET", 200, True)
    ]


@pytest.mark.parametrize("error", ["expired_url", "used_url"])
async def test_expired_and_used_faults_answer_404(app: Quart, client: Client, error: str) -> None:
    fault = {"kind": "slack_error", "error": error, "methods": ["response_url"]}
    assert (await client.post("/_emulator/faults", json=fault)).status_code == 201
    answer = await client.post(hook_path(app), json={"text": "late"})
    assert (answer.status_code, await answer.get_json()) == (404, {"ok": False, "error": error})
    listed = await (await client.get("/_emulator/messages?channel=C0SECRET")).get_json()
    assert listed["messages"] == [], "a refused answer shows nothing"
    calls = await (await client.get("/_emulator/calls?method=response_url")).get_json()
    assert [(c["status"], c["error"]) for c in calls["calls"]] == [(404, error)]


async def test_server_errors_and_channel_scope(app: Quart, client: Client) -> None:
    fault = {"kind": "server_error", "status": 503, "channel": "C0SECRET", "count": 1}
    await client.post("/_emulator/faults", json={**fault, "methods": ["response_url"]})
    elsewhere = await client.post(hook_path(app, "C0OTHER"), json={"text": "fine"})
    assert elsewhere.status_code == 200
    failed = await client.post(hook_path(app), json={"text": "x"})
    assert failed.status_code == 503
    assert (await client.post(hook_path(app), json={"text": "x"})).status_code == 200


async def test_faults_for_every_method_leave_response_urls_alone(
    app: Quart, client: Client
) -> None:
    await client.post("/_emulator/faults", json={"kind": "server_error", "count": 1})
    assert (await client.post(hook_path(app), json={"text": "x"})).status_code == 200
    faults = await (await client.get("/_emulator/faults")).get_json()
    assert [f["remaining"] for f in faults["faults"]] == [1], "the fault is still unused"


async def test_a_real_expiry_still_answers_404(app: Quart, client: Client) -> None:
    answer = await client.post("/_emulator/hooks/never-issued", json={"text": "x"})
    assert (answer.status_code, (await answer.get_json())["error"]) == (404, "expired_url")


async def test_tests_can_ask_for_a_response_url(client: Client) -> None:
    issued = await client.post("/_emulator/response_urls", json={"channel": "C0SECRET"})
    assert issued.status_code == 201
    url = (await issued.get_json())["response_url"]
    path = url[url.index("/_emulator/hooks/") :]
    assert (await client.post(path, json={"text": "hello"})).status_code == 200
    missing = await client.post("/_emulator/response_urls", json={})
    assert missing.status_code == 422
    assert "'channel'" in (await missing.get_json())["error"]["message"]
