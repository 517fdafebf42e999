"""The poster's read-back: a post Slack accepted but never confirmed is not posted twice.

Real: PostgreSQL, the `jeeves-poster` process with slack_sdk inside it, and the Slack emulator
serving chat.postMessage with message metadata and conversations.history/.replies. Slack's
misbehaviour comes from the emulator's faults: `slow` (the message is posted, the answer
arrives after the poster's timeout), `server_error` (nothing posted), `slack_error` and
`rate_limit` on the read-back itself. Faked: the dispatcher — the test enqueues `ReplyJob`s.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import pytest
from test_poster import fixture_migrated_url, posted  # noqa: F401  (shared fixture and helper)

from jeeves.kit.jobs import REPLY, ReplyJob
from jeeves.kit.queue import enqueue
from support.services import ServiceProcess, http_json
from support.slack import SlackEmulator, start_slack_emulator

pytestmark = pytest.mark.integration
TOKEN = "xoxb-read-back"
READS = ["conversations.history", "conversations.replies"]


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
            "JEEVES_SLACK_TIMEOUT_S": "1",
            "JEEVES_POST_MAX_WAIT_S": "1",
            "JEEVES_POST_LEASE_S": "3",
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


def thread_in(slack: SlackEmulator, channel: str) -> str:
    """A message to reply to (posted through the Web API: no gateway here)."""
    _, body = http_json(
        "POST",
        slack.api_url + "chat.postMessage",
        {"channel": channel, "text": "a question"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    return str(body["ts"])


def job_for(channel: str, thread_ts: str | None) -> ReplyJob:
    return {
        "reply_key": "reply:" + uuid.uuid4().hex,
        "channel": channel,
        "thread_ts": thread_ts,
        "text": "said once",
        "event_id": None,
        "sent_at": time.time(),
    }


def replies_of(slack: SlackEmulator, channel: str) -> list[dict[str, Any]]:
    return [m for m in slack.messages(channel) if m["text"] == "said once"]


def events_for(poster: ServiceProcess, key: str) -> list[str]:
    return [str(r["event"]) for r in poster.log_records() if r.get("reply_key") == key]


async def slack_ts(conn: asyncpg.Connection, key: str) -> str:
    value = await conn.fetchval("SELECT slack_ts FROM outbound_messages WHERE reply_key = $1", key)
    return str(value)


@pytest.mark.parametrize("threaded", [False, True])
async def test_an_unconfirmed_post_is_found_not_repeated(
    conn: asyncpg.Connection, poster: ServiceProcess, slack: SlackEmulator, threaded: bool
) -> None:
    channel = new_channel()
    thread_ts = thread_in(slack, channel) if threaded else None
    slack.add_fault(kind="slow", delay_s=2.5, channel=channel, methods=["chat.postMessage"])
    job = job_for(channel, thread_ts)
    await enqueue(conn, REPLY, job)
    await posted(conn, job["reply_key"], timeout=20)
    [mine] = replies_of(slack, channel)
    assert mine["metadata"] == {
        "event_type": "jeeves_reply",
        "event_payload": {"reply_key": job["reply_key"]},
    }
    assert mine["thread_ts"] == thread_ts
    assert await slack_ts(conn, job["reply_key"]) == mine["ts"]
    assert "reply_read_back_found" in events_for(poster, job["reply_key"])
    method = "conversations.replies" if threaded else "conversations.history"
    assert len(slack.calls(method, channel=channel)) == 1  # the whole cost: one call


@pytest.mark.parametrize("threaded", [False, True])
async def test_a_post_slack_failed_is_read_back_absent_and_sent_again(
    conn: asyncpg.Connection, poster: ServiceProcess, slack: SlackEmulator, threaded: bool
) -> None:
    channel = new_channel()
    thread_ts = thread_in(slack, channel) if threaded else None
    slack.fail_next(1, status=500, channel=channel)
    job = job_for(channel, thread_ts)
    await enqueue(conn, REPLY, job)
    await posted(conn, job["reply_key"], timeout=20)
    assert len(replies_of(slack, channel)) == 1
    assert [c["status"] for c in slack.calls("chat.postMessage", channel=channel)][-2:] == [
        500,
        200,
    ]
    assert "reply_read_back_absent" in events_for(poster, job["reply_key"])


async def test_a_rate_limited_read_back_is_asked_again_not_guessed(
    conn: asyncpg.Connection, poster: ServiceProcess, slack: SlackEmulator
) -> None:
    channel = new_channel()
    slack.add_fault(kind="slow", delay_s=2.5, channel=channel, methods=["chat.postMessage"])
    slack.add_fault(kind="rate_limit", retry_after=1, channel=channel, methods=READS)
    job = job_for(channel, None)
    await enqueue(conn, REPLY, job)
    await posted(conn, job["reply_key"], timeout=20)
    assert len(replies_of(slack, channel)) == 1
    events = events_for(poster, job["reply_key"])
    assert events.index("reply_read_back_retry") < events.index("reply_read_back_found")
    statuses = [c["status"] for c in slack.calls("conversations.history", channel=channel)]
    assert statuses == [429, 200]


async def test_an_impossible_read_back_resends_and_says_so(
    conn: asyncpg.Connection, poster: ServiceProcess, slack: SlackEmulator
) -> None:
    """The documented window: without channels:history the poster cannot tell, and re-sends."""
    channel = new_channel()
    slack.add_fault(kind="slow", delay_s=2.5, channel=channel, methods=["chat.postMessage"])
    slack.add_fault(kind="slack_error", error="missing_scope", channel=channel, methods=READS)
    job = job_for(channel, None)
    await enqueue(conn, REPLY, job)
    await posted(conn, job["reply_key"], timeout=20)
    assert len(replies_of(slack, channel)) == 2
    assert "reply_read_back_failed" in events_for(poster, job["reply_key"])
    _, metrics = http_json("GET", poster.url + "/metrics")
    assert 'jeeves_poster_posts_total{outcome="resent_unverified"}' in metrics
