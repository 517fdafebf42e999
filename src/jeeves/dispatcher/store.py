"""The dispatcher's table, `dispatch_attempts`: one row per attempt to handle an event.

Every attempt is recorded with its action, outcome, HTTP status and latency. At most one row per
event is `final` (a partial unique index): it is written in the same statement as the jobs that
follow from it — the reply, and the audit record of an action run — (`finish`), so a job that
runs again after a crash — between that commit and the queue's acknowledgement — finds the
final row and enqueues nothing twice.

`migrate` also creates the tables of `pending` (runs waiting for a confirmation or approval) and
`ticks` (the schedule ledger).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg

from jeeves.dispatcher import pending, ticks
from jeeves.kit.jobs import AUDIT, REPLY
from jeeves.kit.queue import ENQUEUE_FUNCTION, encode_payload, enqueue, job_headers

SCHEMA_LOCK = 7_203_411  # advisory lock id serialising concurrent `migrate` runs

SCHEMA = """
CREATE TABLE IF NOT EXISTS dispatch_attempts (
    id          bigserial PRIMARY KEY,
    event_id    text NOT NULL,
    job_id      bigint,
    attempt     integer NOT NULL,
    action      text NOT NULL,
    outcome     text NOT NULL,
    final       boolean NOT NULL,
    status      integer,
    latency_ms  double precision NOT NULL,
    detail      text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS dispatch_attempts_event_idx ON dispatch_attempts (event_id);
CREATE INDEX IF NOT EXISTS dispatch_attempts_created_idx ON dispatch_attempts (created_at);
CREATE UNIQUE INDEX IF NOT EXISTS dispatch_attempts_final_idx
    ON dispatch_attempts (event_id) WHERE final;
"""

_INSERT = """
INSERT INTO dispatch_attempts
    (event_id, job_id, attempt, action, outcome, final, status, latency_ms, detail)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (event_id) WHERE final DO NOTHING
RETURNING id
"""


# The final outcome and the jobs following from it in ONE statement (one round trip, atomic):
# the attempt row is written unless the event already has a final one, and only then are the
# jobs queued (`$9` entrypoints, `$10` payloads), through `jeeves_enqueue` (pgqueuer's own
# enqueue; see jeeves.kit.queue).
_FINISH = f"""
WITH attempt AS (
    INSERT INTO dispatch_attempts
        (event_id, job_id, attempt, action, outcome, final, status, latency_ms, detail)
    VALUES ($1, $2, $3, $4, $5, true, $6, $7, $8)
    ON CONFLICT (event_id) WHERE final DO NOTHING
    RETURNING id
), queued AS (
    SELECT {ENQUEUE_FUNCTION}(
        array_fill(0, ARRAY[cardinality($9::text[])]), $9::text[], $10::bytea[],
        array_fill('0'::interval, ARRAY[cardinality($9::text[])]),
        array_fill(NULL::text, ARRAY[cardinality($9::text[])]),
        array_fill($11::jsonb, ARRAY[cardinality($9::text[])])
    )
    FROM attempt WHERE cardinality($9::text[]) > 0
)
SELECT (SELECT count(*) FROM attempt) AS recorded, (SELECT count(*) FROM queued) AS queued
"""  # noqa: S608 - built from constants only


@dataclass(frozen=True)
class Attempt:
    """One attempt at an event, as recorded."""

    event_id: str
    job_id: int | None
    attempt: int
    action: str
    outcome: str
    final: bool
    status: int | None
    latency_ms: float
    detail: str = ""


async def migrate(conn: asyncpg.Connection) -> None:
    """Create the dispatcher's tables and indexes (idempotent, safe to run concurrently)."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", SCHEMA_LOCK)
        await conn.execute(SCHEMA)
        await conn.execute(pending.SCHEMA)
        await conn.execute(ticks.SCHEMA)


async def record(conn: asyncpg.Connection | asyncpg.Pool, attempt: Attempt) -> bool:
    """Insert `attempt`; False when it is final and the event already had a final row."""
    row_id = await conn.fetchval(
        _INSERT,
        attempt.event_id,
        attempt.job_id,
        attempt.attempt,
        attempt.action,
        attempt.outcome,
        attempt.final,
        attempt.status,
        attempt.latency_ms,
        attempt.detail[:500],
    )
    return row_id is not None


async def finish(
    conn: asyncpg.Connection | asyncpg.Pool,
    attempt: Attempt,
    reply: Mapping[str, Any] | None,
    request_id: str | None,
    audit: Mapping[str, Any] | None = None,
) -> bool:
    """Record the final `attempt` and queue `reply` and `audit` (when given) atomically; False
    when the event already had its final row (then nothing is written and nothing queued)."""
    jobs = [(REPLY, reply), (AUDIT, audit)]
    entrypoints = [name for name, payload in jobs if payload is not None]
    payloads = [encode_payload(payload) for _, payload in jobs if payload is not None]
    row = await conn.fetchrow(
        _FINISH,
        attempt.event_id,
        attempt.job_id,
        attempt.attempt,
        attempt.action,
        attempt.outcome,
        attempt.status,
        attempt.latency_ms,
        attempt.detail[:500],
        entrypoints,
        payloads,
        job_headers(request_id),
    )
    return bool(row["recorded"])


async def record_last_failure(
    pool: asyncpg.Pool, attempt: Attempt, audit: Mapping[str, Any] | None
) -> None:
    """The last attempt failed (the job becomes a dead letter): its row and, for an action
    run, its audit record, together."""
    async with pool.acquire() as conn, conn.transaction():
        await record(conn, attempt)
        if audit is not None:
            await enqueue(conn, AUDIT, audit)


async def is_finished(conn: asyncpg.Connection | asyncpg.Pool, event_id: str) -> bool:
    """True when the event already has its final outcome recorded."""
    found = await conn.fetchval(
        "SELECT 1 FROM dispatch_attempts WHERE event_id = $1 AND final", event_id
    )
    return found is not None


async def attempts_of(conn: asyncpg.Connection | asyncpg.Pool, event_id: str) -> list[Attempt]:
    """Every recorded attempt at `event_id`, oldest first."""
    rows = await conn.fetch(
        "SELECT event_id, job_id, attempt, action, outcome, final, status, latency_ms, detail "
        "FROM dispatch_attempts WHERE event_id = $1 ORDER BY id",
        event_id,
    )
    return [Attempt(**dict(row)) for row in rows]
