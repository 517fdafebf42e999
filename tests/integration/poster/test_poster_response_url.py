"""The poster answering commands and clicks through their `response_url`.

Real: PostgreSQL, the `jeeves-poster` process (its kit HttpClient POSTs to the response_url,
slack_sdk calls chat.postMessage) and the Slack emulator, which issues response_urls
(`POST /_emulator/response_urls`), shows their answers in its messages list and fails them on
request (faults naming the method `response_url`: expired/used URLs, 5xx, slow answers).
Faked: the dispatcher — the test enqueues `ReplyJob`s carrying the response_url itself.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import pytest
from test_poster import fixture_migrated_url, posted, wait_for  # noqa: F401  (shared)

from jeeves.kit.jobs import REPLY, ReplyJob
from jeeves.kit.queue import enqueue
from support.services import ServiceProcess, http_json
from support.slack import SlackEmulator, start_slack_emulator

pytestmark = pytest.mark.integration
TOKEN = "xoxb-response-url"
ADMIN = "response-url-admin"


@pytest.fixture(name="slack", scope="module")
def fixture_slack() -> Iterator[SlackEmulator]:
    service = start_slack_emulator(token=TOKEN)
    yield SlackEmulator(service.url)
    service.close()


@pytest.fixture(name="poster", scope="module")
def fixture_poster(migrated_url: str, slack: SlackEmulator) -> Iterator[ServiceProcess]:
    service = ServiceProcess(
        "jeeves-poster",
        {
            "JEEVES_DATABASE_URL": migrated_url,
            "JEEVES_SLACK_BOT_TOKEN": TOKEN,
            "JEEVES_SLACK_API_URL": slack.api_url,
            "JEEVES_ADMIN_TOKEN": ADMIN,
            "JEEVES_SLACK_TIMEOUT_S": "1",
            "JEEVES_POST_MAX_WAIT_S": "1",
            "JEEVES_POST_LEASE_S": "3",
            "JEEVES_QUEUE_MAX_ATTEMPTS": "4",
            "JEEVES_QUEUE_RETRY_BASE_S": "0.1",
            "JEEVES_QUEUE_RETRY_MAX_S": "0.3",
            "JEEVES_QUEUE_HEARTBEAT_TIMEOUT_S": "1",
        },
    )
    service.start()
    yield service
    print(service.logs()[-20000:])  # shown by pytest only when a test failed
    service.close()


@pytest.fixture(name="conn")
async def fixture_conn(migrated_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(migrated_url)
    yield conn
    await conn.close()


def new_channel() -> str:
    return "C" + uuid.uuid4().hex[:10].upper()


def command_reply(channel: str, response_url: str, text: str = "Commands: help") -> ReplyJob:
    return {
        "reply_key": "reply:command:" + uuid.uuid4().hex,
        "channel": channel,
        "thread_ts": None,
        "text": text,
        "event_id": None,
        "sent_at": time.time(),
        "response_url": response_url,
    }


async def row(conn: asyncpg.Connection, key: str) -> dict[str, Any]:
    found = await conn.fetchrow(
        "SELECT state, via, slack_ts, maybe_posted, last_error FROM outbound_messages "
        "WHERE reply_key = $1",
        key,
    )
    assert found is not None
    return dict(found)


def statuses(slack: SlackEmulator, method: str, channel: str) -> list[int]:
    return [int(c["status"]) for c in slack.calls(method, channel=channel)]


def bot_messages(slack: SlackEmulator, channel: str) -> list[dict[str, Any]]:
    return slack.messages(channel, source="api,response_url")


def events_for(poster: ServiceProcess, key: str) -> list[str]:
    return [str(r["event"]) for r in poster.log_records() if r.get("reply_key") == key]


async def test_a_command_reply_goes_through_its_response_url(
    conn: asyncpg.Connection, poster: ServiceProcess, slack: SlackEmulator
) -> None:
    """The bot is not in the channel: chat.postMessage would fail, the response_url works."""
    channel = new_channel()
    slack.slack_error("not_in_channel", channel=channel, duration_s=60)
    job = command_reply(channel, slack.response_url(channel))
    await enqueue(conn, REPLY, job)
    await posted(conn, job["reply_key"])
    [message] = bot_messages(slack, channel)
    assert (message["source"], message["text"], message["user"]) == (
        "response_url",
        "Commands: help",
        "U0JEEVES",
    )
    assert message["ephemeral_to"] is None, "in_channel: everyone sees it, like a posted reply"
    assert statuses(slack, "response_url", channel) == [200]
    assert statuses(slack, "chat.postMessage", channel) == []
    state = await row(conn, job["reply_key"])
    assert (state["via"], state["slack_ts"]) == ("response_url", None)


async def test_an_expired_url_falls_back_to_chat_post_message(
    conn: asyncpg.Connection, poster: ServiceProcess, slack: SlackEmulator
) -> None:
    channel = new_channel()
    slack.slack_error("expired_url", channel=channel, methods=["response_url"])
    job = command_reply(channel, slack.response_url(channel))
    await enqueue(conn, REPLY, job)
    await posted(conn, job["reply_key"])
    [message] = bot_messages(slack, channel)
    assert (message["source"], message["text"]) == ("api", "Commands: help")
    assert statuses(slack, "response_url", channel) == [404]
    assert statuses(slack, "chat.postMessage", channel) == [200]
    state = await row(conn, job["reply_key"])
    assert (state["via"], state["slack_ts"]) == ("chat", message["ts"])
    assert "reply_response_url_gone" in events_for(poster, job["reply_key"])


async def test_used_url_and_no_channel_access_is_a_dead_letter_with_both_reasons(
    conn: asyncpg.Connection, poster: ServiceProcess, slack: SlackEmulator
) -> None:
    channel = new_channel()
    slack.slack_error("used_url", channel=channel, methods=["response_url"])
    slack.slack_error("not_in_channel", channel=channel, methods=["chat.postMessage"])
    job = command_reply(channel, slack.response_url(channel))
    await enqueue(conn, REPLY, job)

    async def failed() -> bool:
        state = await conn.fetchval(
            "SELECT state FROM outbound_messages WHERE reply_key = $1", job["reply_key"]
        )
        return bool(state == "failed")

    await wait_for(failed, 10, "the dead letter")
    auth = {"Authorization": f"Bearer {ADMIN}"}

    async def listed() -> list[dict[str, Any]]:
        _, body = http_json("GET", poster.url + "/v1/dead-letters", headers=auth)
        return [d for d in body["dead_letters"] if d["payload"]["reply_key"] == job["reply_key"]]

    async def is_listed() -> bool:
        return bool(await listed())

    await wait_for(is_listed, 10, "the dead letter to be listed")
    [letter] = await listed()
    assert letter["last_error"] == (
        "slack refused the reply: not_in_channel (response_url: used_url)"
    )
    assert bot_messages(slack, channel) == []
    assert statuses(slack, "response_url", channel) == [404]
    assert statuses(slack, "chat.postMessage", channel) == [200]  # the fault answers 200 ok=false


async def test_a_5xx_is_retried_through_the_response_url(
    conn: asyncpg.Connection, poster: ServiceProcess, slack: SlackEmulator
) -> None:
    channel = new_channel()
    slack.fail_next(1, status=503, channel=channel, methods=["response_url"])
    job = command_reply(channel, slack.response_url(channel))
    await enqueue(conn, REPLY, job)
    await posted(conn, job["reply_key"], timeout=15)
    assert [m["source"] for m in bot_messages(slack, channel)] == ["response_url"]
    assert statuses(slack, "response_url", channel) == [503, 200]
    assert statuses(slack, "chat.postMessage", channel) == []


async def test_a_url_on_another_host_is_never_called(
    conn: asyncpg.Connection, poster: ServiceProcess, slack: SlackEmulator
) -> None:
    channel = new_channel()
    job = command_reply(channel, "http://127.0.0.2:9/steal")
    await enqueue(conn, REPLY, job)
    await posted(conn, job["reply_key"])
    [message] = bot_messages(slack, channel)
    assert message["source"] == "api"
    assert "reply_response_url_skipped" in events_for(poster, job["reply_key"])


async def test_an_unanswered_response_url_call_is_not_repeated(
    conn: asyncpg.Connection, poster: ServiceProcess, slack: SlackEmulator
) -> None:
    """The documented choice: no read-back exists for a response_url, so an unconfirmed call
    (here: answered after the poster's 1 s timeout) is recorded, never sent again."""
    channel = new_channel()
    slack.add_fault(kind="slow", delay_s=2, channel=channel, methods=["response_url"])
    job = command_reply(channel, slack.response_url(channel))
    await enqueue(conn, REPLY, job)
    await posted(conn, job["reply_key"], timeout=15)
    state = await row(conn, job["reply_key"])
    assert state["last_error"].startswith("unconfirmed: response_url call failed")
    await asyncio.sleep(4)  # longer than the lease: nothing else happens
    assert len(bot_messages(slack, channel)) == 1
    assert statuses(slack, "response_url", channel) == [200]
    assert statuses(slack, "chat.postMessage", channel) == []
    _, metrics = http_json("GET", poster.url + "/metrics")
    assert 'jeeves_poster_posts_total{outcome="unconfirmed"}' in metrics


async def test_a_crash_during_the_response_url_call_is_not_repeated(
    conn: asyncpg.Connection, poster: ServiceProcess, slack: SlackEmulator
) -> None:
    """What a SIGKILL mid-call leaves: the key `sending`, marked `maybe_posted` via
    response_url, its lease run out. The next run records it unconfirmed and sends nothing."""
    channel = new_channel()
    job = command_reply(channel, slack.response_url(channel))
    await conn.execute(
        "INSERT INTO outbound_messages (reply_key, channel, state, sending_at, maybe_posted, "
        "posting_at, via) VALUES ($1, $2, 'sending', now() - interval '1 minute', true, "
        "now() - interval '1 minute', 'response_url')",
        job["reply_key"],
        channel,
    )
    await enqueue(conn, REPLY, job)
    await posted(conn, job["reply_key"])
    assert (await row(conn, job["reply_key"]))["last_error"].startswith("unconfirmed")
    assert bot_messages(slack, channel) == []
    assert statuses(slack, "response_url", channel) == []
    assert "reply_unconfirmed" in events_for(poster, job["reply_key"])
