"""The poster as a real process: `reply` jobs and POST /v1/messages in, Slack messages out.

Real: PostgreSQL (queue and outbound log), the `jeeves-poster` entry point (and `migrate`), the
Slack emulator (`jeeves-slack-emulator`) answering slack_sdk's chat.postMessage, with its 429,
5xx and Slack-error faults. Faked: the dispatcher — the test enqueues `ReplyJob`s itself.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import pytest

from jeeves.kit.jobs import REPLY, ReplyJob
from jeeves.kit.queue import enqueue
from support.services import ServiceProcess, entry_point, http_json, migrate, wait_for
from support.slack import SlackEmulator, start_slack_emulator

pytestmark = pytest.mark.integration
TOKEN = "xoxb-poster-test-token"
ADMIN = "poster-admin-token"


@pytest.fixture(name="migrated_url", scope="module")
def fixture_migrated_url(database_url: str) -> str:
    for _ in range(2):  # idempotent
        printed = migrate("jeeves-poster", database_url)
    assert "poster tables: up to date" in printed
    return database_url


@pytest.fixture(name="emulator", scope="module")
def fixture_emulator() -> Iterator[ServiceProcess]:
    service = start_slack_emulator(token=TOKEN)
    yield service
    service.close()


@pytest.fixture(name="slack", scope="module")
def fixture_slack(emulator: ServiceProcess) -> SlackEmulator:
    return SlackEmulator(emulator.url)


@pytest.fixture(name="poster", scope="module")
def fixture_poster(migrated_url: str, slack: SlackEmulator) -> Iterator[ServiceProcess]:
    service = ServiceProcess(
        "jeeves-poster",
        {
            "JEEVES_DATABASE_URL": migrated_url,
            "JEEVES_SLACK_BOT_TOKEN": TOKEN,
            "JEEVES_SLACK_API_URL": slack.api_url,
            "JEEVES_ADMIN_TOKEN": ADMIN,
            "JEEVES_SLACK_TIMEOUT_S": "2",
            "JEEVES_POST_MAX_WAIT_S": "3",
            "JEEVES_POST_LEASE_S": "6",
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


def channel() -> str:
    """A fresh channel per test, so pacing and faults never leak between tests."""
    return "C" + uuid.uuid4().hex[:10].upper()


def reply(text: str, to: str, **overrides: Any) -> ReplyJob:
    job: ReplyJob = {
        "reply_key": "reply:" + uuid.uuid4().hex,
        "channel": to,
        "thread_ts": None,
        "text": text,
        "event_id": None,
        "sent_at": time.time(),
    }
    return {**job, **overrides}  # type: ignore[typeddict-item]


async def state_of(conn: asyncpg.Connection, key: str) -> str | None:
    value = await conn.fetchval("SELECT state FROM outbound_messages WHERE reply_key = $1", key)
    return str(value) if value is not None else None


async def posted(conn: asyncpg.Connection, key: str, timeout: float = 10) -> None:
    async def done() -> bool:
        return await state_of(conn, key) == "posted"

    await wait_for(done, timeout, f"{key} to be posted")


def admin(method: str, url: str) -> tuple[int, Any]:
    return http_json(method, url, headers={"Authorization": f"Bearer {ADMIN}"})


async def test_a_reply_is_posted_in_its_thread(
    conn: asyncpg.Connection, poster: ServiceProcess, slack: SlackEmulator
) -> None:
    to = channel()
    job = reply("Sunny, 21°C", to, thread_ts="1700000000.000100", blocks=[{"type": "divider"}])
    await enqueue(conn, REPLY, job)
    [message] = slack.wait_for_messages(1, channel=to)
    assert message["text"] == "Sunny, 21°C"
    assert message["thread_ts"] == "1700000000.000100"
    assert message["blocks"] == [{"type": "divider"}]
    await posted(conn, job["reply_key"])
    slack_ts = await conn.fetchval(
        "SELECT slack_ts FROM outbound_messages WHERE reply_key = $1", job["reply_key"]
    )
    assert slack_ts == message["ts"]


async def test_one_key_posts_once_however_often_it_is_queued(
    conn: asyncpg.Connection, poster: ServiceProcess, slack: SlackEmulator
) -> None:
    to = channel()
    job = reply("only once", to)
    for _ in range(3):
        await enqueue(conn, REPLY, job)
    await posted(conn, job["reply_key"])
    await enqueue(conn, REPLY, job)  # and again after it was posted

    async def drained() -> bool:
        left = await conn.fetchval(
            "SELECT count(*) FROM pgqueuer WHERE entrypoint = 'reply' "
            "AND convert_from(payload, 'UTF8')::jsonb ->> 'reply_key' = $1",
            job["reply_key"],
        )
        return int(left) == 0

    await wait_for(drained, 10, "every copy to be handled")
    assert [m["text"] for m in slack.messages(to)] == ["only once"]


async def test_429_waits_for_retry_after_in_that_channel_only(
    conn: asyncpg.Connection, poster: ServiceProcess, slack: SlackEmulator
) -> None:
    limited, free = channel(), channel()
    slack.rate_limit(limited, retry_after=2, count=1)
    started = time.time()
    await enqueue(conn, REPLY, reply("held back", limited))
    await asyncio.sleep(0.3)  # let the 429 land first
    await enqueue(conn, REPLY, reply("flowing", free))
    [other] = slack.wait_for_messages(1, channel=free)
    [late] = slack.wait_for_messages(1, channel=limited, timeout=15)
    assert late["text"] == "held back"
    assert late["posted_at"] - started >= 2.0
    assert other["posted_at"] < late["posted_at"]
    assert other["posted_at"] - started < 2.0
    calls = slack.calls("chat.postMessage", channel=limited)
    assert [c["status"] for c in calls] == [429, 200]


async def test_a_busy_channel_is_paced_to_its_rate(
    conn: asyncpg.Connection, poster: ServiceProcess, slack: SlackEmulator
) -> None:
    to = channel()
    for n in range(5):
        await enqueue(conn, REPLY, reply(f"line {n}", to))
    found = slack.wait_for_messages(5, channel=to, timeout=15)
    times = sorted(m["posted_at"] for m in found)
    assert times[-1] - times[0] >= 1.8  # burst of 3, then one per second
    assert sorted(m["text"] for m in found) == [f"line {n}" for n in range(5)]


async def test_slack_5xx_is_retried_until_posted(
    conn: asyncpg.Connection, poster: ServiceProcess, slack: SlackEmulator
) -> None:
    to = channel()
    slack.fail_next(2, status=503, channel=to, methods=["chat.postMessage"])
    job = reply("persistent", to)
    await enqueue(conn, REPLY, job)
    # a 5xx leaves doubt: each retry first reads back, no sooner than a lease after the call
    await posted(conn, job["reply_key"], timeout=30)
    assert [m["text"] for m in slack.messages(to)] == ["persistent"]
    assert [c["status"] for c in slack.calls("chat.postMessage", channel=to)] == [503, 503, 200]
    assert [c["status"] for c in slack.calls("conversations.history", channel=to)] == [200, 200]


async def test_a_permanent_slack_error_is_a_dead_letter_with_the_reason(
    conn: asyncpg.Connection, poster: ServiceProcess, slack: SlackEmulator
) -> None:
    to = channel()
    slack.slack_error("channel_not_found", channel=to, count=1)
    job = reply("nowhere", to)
    await enqueue(conn, REPLY, job)

    async def failed() -> bool:
        return await state_of(conn, job["reply_key"]) == "failed"

    await wait_for(failed, 10, "the permanent failure")

    async def listed() -> bool:
        _, body = admin("GET", poster.url + "/v1/dead-letters")
        return any(d["payload"]["reply_key"] == job["reply_key"] for d in body["dead_letters"])

    await wait_for(listed, 10, "the dead letter")
    _, body = admin("GET", poster.url + "/v1/dead-letters")
    [letter] = [d for d in body["dead_letters"] if d["payload"]["reply_key"] == job["reply_key"]]
    assert letter["last_error"] == "slack refused the reply: channel_not_found"
    assert letter["attempts"] == 1
    assert slack.messages(to) == []

    status, _ = admin("POST", poster.url + f"/v1/dead-letters/{letter['id']}/replay")
    assert status == 202
    await posted(conn, job["reply_key"])
    assert [m["text"] for m in slack.messages(to)] == ["nowhere"]


async def test_post_v1_messages_queues_durably_and_is_idempotent_by_key(
    conn: asyncpg.Connection, poster: ServiceProcess, slack: SlackEmulator
) -> None:
    to = channel()
    body = {"channel": to, "text": "your ride is synced", "key": "strava:42"}
    first = http_json("POST", poster.url + "/v1/messages", body)
    second = http_json("POST", poster.url + "/v1/messages", body)
    assert first[0] == second[0] == 202
    assert first[1]["reply_key"] == second[1]["reply_key"] == "api:strava:42"
    await posted(conn, "api:strava:42")
    await asyncio.sleep(0.5)
    assert [m["text"] for m in slack.messages(to)] == ["your ride is synced"]


def test_post_v1_messages_names_the_bad_field(poster: ServiceProcess) -> None:
    status, body = http_json("POST", poster.url + "/v1/messages", {"channel": "C1"})
    assert status == 422
    assert body["error"]["code"] == "validation_failed"
    assert body["error"]["field"] == "text"
    status, body = http_json("POST", poster.url + "/v1/messages", None)
    assert (status, body["error"]["field"]) == (422, "body")


def test_bad_settings_stop_the_process_with_one_line(migrated_url: str) -> None:
    env = {"JEEVES_DATABASE_URL": migrated_url, "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        entry_point("jeeves-poster"), env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "jeeves: settings are invalid: JEEVES_SLACK_BOT_TOKEN is required "
        "(or JEEVES_SLACK_DISTRIBUTED with JEEVES_DATA_URL)"
    ]


def test_metrics_and_no_token_in_logs(poster: ServiceProcess) -> None:
    with __import__("urllib.request").request.urlopen(poster.url + "/metrics") as response:
        text = response.read().decode()
    assert 'jeeves_poster_posts_total{outcome="posted"}' in text
    assert 'jeeves_poster_posts_total{outcome="rate_limited"}' in text
    assert "jeeves_reply_latency_seconds_bucket" in text
    assert TOKEN not in poster.logs()
