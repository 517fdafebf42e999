"""The Slack emulator's Socket Mode, met the way an app meets Slack's.

Real: the `jeeves-slack-emulator` process delivering in Socket Mode, slack_sdk's AsyncWebClient
calling `apps.connections.open`, and aiohttp WebSocket clients standing in for the app (they ack
or stay silent as each test needs). Nothing is faked on the emulator's side.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from support.services import ServiceProcess, wait_for
from support.slack import SlackEmulator, start_slack_emulator

pytestmark = pytest.mark.integration
TOKEN = "xoxb-socket-bot-token"
APP_TOKEN = "xapp-1-socket-app-token"


@pytest.fixture(name="emulator", scope="module")
def fixture_emulator() -> Iterator[ServiceProcess]:
    process = start_slack_emulator(
        token=TOKEN,
        app_token=APP_TOKEN,
        delivery="socket",
        ack_timeout_s=0.6,
        retry_delays_s="0,0.05,0.05",
    )
    try:
        yield process
    finally:
        process.close()


@pytest.fixture(name="slack")
def fixture_slack(emulator: ServiceProcess) -> SlackEmulator:
    slack = SlackEmulator(emulator.url)
    slack.clear()
    return slack


@pytest.fixture(name="session")
async def fixture_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def open_url(slack: SlackEmulator, token: str = APP_TOKEN) -> str:
    client = AsyncWebClient(base_url=slack.api_url)
    try:
        answer = await client.apps_connections_open(app_token=token)
    finally:
        if client.session is not None:
            await client.session.close()
    return str(answer["url"])


class App:
    """One Socket Mode connection of a stand-in app: frames in order, acks on request."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def frame(self, timeout: float = 5.0) -> dict[str, Any]:
        message = await asyncio.wait_for(self.ws.receive(), timeout)
        assert message.type == aiohttp.WSMsgType.TEXT, message
        value: dict[str, Any] = json.loads(message.data)
        return value

    async def ack(self, envelope: dict[str, Any], payload: dict[str, Any] | None = None) -> None:
        frame: dict[str, Any] = {"envelope_id": envelope["envelope_id"]}
        if payload is not None:
            frame["payload"] = payload
        await self.ws.send_str(json.dumps(frame))


async def connect(slack: SlackEmulator, session: aiohttp.ClientSession) -> App:
    app = App(await session.ws_connect(await open_url(slack)))
    hello = await app.frame()
    assert hello["type"] == "hello"
    return app


async def test_apps_connections_open_wants_the_app_token_in_the_header(
    slack: SlackEmulator, session: aiohttp.ClientSession
) -> None:
    for token, error in ((TOKEN, "not_allowed_token_type"), ("xapp-wrong", "invalid_auth")):
        with pytest.raises(SlackApiError) as caught:
            await open_url(slack, token)
        assert caught.value.response["error"] == error
    form = {"token": APP_TOKEN}
    async with session.post(slack.api_url + "apps.connections.open", data=form) as response:
        assert (await response.json())["error"] == "invalid_auth"
    url = await open_url(slack)
    assert url.startswith("ws://127.0.0.1:")
    assert "/link/?ticket=" in url
    assert url.endswith("&app_id=A0JEEVES")


async def test_a_ticket_opens_one_connection_which_says_hello(
    slack: SlackEmulator, session: aiohttp.ClientSession
) -> None:
    url = await open_url(slack)
    async with session.ws_connect(url) as ws:
        hello = await App(ws).frame()
        assert hello["type"] == "hello"
        assert hello["num_connections"] == 1
        assert hello["connection_info"] == {"app_id": "A0JEEVES"}
        assert set(hello["debug_info"]) == {"host", "build_number", "approximate_connection_time"}
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(url)
        assert refused.value.status == 401


async def test_an_acked_mention_arrives_once_as_an_events_api_envelope(
    slack: SlackEmulator, session: aiohttp.ClientSession
) -> None:
    app = await connect(slack, session)
    event_id = slack.send_mention("weather in Lisbon", channel="C0SOCK")
    envelope = await app.frame()
    assert envelope["type"] == "events_api"
    assert (envelope["retry_attempt"], envelope["retry_reason"]) == (0, "")
    assert envelope["accepts_response_payload"] is False
    payload = envelope["payload"]
    assert (payload["type"], payload["event_id"]) == ("event_callback", event_id)
    assert payload["event"]["text"] == "<@U0JEEVES> weather in Lisbon"
    await app.ack(envelope)
    [delivery] = slack.deliveries(event_id)
    delivery = slack.wait_for_delivery(delivery["id"])
    assert delivery["acked"] is True
    [attempt] = delivery["attempts"]
    assert attempt["transport"] == "socket"
    assert attempt["envelope_id"] == envelope["envelope_id"]
    await app.ws.close()


async def test_an_unacked_envelope_is_delivered_again_until_acked(
    slack: SlackEmulator, session: aiohttp.ClientSession
) -> None:
    app = await connect(slack, session)
    event_id = slack.send_mention("echo again", channel="C0SOCK")
    first = await app.frame()
    second = await app.frame()  # no ack for the first within 0.6 s
    assert second["envelope_id"] == first["envelope_id"]
    assert second["payload"]["event_id"] == event_id
    assert (second["retry_attempt"], second["retry_reason"]) == (1, "timeout")
    await app.ack(second)
    [delivery] = slack.deliveries(event_id)
    delivery = slack.wait_for_delivery(delivery["id"])
    assert [a["retry_num"] for a in delivery["attempts"]] == [0, 1]
    assert delivery["acked"] is True
    await app.ws.close()


async def test_envelopes_spread_over_connections_and_move_when_one_dies(
    slack: SlackEmulator, session: aiohttp.ClientSession
) -> None:
    apps = [await connect(slack, session) for _ in range(2)]
    await wait_for(lambda: _count(slack, 2), timeout=5, what="two connections")
    seen: list[set[str]] = [set(), set()]

    async def drain(index: int) -> None:
        app = apps[index]
        while True:
            envelope = await app.frame(timeout=3)
            seen[index].add(envelope["payload"]["event_id"])
            await app.ack(envelope)

    readers = [asyncio.create_task(drain(i)) for i in range(2)]
    event_ids = [slack.send_mention(f"echo {n}", channel="C0SPREAD") for n in range(30)]
    await wait_for(lambda: _all_acked(slack, event_ids), timeout=15, what="30 acked deliveries")
    for reader in readers:
        reader.cancel()
    assert all(seen), "both connections got envelopes"
    assert seen[0] | seen[1] == set(event_ids)  # (a late ack may bring a redelivery)

    # The envelope sent to a connection that dies unacked goes out again on the other one.
    await apps[0].ws.close()
    await wait_for(lambda: _count(slack, 1), timeout=5, what="one connection left")
    event_id = slack.send_mention("echo survivor", channel="C0SPREAD")
    envelope = await apps[1].frame()
    assert envelope["payload"]["event_id"] == event_id
    await apps[1].ack(envelope)
    await apps[1].ws.close()


async def _count(slack: SlackEmulator, n: int) -> bool:
    return len(slack.socket_connections()) == n


async def _all_acked(slack: SlackEmulator, event_ids: list[str]) -> bool:
    acked = {d["event_id"] for d in slack.deliveries() if d["acked"]}
    return set(event_ids) <= acked


async def test_a_slash_command_ack_payload_is_what_the_user_sees(
    slack: SlackEmulator, session: aiohttp.ClientSession
) -> None:
    app = await connect(slack, session)
    since = time.time()
    slack.send_command("help", channel="C0CMD", wait=False)
    envelope = await app.frame()
    assert envelope["type"] == "slash_commands"
    assert envelope["accepts_response_payload"] is True
    assert "retry_attempt" not in envelope
    payload = envelope["payload"]
    assert (payload["command"], payload["text"], payload["channel_id"]) == (
        "/jeeves",
        "help",
        "C0CMD",
    )
    assert payload["response_url"].startswith(slack.url + "/_emulator/hooks/")
    await app.ack(envelope, {"response_type": "ephemeral", "text": "Working on it…"})
    await wait_for(
        lambda: _shown(slack, "C0CMD", since), timeout=5, what="the ack shown to the user"
    )
    await app.ws.close()


async def _shown(slack: SlackEmulator, channel: str, since: float) -> bool:
    found = slack.messages(channel, since=since, source="response_url")
    return any(m["text"] == "Working on it…" and m["ephemeral_to"] for m in found)


async def test_a_click_arrives_as_an_interactive_envelope(
    slack: SlackEmulator, session: aiohttp.ClientSession
) -> None:
    app = await connect(slack, session)
    slack.click("echo:again", "v1", channel="C0CLICK", wait=False)
    envelope = await app.frame()
    assert envelope["type"] == "interactive"
    assert envelope["payload"]["type"] == "block_actions"
    assert envelope["payload"]["actions"][0]["value"] == "v1"
    await app.ack(envelope)
    await app.ws.close()


async def test_disconnect_messages_then_the_link_closes(
    slack: SlackEmulator, session: aiohttp.ClientSession
) -> None:
    app = await connect(slack, session)
    [connection] = [c["id"] for c in slack.socket_connections()]
    slack.socket_disconnect("warning")
    assert (await app.frame())["reason"] == "warning"
    assert slack.socket_connections(), "a warning closes nothing"
    slack.socket_disconnect("refresh_requested", connection=connection, close_after_s=0.1)
    frame = await app.frame()
    assert (frame["type"], frame["reason"]) == ("disconnect", "refresh_requested")
    closing = await asyncio.wait_for(app.ws.receive(), 5)
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    await wait_for(lambda: _count(slack, 0), timeout=5, what="the link closed")


async def test_an_eleventh_connection_is_told_there_are_too_many(
    slack: SlackEmulator, session: aiohttp.ClientSession
) -> None:
    apps = [await connect(slack, session) for _ in range(10)]
    extra = App(await session.ws_connect(await open_url(slack)))
    frame = await extra.frame()
    assert (frame["type"], frame["reason"]) == ("disconnect", "too_many_websockets")
    assert len(slack.socket_connections()) == 10
    for app in apps:
        await app.ws.close()
    await wait_for(lambda: _count(slack, 0), timeout=5, what="every link closed")
