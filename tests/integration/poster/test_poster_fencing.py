"""A delivery that outlives its lease cannot undo, or repeat, another worker's post.

Real: PostgreSQL (the outbound log's SQL), two in-process `Poster`s (the production handler) with
slack_sdk and the kit's HttpClient talking to a real `jeeves-slack-emulator`. The interleaving
of the two workers is driven step by step, never by sleeping: worker A is held in its
governor wait by a gate the test opens; worker B is given a lease of a microsecond, so from its
side A's lease has already expired (what a stalled process looks like to its peers).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import asyncpg
import pytest
from prometheus_client import CollectorRegistry
from slack_sdk.web.async_client import AsyncWebClient

from jeeves.kit.http import HttpClient
from jeeves.kit.jobs import REPLY, ReplyJob
from jeeves.kit.queue import QueueJob, RetryJob
from jeeves.poster import outbound
from jeeves.poster.domain.governor import Governor
from jeeves.poster.posting import Poster, PostMetrics
from jeeves.poster.tokens import BotTokens
from support.services import migrate
from support.slack import SlackEmulator, start_slack_emulator

pytestmark = pytest.mark.integration
TOKEN = "xoxb-fencing"
LEASE_S = 30.0
EXPIRED = 1e-6  # a lease every existing claim has outlived


@pytest.fixture(name="migrated_url", scope="module")
def fixture_migrated_url(database_url: str) -> str:
    migrate("jeeves-poster", database_url)
    return database_url


@pytest.fixture(name="conn")
async def fixture_conn(migrated_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(migrated_url)
    yield conn
    await conn.close()


@pytest.fixture(name="slack", scope="module")
def fixture_slack() -> Iterator[SlackEmulator]:
    service = start_slack_emulator(token=TOKEN)
    yield SlackEmulator(service.url)
    service.close()


async def claim(conn: asyncpg.Connection, key: str, lease_s: float) -> outbound.Claimed:
    return await outbound.claim(
        conn, reply_key=key, channel="C1", thread_ts=None, event_id=None, lease_s=lease_s
    )


async def state(conn: asyncpg.Connection, key: str) -> dict[str, Any]:
    row = await conn.fetchrow(
        "SELECT state, attempts, slack_ts, maybe_posted FROM outbound_messages "
        "WHERE reply_key = $1",
        key,
    )
    assert row is not None
    return dict(row)


async def test_a_stale_worker_cannot_change_a_key_another_worker_took(
    conn: asyncpg.Connection,
) -> None:
    key = "reply:" + uuid.uuid4().hex
    stale = await claim(conn, key, LEASE_S)  # A claims, then stalls past its lease
    fresh = await claim(conn, key, EXPIRED)  # B sees the lease expired and takes the key
    assert (stale.claim, fresh.claim) == (outbound.Claim.SEND, outbound.Claim.SEND)
    assert fresh.attempts == stale.attempts + 1
    assert await outbound.mark_posting(conn, outbound.lease_of(key, fresh))
    assert await outbound.mark_posted(conn, outbound.lease_of(key, fresh), "1700000000.000200")
    # A wakes up and reports what its own call did: every update is refused.
    a = outbound.lease_of(key, stale)
    assert not await outbound.mark_posting(conn, a)
    assert not await outbound.mark_unsent(conn, a, "internal_error", permanent=False)
    assert not await outbound.mark_unsent(conn, a, "invalid_blocks", permanent=True)
    assert not await outbound.mark_response_url_gone(conn, a, "used_url")
    assert not await outbound.mark_unconfirmed(conn, a, "timeout")
    assert not await outbound.mark_posted(conn, a, "1700000000.000999")
    assert not await outbound.release(conn, a)
    row = await state(conn, key)
    assert (row["state"], row["slack_ts"]) == ("posted", "1700000000.000200")
    assert (await claim(conn, key, EXPIRED)).claim is outbound.Claim.DONE


async def test_the_owner_of_a_lease_still_updates_it(conn: asyncpg.Connection) -> None:
    key = "reply:" + uuid.uuid4().hex
    mine = outbound.lease_of(key, await claim(conn, key, LEASE_S))
    assert await outbound.mark_posting(conn, mine)
    assert await outbound.mark_unsent(conn, mine, "internal_error", permanent=False)
    assert (await state(conn, key))["state"] == "retry"
    again = outbound.lease_of(key, await claim(conn, key, LEASE_S))
    assert await outbound.mark_posted(conn, again, "1700000000.000300")
    assert (await state(conn, key))["state"] == "posted"


class Gate:
    """A sleep the test releases: the worker waiting in it stalls until `open()`."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self._open = asyncio.Event()

    async def sleep(self, _seconds: float) -> None:
        self.entered.set()
        await self._open.wait()

    def open(self) -> None:
        self._open.set()


def reply(channel: str, response_url: str) -> ReplyJob:
    return {
        "reply_key": "reply:command:" + uuid.uuid4().hex,
        "channel": channel,
        "thread_ts": None,
        "text": "Commands: help",
        "event_id": None,
        "sent_at": time.time(),
        "response_url": response_url,
    }


def job(payload: ReplyJob, attempt: int = 1) -> QueueJob:
    return QueueJob(1, REPLY, dict(payload), attempt, datetime.now(UTC))


async def test_a_worker_stalled_past_its_lease_does_not_post_again(
    migrated_url: str, conn: asyncpg.Connection, slack: SlackEmulator
) -> None:
    """A stalls in the governor's wait (a GC pause, a frozen node) after claiming the key; B
    takes the key over and answers through the response_url; A wakes up. It must not post."""
    channel = "C" + uuid.uuid4().hex[:10].upper()
    payload = reply(channel, slack.response_url(channel))
    pool = await asyncpg.create_pool(migrated_url, min_size=1, max_size=4)
    http = HttpClient()
    session = aiohttp.ClientSession()
    web = AsyncWebClient(token=TOKEN, base_url=slack.api_url, session=session, retry_handlers=[])
    gate = Gate()

    def poster(lease_s: float, governor: Governor, sleep: Any) -> Poster:
        return Poster(
            client=lambda: web,
            tokens=BotTokens(static=TOKEN),
            pool=lambda: pool,
            http=lambda: http,
            slack_api_url=slack.api_url,
            slack_timeout_s=5.0,
            governor=governor,
            metrics=PostMetrics(CollectorRegistry()),
            lease_s=lease_s,
            max_wait_s=60.0,
            sleep=sleep,
        )

    busy = Governor(channel_rate=0.1, channel_burst=1)
    busy.reserve(channel, time.monotonic())  # A's channel is busy: A waits in the governor
    worker_a = poster(LEASE_S, busy, gate.sleep)
    worker_b = poster(EXPIRED, Governor(), asyncio.sleep)
    try:
        stalled = asyncio.create_task(worker_a.handle(job(payload)))
        await gate.entered.wait()  # A holds the key and sleeps
        await worker_b.handle(job(payload))  # B takes over and posts
        assert (await state(conn, payload["reply_key"]))["state"] == "posted"
        gate.open()
        with pytest.raises(RetryJob, match="another worker"):
            await stalled  # A learns it lost the key before calling Slack
        await worker_a.handle(job(payload, attempt=2))  # A's retry finds the post: done
    finally:
        gate.open()
        await session.close()
        await http.close()
        await pool.close()
    posted = slack.messages(channel, source="api,response_url")
    assert [m["text"] for m in posted] == ["Commands: help"]
    assert len(slack.calls("response_url", channel=channel)) == 1
