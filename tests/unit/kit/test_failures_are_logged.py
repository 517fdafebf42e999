"""Failures that background loops survive are logged with their message, not swallowed or cut
down to a type name (an operator needs "connection refused to db:5432", not "OSError").

Real: the kit's `QueueWorker` and the gateway's `EventWriter` pointed at a loopback port nothing
listens on (asyncpg gets a real connection refusal). Logs are captured with structlog's
`capture_logs`; nothing else is faked.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import pytest
from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from jeeves.kit.queue import QueueWorker, WorkerOptions
from jeeves.kit.slack.inbound import EventWriter
from jeeves.localstack.ports import free_port

pytestmark = pytest.mark.unit


async def until_logged(logged: list[dict[str, Any]], event: str) -> dict[str, Any]:
    for _ in range(200):
        found = [r for r in logged if r["event"] == event]
        if found:
            return found[0]
        await asyncio.sleep(0.02)
    raise AssertionError(f"{event} was never logged: {[r['event'] for r in logged]}")


async def test_the_queue_depth_gauge_logs_why_it_cannot_refresh() -> None:
    port = free_port()
    worker = QueueWorker(
        f"postgresql://jeeves@127.0.0.1:{port}/jeeves",
        {"dispatch": lambda _job: asyncio.sleep(0)},
        WorkerOptions(shutdown_grace_s=1),
        CollectorRegistry(),
    )
    with capture_logs() as logged:
        worker.start()
        try:
            record = await until_logged(logged, "queue_depth_failed")
        finally:
            await worker.stop()
    assert record["log_level"] == "warning"
    assert "ConnectionRefusedError" in record["error"]
    assert str(port) in record["error"]  # the message, not only the type


async def test_the_gateway_logs_why_an_event_was_not_written() -> None:
    port = free_port()
    pool = await asyncpg.create_pool(f"postgresql://jeeves@127.0.0.1:{port}/jeeves", min_size=0)
    writer = EventWriter(lambda: pool, CollectorRegistry(), writers=1)
    writer.start()
    job: Any = {"event_id": "Ev1", "kind": "message", "team_id": "T", "user_id": "U",
                "channel": "C", "ts": "1.1", "thread_ts": None, "text": "", "received_at":
                time.time()}  # fmt: skip
    try:
        with capture_logs() as logged, pytest.raises(ConnectionRefusedError):
            await writer.submit(job, timeout_s=10)
    finally:
        await writer.stop(grace_s=1)
        await pool.close()
    [record] = [r for r in logged if r["event"] == "event_write_failed"]
    assert str(port) in record["error"]
