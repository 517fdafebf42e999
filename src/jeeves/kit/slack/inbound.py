"""The inbound event log and the group-commit writer that fills it.

`gateway_inbound_events` holds one row per accepted Slack event, keyed by `event_id` (the dedup
key: a Slack retry of a stored event inserts nothing). `EventWriter` collects the events of
concurrent requests and writes each group in ONE statement (so one round trip, atomic): a
multi-row insert that skips known event ids, and a batch enqueue (`jeeves_enqueue`, pgqueuer's
own enqueue) of a `dispatch` job for every row that was new. Every
request awaits the outcome of its own event: accepted, or duplicate.

Both Slack ingresses write here — the HTTP gateway and the Socket Mode client (`jeeves-socket`)
— so an event is stored and dispatched once whichever door, connection or replica it came
through. The table and metric names keep the gateway's prefix they were born with.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg
from prometheus_client import CollectorRegistry, Histogram

from jeeves.kit.context import current_request_id
from jeeves.kit.jobs import DISPATCH, DispatchJob
from jeeves.kit.logging import get_logger
from jeeves.kit.queue import ENQUEUE_FUNCTION, encode_payload, job_headers

log = get_logger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS gateway_inbound_events (
    event_id    text PRIMARY KEY,
    kind        text NOT NULL,
    team_id     text NOT NULL,
    user_id     text NOT NULL,
    channel     text NOT NULL,
    body        jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS gateway_inbound_events_received_at
    ON gateway_inbound_events (received_at);
"""

# One statement, so one round trip and atomic: store the events whose event_id is new, and queue
# one dispatch job for each of them through `jeeves_enqueue` (pgqueuer's own enqueue).
STORE_AND_ENQUEUE = f"""
WITH input AS (
    SELECT * FROM unnest(
        $1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::bytea[],
        $8::jsonb[]
    ) AS t(event_id, kind, team_id, user_id, channel, body, payload, headers)
), new AS (
    INSERT INTO gateway_inbound_events (event_id, kind, team_id, user_id, channel, body)
    SELECT event_id, kind, team_id, user_id, channel, body FROM input
    ON CONFLICT (event_id) DO NOTHING
    RETURNING event_id
), queued AS (
    SELECT {ENQUEUE_FUNCTION}(
        array_agg(0), array_agg('{DISPATCH}'::text), array_agg(i.payload),
        array_agg('0'::interval), array_agg(NULL::text), array_agg(i.headers)
    )
    FROM new JOIN input i USING (event_id)
    HAVING count(*) > 0
)
SELECT array(SELECT event_id FROM new) AS inserted, (SELECT count(*) FROM queued) AS queued
"""  # noqa: S608 - built from constants only

BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


async def create_tables(conn: asyncpg.Connection) -> None:
    """The gateway's own tables (idempotent); the queue schema is installed before them."""
    await conn.execute(SCHEMA)


@dataclass
class _Pending:
    job: DispatchJob
    request_id: str | None
    done: asyncio.Future[bool] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


PRUNE_EVENTS = """
WITH doomed AS (
    SELECT event_id FROM gateway_inbound_events
    WHERE received_at < now() - $1::interval
    ORDER BY received_at
    LIMIT $2
)
DELETE FROM gateway_inbound_events e USING doomed WHERE e.event_id = doomed.event_id
"""
PRUNE_LOCK = "SELECT pg_try_advisory_xact_lock(hashtext('jeeves.gateway.prune'))"
PRUNE_INTERVAL_S = 3600.0


async def prune_events(conn: asyncpg.Connection, older_than: timedelta, batch: int = 5000) -> int:
    """Delete inbound events received more than `older_than` ago (their event ids stop being
    dedup keys); one process at a time (advisory lock), in batches. Returns rows deleted."""
    deleted = 0
    while True:
        async with conn.transaction():
            if not await conn.fetchval(PRUNE_LOCK):
                return deleted  # another gateway process is pruning
            status = await conn.execute(PRUNE_EVENTS, older_than, batch)
        count = int(status.split()[-1])
        deleted += count
        if count < batch:
            return deleted


class EventPruner:
    """Runs `prune_events` now and then while the gateway serves (retention of dedup keys)."""

    def __init__(self, pool: Callable[[], asyncpg.Pool], retention: timedelta) -> None:
        self._pool = pool
        self._retention = retention
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="gateway-prune")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(random.uniform(0.5, 1.0) * PRUNE_INTERVAL_S)
            try:
                async with self._pool().acquire() as conn:
                    deleted = await prune_events(conn, self._retention)
                log.info("inbound_events_pruned", deleted=deleted)
            except Exception as exc:
                log.warning("inbound_events_prune_failed", error=type(exc).__name__)


class WriterMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.batch = Histogram(
            "jeeves_gateway_commit_batch_events",
            "Events written per group commit",
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self.commit = Histogram(
            "jeeves_gateway_commit_seconds",
            "Time to write one group of events and their dispatch jobs",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
            registry=registry,
        )


class EventWriter:
    """Group commit: `writers` transactions in flight, each taking every event waiting."""

    def __init__(
        self,
        pool: Callable[[], asyncpg.Pool],
        registry: CollectorRegistry,
        *,
        writers: int = 4,
        max_batch: int = 256,
        linger_s: float = 0.0,
    ) -> None:
        self._pool = pool
        self._metrics = WriterMetrics(registry)
        self._writers = writers
        self._max_batch = max_batch
        self._linger_s = linger_s
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._run(), name=f"gateway-writer-{i}")
            for i in range(self._writers)
        ]

    async def stop(self, grace_s: float = 5.0) -> None:
        """Write what is waiting (up to `grace_s`), then stop the writer tasks."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), grace_s)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def submit(self, job: DispatchJob, timeout_s: float) -> bool:
        """Store `job` and queue its dispatch; True when new, False when event_id was known.

        TimeoutError after `timeout_s` (the event may still be written later; a Slack retry of
        it is then a duplicate). A timer rather than `asyncio.wait_for`: no task per request.
        """
        pending = _Pending(job, current_request_id())
        self._queue.put_nowait(pending)
        timer = asyncio.get_running_loop().call_later(timeout_s, _expire, pending.done)
        try:
            return await pending.done
        finally:
            timer.cancel()

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            if self._linger_s:
                await asyncio.sleep(self._linger_s)
            batch = [first]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._write_batch(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _write_batch(self, batch: list[_Pending]) -> None:
        started = time.perf_counter()
        unique, repeats = split_repeats(batch)
        try:
            inserted = await self._write(unique)
        except Exception as exc:
            log.warning("event_write_failed", events=len(batch), error=type(exc).__name__)
            for pending in batch:
                if not pending.done.done():
                    pending.done.set_exception(exc)
            return
        for pending in unique:
            if not pending.done.done():
                pending.done.set_result(pending.job["event_id"] in inserted)
        for pending in repeats:
            if not pending.done.done():
                pending.done.set_result(False)
        self._metrics.batch.observe(len(batch))
        self._metrics.commit.observe(time.perf_counter() - started)

    async def _write(self, batch: Sequence[_Pending]) -> set[str]:
        async with self._pool().acquire() as conn:
            row = await conn.fetchrow(STORE_AND_ENQUEUE, *event_columns(batch))
        inserted = set(row["inserted"])
        if row["queued"] != len(inserted):
            raise RuntimeError(f"stored {len(inserted)} events but queued {row['queued']} jobs")
        return inserted


def _expire(done: asyncio.Future[bool]) -> None:
    if not done.done():
        done.set_exception(TimeoutError("event not stored in time"))


def split_repeats(batch: Sequence[_Pending]) -> tuple[list[_Pending], list[_Pending]]:
    """(first occurrence of each event_id, later occurrences within the same batch)."""
    seen: set[str] = set()
    unique: list[_Pending] = []
    repeats: list[_Pending] = []
    for pending in batch:
        event_id = pending.job["event_id"]
        (repeats if event_id in seen else unique).append(pending)
        seen.add(event_id)
    return unique, repeats


def event_columns(batch: Sequence[_Pending]) -> tuple[list[Any], ...]:
    """The column arrays of STORE_AND_ENQUEUE for `batch`."""
    jobs = [pending.job for pending in batch]
    payloads = [encode_payload(job) for job in jobs]
    return (
        [job["event_id"] for job in jobs],
        [job["kind"] for job in jobs],
        [job["team_id"] for job in jobs],
        [job["user_id"] for job in jobs],
        [job["channel"] for job in jobs],
        [payload.decode() for payload in payloads],  # the same JSON, as jsonb
        payloads,
        [job_headers(pending.request_id) for pending in batch],
    )
