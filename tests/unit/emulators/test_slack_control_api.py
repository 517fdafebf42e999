"""The emulator's HTTP surface in-process (Quart's test client): control API validation, faults,
Web API body formats, the chat page.

Real: the emulator app with its serving hooks. No gateway is configured, so nothing leaves the
process (sending answers 409); delivery itself is covered by the integration tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client

from jeeves.emulators.slack.app import build_app
from jeeves.emulators.slack.domain.control import ControlError, parse_send_message
from jeeves.emulators.slack.settings import SlackEmulatorSettings

pytestmark = pytest.mark.unit
TOKEN = "xoxb-unit-token"


@pytest.fixture(name="app")
async def fixture_app() -> AsyncIterator[Quart]:
    settings = SlackEmulatorSettings(
        slack_signing_secret="unit-secret",
        slack_bot_token=TOKEN,
        emulator_channels="C0GENERAL:general,C0RANDOM:random",
    )
    app = build_app(settings)
    async with app.test_app():
        yield app


@pytest.fixture(name="client")
def fixture_client(app: Quart) -> Client:
    return app.test_client()


async def test_info_describes_the_workspace(client: Client) -> None:
    info = await (await client.get("/_emulator/info")).get_json()
    assert info["bot_user_id"] == "U0JEEVES"
    assert info["channels"] == [
        {"id": "C0GENERAL", "name": "general"},
        {"id": "C0RANDOM", "name": "random"},
    ]
    assert info["default_channel"] == "C0GENERAL"
    assert "chat.postMessage" in info["methods"]


async def test_sending_without_a_gateway_is_a_clear_409(client: Client) -> None:
    response = await client.post("/_emulator/send/mention", json={"text": "help"})
    assert response.status_code == 409
    assert (await response.get_json())["error"]["code"] == "no_gateway"


async def test_bad_control_requests_name_the_field(client: Client) -> None:
    cases = [
        ("/_emulator/send/message", {}, "'text'"),
        ("/_emulator/send/message", {"text": "x", "channel": ""}, "'channel'"),
        ("/_emulator/send/message", {"text": "x", "as_retry": 9}, "'as_retry'"),
        ("/_emulator/send/message", {"text": "x", "event": "reaction"}, "'event'"),
        ("/_emulator/send/command", {"command": "jeeves"}, "'command'"),
        ("/_emulator/send/click", {"value": "1"}, "'action_id'"),
        ("/_emulator/faults", {"kind": "rate_limit", "count": -1}, "'count'"),
    ]
    for path, body, field in cases:
        response = await client.post(path, json=body)
        assert response.status_code == 422, path
        assert field in (await response.get_json())["error"]["message"]
    unknown = await client.post(
        "/_emulator/send/message", json={"text": "x", "channel": "C0NOPE", "wait": False}
    )
    assert unknown.status_code in (404, 409)


async def test_fault_lifecycle_over_http(client: Client) -> None:
    added = await client.post(
        "/_emulator/faults", json={"kind": "rate_limit", "retry_after": 4, "count": 2}
    )
    assert added.status_code == 201
    fault = await added.get_json()
    assert (fault["remaining"], fault["retry_after"], fault["status"]) == (2, 4, 429)
    limited = await client.post(
        "/api/chat.postMessage",
        json={"channel": "C0GENERAL", "text": "hi"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "4"
    listed = await (await client.get("/_emulator/faults")).get_json()
    assert listed["faults"][0]["remaining"] == 1
    assert (await client.delete(f"/_emulator/faults/{fault['id']}")).status_code == 200
    assert (await (await client.get("/_emulator/faults")).get_json())["faults"] == []
    assert (await client.delete("/_emulator/faults/f999")).status_code == 404


async def test_web_api_accepts_form_bodies_with_a_token_field(client: Client) -> None:
    response = await client.post(
        "/api/chat.postMessage",
        form={"token": TOKEN, "channel": "C0RANDOM", "text": "from a form"},
    )
    body = await response.get_json()
    assert response.status_code == 200
    assert body["ok"] is True
    assert response.content_type.startswith("application/json")
    listed = await (await client.get("/_emulator/messages?channel=C0RANDOM")).get_json()
    assert [m["text"] for m in listed["messages"]] == ["from a form"]
    wrong = await client.post(
        "/api/chat.postMessage", json={"channel": "C0GENERAL", "text": "x", "token": TOKEN}
    )
    assert (await wrong.get_json())["ok"] is True  # a token in the JSON body is accepted too
    get = await client.get(
        "/api/users.info?user=U0ALICE", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert (await get.get_json())["user"]["name"] == "alice"


async def test_messages_filter_and_reset(client: Client) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    for channel in ("C0GENERAL", "C0RANDOM"):
        await client.post(
            "/api/chat.postMessage", json={"channel": channel, "text": "x"}, headers=headers
        )
    everything = await (await client.get("/_emulator/messages")).get_json()
    assert len(everything["messages"]) == 2
    since = everything["messages"][0]["posted_at"]
    later = await (await client.get(f"/_emulator/messages?since={since}")).get_json()
    assert [m["channel"] for m in later["messages"]] == ["C0RANDOM"]
    bad = await client.get("/_emulator/messages?since=yesterday")
    assert bad.status_code == 422
    calls = await (await client.get("/_emulator/calls?method=chat.postMessage")).get_json()
    assert len(calls["calls"]) == 2
    assert (await client.post("/_emulator/reset")).status_code == 200
    assert (await (await client.get("/_emulator/messages")).get_json())["messages"] == []
    assert (await (await client.get("/_emulator/calls")).get_json())["calls"] == []


async def test_config_can_be_changed_at_run_time(client: Client) -> None:
    response = await client.put(
        "/_emulator/config",
        json={"gateway_url": "http://127.0.0.1:9/", "ack_timeout_s": 0.5, "retry_delays_s": [0, 1]},
    )
    info = await response.get_json()
    assert (info["gateway_url"], info["ack_timeout_s"], info["retry_delays_s"]) == (
        "http://127.0.0.1:9",
        0.5,
        [0.0, 1.0],
    )
    bad = await client.put("/_emulator/config", json={"ack_timeout_s": 0})
    assert bad.status_code == 422


async def test_chat_page_is_served(client: Client) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert response.content_type.startswith("text/html")
    html = (await response.get_data()).decode()
    assert "/_emulator/messages" in html
    assert "/_emulator/send/message" in html
    assert "<script>" in html


def test_send_message_parsing_defaults() -> None:
    parsed = parse_send_message(
        {"text": "hi", "no_ack": True}, default_channel="C0GENERAL", default_user="U0ALICE"
    )
    assert (parsed.channel, parsed.user, parsed.force_retries, parsed.wait) == (
        "C0GENERAL",
        "U0ALICE",
        3,
        False,
    )
    with pytest.raises(ControlError, match="'body'"):
        parse_send_message([], default_channel="C", default_user="U")
