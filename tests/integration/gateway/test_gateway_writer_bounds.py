"""The gateway's group-commit writer under a hung database and a crashing writer task.

Real: PostgreSQL; the `jeeves-gateway` process (signed requests over HTTP) and, for the crash,
an in-process `EventWriter` on a real asyncpg pool. A hung database is made for real: another
connection holds an exclusive lock on the inbound event table, so every insert waits on it.
Faked: Slack — requests are signed here (`test_gateway_outage.signed_post`).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import asyncpg
import pytest
from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs
from test_gateway_outage import SECRET, signed_post

from jeeves.kit.jobs import DispatchJob
from jeeves.kit.slack.inbound import EventWriter
from support.jobs import dispatch_job
from support.services import ServiceProcess, http_json, migrate

pytestmark = pytest.mark.integration
BACKLOG = 4


@pytest.fixture(name="migrated_url", scope="module")
def fixture_migrated_url(database_url: str) -> str:
    migrate("jeeves-gateway", database_url)
    return database_url


@pytest.fixture(name="gateway", scope="module")
def fixture_gateway(migrated_url: str) -> Iterator[ServiceProcess]:
    service = ServiceProcess(
        "jeeves-gateway",
        {
            "JEEVES_DATABASE_URL": migrated_url,
            "JEEVES_SLACK_SIGNING_SECRET": SECRET,
            "JEEVES_INGEST_WRITERS": "1",
            "JEEVES_INGEST_MAX_BATCH": "1",
            "JEEVES_INGEST_BACKLOG": str(BACKLOG),
            "JEEVES_INGEST_TIMEOUT_S": "20",
        },
    )
    try:
        yield service.start()
    finally:
        service.close()


def mention(event_id: str) -> bytes:
    return json.dumps(
        {
            "type": "event_callback",
            "team_id": "T1",
            "event_id": event_id,
            "event": {"type": "app_mention", "user": "U1", "text": "hi", "ts": "1.1",
                      "channel": "C1"},
        }
    ).encode()  # fmt: skip


def metric(url: str, name: str) -> float:
    _, text = http_json("GET", url + "/metrics")
    for line in str(text).splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


async def test_a_hung_database_fills_the_backlog_then_slack_is_told_to_retry(
    gateway: ServiceProcess, migrated_url: str
) -> None:
    """The waiting line is bounded: once it is full, a request is answered 503 at once (Slack
    retries it), never queued without limit in memory while the database hangs."""
    ids = [f"EvHUNG{n}-{uuid.uuid4().hex[:6]}" for n in range(BACKLOG + 4)]
    locker = await asyncpg.connect(migrated_url)
    transaction = locker.transaction()
    await transaction.start()
    await locker.execute("LOCK TABLE gateway_inbound_events IN ACCESS EXCLUSIVE MODE")
    url = gateway.url + "/slack/events"
    with ThreadPoolExecutor(max_workers=len(ids)) as threads:
        waiting = [threads.submit(signed_post, url, mention(i)) for i in ids[: BACKLOG + 1]]
        await wait_until_backlogged(gateway.url)
        started = time.monotonic()
        refused = [signed_post(url, mention(i)) for i in ids[BACKLOG + 1 :]]
        refused_in = time.monotonic() - started
        await transaction.rollback()  # the database answers again
        await locker.close()
        stored = [future.result(timeout=30) for future in waiting]
    assert [status for status, _ in stored] == [200] * (BACKLOG + 1)
    assert {(s, body["error"]["code"]) for s, body in refused} == {(503, "overloaded")}
    assert refused_in < 10, "refused at once, not after the ingest timeout"
    assert metric(gateway.url, "jeeves_gateway_backlog_full_total") == len(refused)


async def wait_until_backlogged(url: str) -> None:
    for _ in range(400):
        if metric(url, "jeeves_gateway_backlog_events") >= BACKLOG:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the backlog never filled")


@pytest.fixture(name="pool")
async def fixture_pool(migrated_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(migrated_url, min_size=1, max_size=2)
    yield pool
    await pool.close()


def job(event_id: str) -> DispatchJob:
    return dispatch_job(event_id, received_at=time.time())


async def test_a_writer_task_that_crashes_is_logged_and_replaced(pool: asyncpg.Pool) -> None:
    """A failure outside the database write (here: a job without its event_id reaching the
    writer) must not kill the writer silently, leaving every later event to time out."""
    registry = CollectorRegistry()
    writer = EventWriter(lambda: pool, registry, writers=1, max_batch=1, backlog=10)
    writer.start()
    broken = cast(DispatchJob, {k: v for k, v in job("x").items() if k != "event_id"})
    try:
        with capture_logs() as logged:
            with pytest.raises(KeyError):
                await writer.submit(broken, timeout_s=5)
            good = "EvAFTER-" + uuid.uuid4().hex[:6]
            assert await writer.submit(job(good), timeout_s=5) is True
    finally:
        await writer.stop(grace_s=1)
    crashes: list[dict[str, Any]] = [r for r in logged if r["event"] == "event_writer_crashed"]
    assert len(crashes) == 1
    assert crashes[0]["log_level"] == "error"
    assert registry.get_sample_value("jeeves_gateway_writer_restarts_total") == 1
