"""The outbound log's SQL on a real PostgreSQL: what a crash leaves, what the next run reads.

Real: PostgreSQL and `jeeves.poster.outbound` (migrate, claim, mark_posting, mark_posted).
Faked: the passing of time — a crashed attempt's lease is aged by moving `sending_at` back.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from jeeves.poster import outbound

pytestmark = pytest.mark.integration
LEASE_S = 30.0


@pytest.fixture(name="conn")
async def fixture_conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url)
    await outbound.migrate(conn)
    yield conn
    await conn.close()


async def claim(conn: asyncpg.Connection, key: str, *, posting_now: bool) -> outbound.Claimed:
    return await outbound.claim(
        conn,
        reply_key=key,
        channel="C1",
        thread_ts=None,
        event_id=None,
        lease_s=LEASE_S,
        posting_now=posting_now,
    )


async def crash(conn: asyncpg.Connection, key: str, seconds_ago: float) -> None:
    """The attempt holding `key` died `seconds_ago`: its lease and its call are that old."""
    await conn.execute(
        "UPDATE outbound_messages SET sending_at = sending_at - make_interval(secs => $2), "
        "posting_at = posting_at - make_interval(secs => $2) WHERE reply_key = $1",
        key,
        seconds_ago,
    )


async def posting_at(conn: asyncpg.Connection, key: str) -> float:
    value = await conn.fetchval(
        "SELECT extract(epoch FROM posting_at)::float8 FROM outbound_messages WHERE reply_key = $1",
        key,
    )
    return float(value)


async def test_a_crash_in_flight_leaves_doubt_with_the_time_of_the_call(
    conn: asyncpg.Connection,
) -> None:
    key = "reply:" + uuid.uuid4().hex
    first = await claim(conn, key, posting_now=True)
    assert (first.claim, first.marked, first.uncertain) == (outbound.Claim.SEND, True, False)
    assert (await claim(conn, key, posting_now=True)).claim is outbound.Claim.BUSY
    await crash(conn, key, LEASE_S + 5)
    called_at = await posting_at(conn, key)
    again = await claim(conn, key, posting_now=True)
    assert (again.claim, again.uncertain, again.marked) == (outbound.Claim.SEND, True, True)
    assert again.posting_at == pytest.approx(called_at, abs=1e-3)
    assert again.posting_age_s is not None
    assert again.posting_age_s >= LEASE_S
    # while the doubt lasts, new calls keep the first call's time: a read-back still covers it
    lease = outbound.lease_of(key, again)
    assert await outbound.mark_posting(conn, lease)
    assert await posting_at(conn, key) == pytest.approx(called_at, abs=1e-3)
    assert await outbound.mark_posted(conn, lease, "1700000000.000100")
    assert (await claim(conn, key, posting_now=True)).claim is outbound.Claim.DONE


async def test_a_crash_before_the_call_is_certain(conn: asyncpg.Connection) -> None:
    key = "reply:" + uuid.uuid4().hex
    waiting = await claim(conn, key, posting_now=False)  # the governor made it wait
    assert waiting.marked is False
    await crash(conn, key, LEASE_S + 5)
    again = await claim(conn, key, posting_now=False)
    assert (again.claim, again.uncertain, again.posting_age_s) == (
        outbound.Claim.SEND,
        False,
        None,
    )
    assert await outbound.mark_posting(conn, outbound.lease_of(key, again))
    marked = await conn.fetchrow(
        "SELECT maybe_posted, extract(epoch FROM now() - posting_at)::float8 AS age "
        "FROM outbound_messages WHERE reply_key = $1",
        key,
    )
    assert marked["maybe_posted"] is True
    assert marked["age"] < 5
