"""The poster's read-back: a post Slack accepted but never confirmed is not posted twice.

Real: PostgreSQL, the `jeeves-poster` process and slack_sdk inside it. Stand-in: Slack itself,
as `lagging_slack` — it keeps the message but answers after the poster's timeout, and serves
conversations.history/.replies (which the Slack emulator lacks) for the read-back.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from test_poster import fixture_migrated_url, posted  # noqa: F401  (shared fixture and helper)

from jeeves.kit.jobs import REPLY, ReplyJob
from jeeves.kit.queue import enqueue
from support.services import ServiceProcess, http_json

pytestmark = pytest.mark.integration
HERE = Path(__file__).parent


@pytest.fixture(name="lagging_slack", scope="module")
def fixture_lagging_slack() -> Iterator[ServiceProcess]:
    service = ServiceProcess("-m lagging_slack", {"PYTHONPATH": str(HERE)}, probe="/healthz")
    service.start()
    yield service
    service.close()


@pytest.fixture(name="poster", scope="module")
def fixture_poster(migrated_url: str, lagging_slack: ServiceProcess) -> Iterator[ServiceProcess]:
    service = ServiceProcess(
        "jeeves-poster",
        {
            "JEEVES_DATABASE_URL": migrated_url,
            "JEEVES_SLACK_BOT_TOKEN": "xoxb-read-back",
            "JEEVES_SLACK_API_URL": lagging_slack.url + "/api/",
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


@pytest.mark.parametrize("thread_ts", [None, "1700000000.000100"])
async def test_an_unconfirmed_post_is_found_not_repeated(
    conn: asyncpg.Connection,
    poster: ServiceProcess,
    lagging_slack: ServiceProcess,
    thread_ts: str | None,
) -> None:
    channel = "CLAG" + uuid.uuid4().hex[:8].upper()
    job: ReplyJob = {
        "reply_key": "reply:" + uuid.uuid4().hex,
        "channel": channel,
        "thread_ts": thread_ts,
        "text": "said once",
        "event_id": None,
        "sent_at": time.time(),
    }
    await enqueue(conn, REPLY, job)
    await posted(conn, job["reply_key"], timeout=20)
    _, body = http_json("GET", lagging_slack.url + "/_messages")
    mine = [m for m in body["messages"] if m["channel"] == channel]
    assert len(mine) == 1
    assert mine[0]["metadata"]["event_payload"]["reply_key"] == job["reply_key"]
    slack_ts = await conn.fetchval(
        "SELECT slack_ts FROM outbound_messages WHERE reply_key = $1", job["reply_key"]
    )
    assert slack_ts == mine[0]["ts"]
    records = [r for r in poster.log_records() if r.get("reply_key") == job["reply_key"]]
    assert "reply_read_back_found" in [r["event"] for r in records]
