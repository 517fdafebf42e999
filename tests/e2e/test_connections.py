"""Every way a team connects, end to end: a distributed app installed into several workspaces
through OAuth (each answered with its own token), uninstalled, its tokens rotated, refusing what
it must refuse; and a person connecting Strava, asking for their week, and forgetting it all.

Real: PostgreSQL (pipeline and data databases), `jeeves-tokens` (every call between services
carries its JWT; the poster and the Strava action read stored tokens with scope `credentials`),
the Slack emulator with five workspaces (OAuth v2 installs, per-workspace tokens, rotation,
uninstall), the Strava emulator, `jeeves-data`, a distributed `jeeves-gateway` (its
`/slack/install` and `/slack/oauth_redirect` driven like a browser, with its state cookie),
`jeeves-dispatcher`, two distributed `jeeves-poster` replicas (one refresh at a time between
them), and the echo, memory and strava actions. Faked: nothing.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import re
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import pytest
from pipeline_stack import ADMIN, FAST_QUEUE, POSTER_TIMING, SECRET, TOKEN, fresh_channel
from test_pipeline import settle

from integration.data.data_service_support import start_data_service
from jeeves.kit.jobs import REPLY, ReplyJob
from jeeves.kit.queue import enqueue
from jeeves.localstack.ports import wait_until
from jeeves.localstack.postgres import PostgresServer
from support.dealer import Dealer, start_dealer
from support.services import ServiceProcess, http_json, migrate
from support.slack import SlackEmulator, start_slack_emulator

pytestmark = pytest.mark.e2e
CLIENT_ID, CLIENT_SECRET = "1111.2222", "e2e-slack-client-secret"
STRAVA_ID, STRAVA_SECRET = "777", "e2e-strava-client-secret"
TEAMS = "T0SECOND:second,T0THIRD:third,T0BYE:bye,T0ROTATE:rotate,T0NEVER:never"
REPLY_TIMEOUT = 30.0


@dataclass
class Stack:
    slack: SlackEmulator
    gateway: ServiceProcess
    data: ServiceProcess
    strava: ServiceProcess
    strava_emulator: ServiceProcess
    pipeline_db: str
    dealer: Dealer

    @property
    def database_url(self) -> str:
        """What `settle` reads: the pipeline's database."""
        return self.pipeline_db

    def data_get(self, path: str) -> tuple[int, Any]:
        token = self.dealer.token("dashboard", "data")
        return http_json("GET", self.data.url + path, None, {"Authorization": f"Bearer {token}"})


def _actions(echo: str, memory: str, strava: str) -> dict[str, dict[str, Any]]:
    return {
        "echo": {"keywords": ["echo"], "url": echo, "timeout_s": 5},
        "memory": {"keywords": ["remember", "forget", "what do you know"], "url": memory},
        "strava": {"keywords": ["strava", "runs", "login strava"], "url": strava, "timeout_s": 8},
    }


@pytest.fixture(name="stack", scope="module")
def fixture_stack(postgres_server: PostgresServer) -> Iterator[Stack]:
    suffix = uuid.uuid4().hex[:8]
    pipeline_db = postgres_server.create_database(f"jeeves_e2e_conn_{suffix}")
    data_db = postgres_server.create_database(f"jeeves_e2e_conn_data_{suffix}")
    started: list[ServiceProcess] = []

    def launch(service: ServiceProcess) -> ServiceProcess:
        started.append(service)
        return service.start()

    try:
        for command in ("jeeves-gateway", "jeeves-dispatcher", "jeeves-poster"):
            migrate(command, pipeline_db)
        dealer = start_dealer(started)
        emulator = start_slack_emulator(
            signing_secret=SECRET,
            token=TOKEN,
            extra_env={
                "JEEVES_SLACK_CLIENT_ID": CLIENT_ID,
                "JEEVES_SLACK_CLIENT_SECRET": CLIENT_SECRET,
                "JEEVES_EMULATOR_TEAMS": TEAMS,
                "JEEVES_LOG_LEVEL": "info",
            },
        )
        started.append(emulator)
        slack = SlackEmulator(emulator.url)
        strava_emulator = launch(
            ServiceProcess(
                "jeeves-strava-emulator",
                {
                    "JEEVES_STRAVA_CLIENT_ID": STRAVA_ID,
                    "JEEVES_STRAVA_CLIENT_SECRET": STRAVA_SECRET,
                },
            )
        )
        data = start_data_service(data_db, dealer.env("data"))
        started.append(data)
        echo = launch(ServiceProcess("jeeves-echo", dealer.env("echo")))
        memory = launch(
            ServiceProcess("jeeves-memory", {"JEEVES_DATA_URL": data.url, **dealer.env("memory")})
        )
        strava = ServiceProcess(
            "jeeves-strava",
            {
                "JEEVES_DATA_URL": data.url,
                "JEEVES_STRAVA_URL": strava_emulator.url,
                "JEEVES_STRAVA_CLIENT_ID": STRAVA_ID,
                "JEEVES_STRAVA_CLIENT_SECRET": STRAVA_SECRET,
                "JEEVES_STRAVA_REVOKE_INTERVAL_S": "0.5",
                **dealer.env("strava"),
            },
        )
        strava.env["JEEVES_STRAVA_PUBLIC_URL"] = strava.url
        launch(strava)
        common = {"JEEVES_DATABASE_URL": pipeline_db, "JEEVES_LOG_LEVEL": "info", **FAST_QUEUE}
        distributed = {
            "JEEVES_SLACK_DISTRIBUTED": "true",
            "JEEVES_DATA_URL": data.url,
            "JEEVES_SLACK_CLIENT_ID": CLIENT_ID,
            "JEEVES_SLACK_CLIENT_SECRET": CLIENT_SECRET,
            "JEEVES_SLACK_API_URL": slack.api_url,
        }
        for _ in range(2):  # two replicas share every refresh lease
            launch(
                ServiceProcess(
                    "jeeves-poster",
                    {
                        **common,
                        **distributed,
                        **POSTER_TIMING,
                        "JEEVES_SLACK_TOKEN_REFRESH_MARGIN_S": "4",
                        "JEEVES_ADMIN_TOKEN": ADMIN,
                        **dealer.env("poster"),
                    },
                )
            )
        launch(
            ServiceProcess(
                "jeeves-dispatcher",
                {
                    **common,
                    "JEEVES_ACTIONS": json.dumps(_actions(echo.url, memory.url, strava.url)),
                    "JEEVES_ADMIN_TOKEN": ADMIN,
                    **dealer.env("dispatcher"),
                },
            )
        )
        gateway = ServiceProcess(
            "jeeves-gateway",
            {
                **common,
                **distributed,
                "JEEVES_SLACK_SIGNING_SECRET": SECRET,
                "JEEVES_SLACK_AUTHORIZE_URL": slack.url + "/oauth/v2/authorize",
                **dealer.env("gateway"),
            },
        )
        gateway.env["JEEVES_SLACK_REDIRECT_URI"] = gateway.url + "/slack/oauth_redirect"
        launch(gateway)
        slack.configure(gateway_url=gateway.url)
        yield Stack(slack, gateway, data, strava, strava_emulator, pipeline_db, dealer)
    finally:
        for service in reversed(started):
            print(f"===== {service.command}\n{service.logs()[-4000:]}")  # shown on failure
            service.close()


# -- a browser ---------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Browser:
    """Cookies kept, redirects shown (not followed): what a person's browser does, step by step."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect
        )

    def get(self, url: str) -> tuple[int, str, str]:
        """(status, Location, body)."""
        try:
            with self.opener.open(url, timeout=15) as response:
                return int(response.status), "", response.read().decode()
        except urllib.error.HTTPError as exc:
            return int(exc.code), str(exc.headers.get("Location", "")), exc.read().decode()


def start_install(stack: Stack, browser: Browser, team: str) -> str:
    """/slack/install, then Slack's authorize page for `team`: the redirect back to Jeeves."""
    status, authorize, _ = browser.get(stack.gateway.url + "/slack/install")
    assert status == 302
    assert authorize.startswith(stack.slack.url + "/oauth/v2/authorize?")
    status, back, _ = browser.get(f"{authorize}&team={team}")
    assert status == 302
    assert back.startswith(stack.gateway.url + "/slack/oauth_redirect?")
    return back


def install(stack: Stack, team: str) -> str:
    """The whole install of `team`; the redirect URL it used (its code and state are spent)."""
    browser = Browser()
    back = start_install(stack, browser, team)
    status, _, page = browser.get(back)
    assert status == 200, page
    assert "Jeeves is installed" in page
    return back


def installation(stack: Stack, team: str) -> dict[str, Any] | None:
    status, body = stack.data_get(f"/v1/installations/{team}")
    return body if status == 200 else None


def ensure_installed(stack: Stack, team: str) -> None:
    if installation(stack, team) is None:
        install(stack, team)


def mention(stack: Stack, text: str, channel: str, team: str, user: str = "U0PERSON") -> str:
    return stack.slack.send_mention(text, channel=channel, team=team, user=user)


def wait_reply(stack: Stack, channel: str, since: float, source: str = "api") -> dict[str, Any]:
    [reply] = stack.slack.wait_for_messages(
        1, channel=channel, since=since, timeout=REPLY_TIMEOUT, source=source
    )
    return reply


def error_of(delivery: dict[str, Any]) -> tuple[int | None, str]:
    attempt = delivery["attempts"][0]
    body = json.loads(attempt["body"]) if attempt["body"] else {}
    return attempt["status"], str(body.get("error", {}).get("code", ""))


async def _stored(database_url: str, event_id: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM gateway_inbound_events WHERE event_id = $1", event_id
            )
        )
    finally:
        await conn.close()


def stored(stack: Stack, event_id: str) -> int:
    return asyncio.run(_stored(stack.pipeline_db, event_id))


# -- workspaces --------------------------------------------------------------------------------


def test_two_workspaces_are_each_answered_with_their_own_token(stack: Stack) -> None:
    ensure_installed(stack, "T0TEAM")
    ensure_installed(stack, "T0SECOND")
    first, second, since = fresh_channel(), fresh_channel(), time.time()
    mention(stack, "echo hello first", first, "T0TEAM")
    mention(stack, "echo hello second", second, "T0SECOND")
    one, two = wait_reply(stack, first, since), wait_reply(stack, second, since)
    assert (one["text"], one["user"]) == ("hello first", "U0JEEVES")
    assert (two["text"], two["user"]) == ("hello second", "UB0SECOND")
    calls = {
        c["channel"]: c["team"]
        for c in stack.slack.calls("chat.postMessage")
        if c["channel"] in (first, second) and c["ok"]
    }
    assert calls == {first: "T0TEAM", second: "T0SECOND"}
    shown = installation(stack, "T0SECOND")
    assert shown is not None
    assert (shown["bot_user_id"], shown["refreshable"]) == ("UB0SECOND", False)
    assert "token" not in json.dumps(shown).replace("bot_token_expires_at", "")


async def _enqueue_reply(database_url: str, job: ReplyJob) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await enqueue(conn, REPLY, job)
    finally:
        await conn.close()


def test_a_versioned_message_is_posted_and_edited_with_its_workspaces_token(
    stack: Stack,
) -> None:
    """jeeves-alerts' messages (a versioned reply, edited in place) in a distributed app: the
    post and the chat.update both carry the reply's workspace installation."""
    ensure_installed(stack, "T0SECOND")
    channel, since, key = fresh_channel(), time.time(), f"alert:{uuid.uuid4().hex[:8]}"
    base: ReplyJob = {
        "reply_key": key,
        "channel": channel,
        "thread_ts": None,
        "text": "FIRING",
        "version": 1,
        "team_id": "T0SECOND",
    }
    asyncio.run(_enqueue_reply(stack.pipeline_db, base))
    posted = wait_reply(stack, channel, since)
    assert posted["text"] == "FIRING"
    asyncio.run(_enqueue_reply(stack.pipeline_db, {**base, "text": "RESOLVED", "version": 2}))

    def edited() -> bool:
        return any(c["ok"] for c in stack.slack.calls("chat.update", channel))

    wait_until(edited, timeout=REPLY_TIMEOUT, what="the chat.update of version 2")
    [message] = stack.slack.messages(channel=channel, since=since)
    assert message["text"] == "RESOLVED"
    teams = {(c["method"], c["team"]) for c in stack.slack.calls(channel=channel)}
    assert teams == {("chat.postMessage", "T0SECOND"), ("chat.update", "T0SECOND")}


def test_a_forged_state_is_refused_and_stores_nothing(stack: Stack) -> None:
    browser = Browser()
    back = start_install(stack, browser, "T0THIRD")
    code = parse_qs(urlsplit(back).query)["code"][0]
    forged = f"{stack.gateway.url}/slack/oauth_redirect?code={code}&state=made-up"
    status, _, body = browser.get(forged)  # the cookie holds the real state: no match
    assert (status, json.loads(body)["error"]["code"]) == (400, "invalid_state")
    stranger = Browser()  # the real URL, in a browser that did not start the install
    status, _, body = stranger.get(back)
    assert (status, json.loads(body)["error"]["code"]) == (400, "invalid_state")
    assert installation(stack, "T0THIRD") is None


def test_a_replayed_code_or_state_is_refused_and_stores_nothing(stack: Stack) -> None:
    used = install(stack, "T0THIRD")
    before = installation(stack, "T0THIRD")
    assert before is not None
    browser = Browser()
    status, _, body = browser.get(used)  # the same redirect again: its state is spent
    assert (status, json.loads(body)["error"]["code"]) == (400, "invalid_state")
    fresh = start_install(stack, browser, "T0THIRD")  # a new state, the old code
    old_code = parse_qs(urlsplit(used).query)["code"][0]
    state = parse_qs(urlsplit(fresh).query)["state"][0]
    replay = f"{stack.gateway.url}/slack/oauth_redirect?code={old_code}&state={state}"
    status, _, body = browser.get(replay)
    error = json.loads(body)["error"]
    assert (status, error["code"]) == (400, "oauth_failed")
    assert "invalid_code" in error["message"]
    after = installation(stack, "T0THIRD")
    assert after is not None
    assert after["version"] == before["version"], "nothing stored"


def test_an_event_from_a_workspace_without_installation_is_refused(stack: Stack) -> None:
    channel, since = fresh_channel(), time.time()
    event_id = mention(stack, "echo anyone there", channel, "T0NEVER")
    [delivery] = stack.slack.deliveries(event_id)
    delivery = stack.slack.wait_for_delivery(delivery["id"])
    assert error_of(delivery) == (403, "team_not_installed")
    assert len(delivery["attempts"]) == 1, "X-Slack-No-Retry: Slack does not retry it"
    assert stored(stack, event_id) == 0
    time.sleep(1)
    assert stack.slack.messages(channel, since=since) == []


def test_an_uninstall_stops_replies_to_that_workspace(stack: Stack) -> None:
    install(stack, "T0BYE")
    channel, since = fresh_channel(), time.time()
    mention(stack, "echo before", channel, "T0BYE")
    assert wait_reply(stack, channel, since)["text"] == "before"
    told = stack.slack.uninstall("T0BYE")
    for event_id in told:
        [delivery] = stack.slack.deliveries(event_id)
        assert stack.slack.wait_for_delivery(delivery["id"])["acked"] is True
    assert installation(stack, "T0BYE") is None
    since = time.time()
    event_id = mention(stack, "echo after", channel, "T0BYE")
    [delivery] = stack.slack.deliveries(event_id)
    assert error_of(stack.slack.wait_for_delivery(delivery["id"])) == (403, "team_not_installed")
    time.sleep(1)
    assert stack.slack.messages(channel, since=since) == []


def test_rotating_tokens_are_refreshed_and_replies_keep_flowing(stack: Stack) -> None:
    stack.slack.configure(token_rotation=True, token_ttl_s=6)
    try:
        install(stack, "T0ROTATE")
    finally:
        stack.slack.configure(token_rotation=False)
    shown = installation(stack, "T0ROTATE")
    assert shown is not None
    assert shown["refreshable"] is True
    channels = [fresh_channel() for _ in range(4)]
    since, started = time.time(), time.monotonic()
    grants_since = since
    sent = 0
    while time.monotonic() - started < 16:  # more than two token lifetimes
        mention(stack, f"echo rotate {sent}", channels[sent % 4], "T0ROTATE")
        sent += 1
        time.sleep(0.8)
    wait_until(
        lambda: len(_bot_texts(stack, channels, since)) >= sent,
        timeout=REPLY_TIMEOUT,
        what=f"{sent} replies",
    )
    settle(stack)  # type: ignore[arg-type]
    texts = _bot_texts(stack, channels, since)
    assert sorted(texts) == sorted(f"rotate {n}" for n in range(sent)), "each answered once"
    [team] = [t for t in stack.slack.teams() if t["team_id"] == "T0ROTATE"]
    assert team["refreshes"] >= 2, team
    refused = [
        c for c in stack.slack.calls("chat.postMessage") if c["channel"] in channels and not c["ok"]
    ]
    assert refused == [], "no reply met an expired token: refreshed before expiry"
    grants = [c for c in stack.slack.calls("oauth.v2.access") if c["at"] >= grants_since]
    assert grants, "the posters refreshed"
    assert all(c["ok"] for c in grants), "no refresh token was used twice"


def _bot_texts(stack: Stack, channels: list[str], since: float) -> list[str]:
    return [m["text"] for m in stack.slack.messages(since=since) if m["channel"] in channels]


# -- Strava ------------------------------------------------------------------------------------


def test_strava_from_login_to_a_summary_and_revoked_by_forget_everything(stack: Stack) -> None:
    ensure_installed(stack, "T0TEAM")
    channel, user = fresh_channel(), "U0RUNNER"
    since = time.time()
    mention(stack, "login strava", channel, "T0TEAM", user)
    link = wait_reply(stack, channel, since)
    assert link["ephemeral_to"] == user, "the link is private"
    assert link["method"] == "chat.postEphemeral"
    url = re.search(r"<(https?://[^|>]+)\|", link["text"])
    assert url is not None
    browser = Browser()
    status, callback, _ = browser.get(url.group(1).replace("&amp;", "&") + "&athlete=1001")
    assert status == 302
    status, _, page = browser.get(callback)
    assert status == 200, page
    assert "Strava is connected" in page
    status, _, body = browser.get(callback)  # the same link again
    assert (status, json.loads(body)["error"]["code"]) == (400, "invalid_state")

    since = time.time()
    mention(stack, "strava", channel, "T0TEAM", user)
    summary = wait_reply(stack, channel, since)["text"]
    assert summary.startswith("*Your last 7 days on Strava*")
    assert "2 runs" in summary

    since = time.time()
    mention(stack, "forget everything", channel, "T0TEAM", user)
    question = wait_reply(stack, channel, since)
    buttons = [
        e for b in question.get("blocks") or [] if b.get("type") == "actions" for e in b["elements"]
    ]
    confirm = next(b for b in buttons if b["action_id"] == "memory:forget_all:confirm")
    since = time.time()
    stack.slack.click(confirm["action_id"], confirm["value"], channel=channel, user=user)
    done = wait_reply(stack, channel, since, source="api,response_url")
    assert "forgotten everything" in done["text"]

    def deauthorized() -> bool:
        state = http_json("GET", stack.strava_emulator.url + "/_emulator/state")[1]
        return any(d["athlete_id"] == 1001 for d in state["deauthorized"])

    wait_until(deauthorized, timeout=20, what="the Strava grant revoked")
    since = time.time()
    mention(stack, "strava", channel, "T0TEAM", user)
    assert wait_reply(stack, channel, since)["text"].startswith("You haven't connected Strava")
