"""The Slack emulator's workspaces: OAuth v2 installs, tokens per workspace, rotation, uninstall.

Real: the `jeeves-slack-emulator` process with two workspaces, slack_sdk's AsyncWebClient for
`oauth.v2.access` (client credentials as HTTP Basic auth, as slack_sdk sends them) and the Web
API, aiohttp for the authorize redirects. Nothing is faked on the emulator's side.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from jeeves.localstack.ports import free_port
from support.services import ServiceProcess, http_json
from support.slack import SlackEmulator, start_slack_emulator

pytestmark = pytest.mark.integration
CLIENT_ID = "1234.5678"
CLIENT_SECRET = "emulator-client-secret"
REDIRECT = "https://jeeves.example/slack/oauth_redirect"


@pytest.fixture(name="emulator", scope="module")
def fixture_emulator() -> Iterator[ServiceProcess]:
    process = start_slack_emulator(
        token="xoxb-default-team",
        gateway_url=f"http://127.0.0.1:{free_port()}",  # nobody there: deliveries just fail
        retry_delays_s="0,0,0",
        ack_timeout_s=0.5,
        extra_env={
            "JEEVES_SLACK_CLIENT_ID": CLIENT_ID,
            "JEEVES_SLACK_CLIENT_SECRET": CLIENT_SECRET,
            "JEEVES_EMULATOR_TEAMS": "T0SECOND:second",
        },
    )
    try:
        yield process
    finally:
        process.close()


@pytest.fixture(name="slack")
def fixture_slack(emulator: ServiceProcess) -> SlackEmulator:
    slack = SlackEmulator(emulator.url)
    slack.configure(token_rotation=False)
    return slack


@pytest.fixture(name="client")
async def fixture_client(slack: SlackEmulator) -> AsyncIterator[AsyncWebClient]:
    client = AsyncWebClient(base_url=slack.api_url)
    try:
        yield client
    finally:
        if client.session is not None:
            await client.session.close()


async def authorize(slack: SlackEmulator, **params: str) -> tuple[int, dict[str, str]]:
    """GET the authorize page; (status, the redirect's query)."""
    query = {
        "client_id": CLIENT_ID,
        "scope": "app_mentions:read,chat:write",
        "state": "s-123",
        "redirect_uri": REDIRECT,
        **params,
    }
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{slack.url}/oauth/v2/authorize?{urlencode(query)}", allow_redirects=False
        ) as response,
    ):
        location = response.headers.get("Location", "")
        found = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        if location:
            assert location.startswith(REDIRECT + "?")
        return response.status, found


async def install(slack: SlackEmulator, client: AsyncWebClient, team: str) -> dict[str, Any]:
    _, redirect = await authorize(slack, team=team)
    answer = await client.oauth_v2_access(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        code=redirect["code"],
        redirect_uri=REDIRECT,
    )
    return dict(answer.data) if isinstance(answer.data, dict) else {}


async def test_authorize_redirects_with_a_code_and_the_state(slack: SlackEmulator) -> None:
    status, found = await authorize(slack)
    assert status == 302
    assert found["state"] == "s-123"
    assert found["code"]
    status, found = await authorize(slack, deny="1")
    assert (status, found) == (302, {"error": "access_denied", "state": "s-123"})
    status, _ = await authorize(slack, client_id="wrong")
    assert status == 400


async def test_a_code_buys_one_installation_of_the_chosen_workspace(
    slack: SlackEmulator, client: AsyncWebClient
) -> None:
    _, redirect = await authorize(slack, team="T0SECOND", user="U0BOSS")
    for secret, error in (("wrong-secret", "bad_client_secret"),):
        with pytest.raises(SlackApiError) as caught:
            await client.oauth_v2_access(
                client_id=CLIENT_ID, client_secret=secret, code=redirect["code"]
            )
        assert caught.value.response["error"] == error
    answer = await client.oauth_v2_access(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        code=redirect["code"],
        redirect_uri=REDIRECT,
    )
    assert answer["token_type"] == "bot"
    assert answer["team"] == {"id": "T0SECOND", "name": "second"}
    assert (answer["bot_user_id"], answer["app_id"]) == ("UB0SECOND", "A0JEEVES")
    assert answer["authed_user"] == {"id": "U0BOSS"}
    assert answer["scope"] == "app_mentions:read,chat:write"
    assert answer["access_token"].startswith("xoxb-")
    assert "refresh_token" not in answer.data
    with pytest.raises(SlackApiError) as replayed:
        await client.oauth_v2_access(
            client_id=CLIENT_ID, client_secret=CLIENT_SECRET, code=redirect["code"]
        )
    assert replayed.value.response["error"] == "invalid_code"
    me = await client.auth_test(token=answer["access_token"])
    assert (me["team_id"], me["user_id"]) == ("T0SECOND", "UB0SECOND")


async def test_each_workspace_posts_with_its_own_token_only(
    slack: SlackEmulator, client: AsyncWebClient
) -> None:
    second = (await install(slack, client, "T0SECOND"))["access_token"]
    slack.send_mention("hi", channel="C0TEAMONE")  # a person of the default workspace
    slack.send("mention", "hi", channel="C0TEAMTWO", team="T0SECOND")
    posted = await client.chat_postMessage(token=second, channel="C0TEAMTWO", text="hello two")
    assert posted["message"]["user"] == "UB0SECOND"
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(token=second, channel="C0TEAMONE", text="wrong workspace")
    assert caught.value.response["error"] == "channel_not_found"
    calls = slack.calls("chat.postMessage", channel="C0TEAMTWO")
    assert [(c["team"], c["ok"]) for c in calls] == [("T0SECOND", True)]


async def test_a_person_of_another_workspace_sends_that_workspaces_envelope(
    slack: SlackEmulator,
) -> None:
    event_id = slack.send_mention("who am i", channel="C0ENVTWO", team="T0SECOND")
    [delivery] = slack.deliveries(event_id)
    assert delivery["summary"]["channel"] == "C0ENVTWO"
    status, found = http_json(
        "POST", slack.url + "/_emulator/send/mention", {"text": "x", "team": "T0NOPE"}
    )
    assert (status, found["error"]["code"]) == (404, "team_not_found")


async def test_rotating_tokens_expire_and_refresh_tokens_work_once(
    slack: SlackEmulator, client: AsyncWebClient
) -> None:
    slack.configure(token_rotation=True, token_ttl_s=1)
    first = await install(slack, client, "T0SECOND")
    assert first["access_token"].startswith("xoxe.xoxb-1-")
    assert first["refresh_token"].startswith("xoxe-1-")
    assert first["expires_in"] == 1
    refreshed = await client.oauth_v2_access(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        grant_type="refresh_token",
        refresh_token=first["refresh_token"],
    )
    assert refreshed["refresh_token"] != first["refresh_token"]
    await client.auth_test(token=first["access_token"])  # the old one lives until it expires
    with pytest.raises(SlackApiError) as spent:
        await client.oauth_v2_access(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            grant_type="refresh_token",
            refresh_token=first["refresh_token"],
        )
    assert spent.value.response["error"] == "invalid_refresh_token"
    time.sleep(1.1)
    with pytest.raises(SlackApiError) as expired:
        await client.auth_test(token=refreshed["access_token"])
    assert expired.value.response["error"] == "token_expired"
    [team] = [t for t in _teams(slack) if t["team_id"] == "T0SECOND"]
    assert team["refreshes"] >= 1


def _teams(slack: SlackEmulator) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = http_json("GET", slack.url + "/_emulator/teams")[1]["teams"]
    return found


async def test_uninstalling_revokes_the_tokens_and_tells_the_app(
    slack: SlackEmulator, client: AsyncWebClient
) -> None:
    token = (await install(slack, client, "T0SECOND"))["access_token"]
    status, body = http_json("POST", slack.url + "/_emulator/teams/T0SECOND/uninstall")
    assert status == 200
    told = [slack.deliveries(e)[0]["summary"] for e in body["event_ids"]]
    assert [(s["type"], s["team"]) for s in told] == [
        ("tokens_revoked", "T0SECOND"),
        ("app_uninstalled", "T0SECOND"),
    ]
    with pytest.raises(SlackApiError) as caught:
        await client.auth_test(token=token)
    assert caught.value.response["error"] == "token_revoked"
    [team] = [t for t in _teams(slack) if t["team_id"] == "T0SECOND"]
    assert (team["installed"], team["live_bot_tokens"]) == (False, 0)
