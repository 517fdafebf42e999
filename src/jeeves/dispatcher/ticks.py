"""The schedule ledger: exactly one run per tick, across every dispatcher replica.

Two tables in the dispatcher's database:
- `schedule_state (key, spec, last_tick)`: per schedule (`action:<name>`, or
  `alert:<action>:<team>:<user>` for a user's daily alert), the last tick that was run, and
  the expression it was computed from (`cron|timezone`);
- `schedule_runs (key, tick)`: one row per run, for history and tests.

`claim` is ONE statement: a compare-and-set that moves `last_tick` forward only if it is still
behind the tick, the ledger row, and the `dispatch` job (through `jeeves_enqueue`) — so the job
exists exactly when the claim committed. Replicas racing for the same tick serialise on the
state row and only the first moves it; the others change nothing. The run itself then goes
through the durable queue like any message: retried on failure, dead-lettered at the end.

`seed` starts a schedule at the newest tick that has already passed (a new or changed schedule
does not catch up on ticks from before it existed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from jeeves.kit.jobs import DISPATCH
from jeeves.kit.queue import ENQUEUE_FUNCTION, encode_payload, job_headers

SCHEMA = """
CREATE TABLE IF NOT EXISTS schedule_state (
    key         text PRIMARY KEY,
    spec        text NOT NULL,
    last_tick   timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS schedule_runs (
    key         text NOT NULL,
    tick        timestamptz NOT NULL,
    missed      integer NOT NULL,
    event_id    text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (key, tick)
);
CREATE INDEX IF NOT EXISTS schedule_runs_created_idx ON schedule_runs (created_at);
"""

_CLAIM = f"""
WITH moved AS (
    UPDATE schedule_state SET last_tick = $2, updated_at = now()
    WHERE key = $1 AND spec = $3 AND last_tick < $2
    RETURNING key
), ran AS (
    INSERT INTO schedule_runs (key, tick, missed, event_id)
    SELECT $1, $2, $4, $5 FROM moved
    ON CONFLICT DO NOTHING
    RETURNING key
), queued AS (
    SELECT {ENQUEUE_FUNCTION}(
        ARRAY[0], ARRAY['{DISPATCH}'::text], ARRAY[$6::bytea], ARRAY['0'::interval],
        ARRAY[NULL::text], ARRAY[$7::jsonb]
    )
    FROM ran
)
SELECT count(*) AS queued FROM queued
"""  # noqa: S608 - built from constants only


@dataclass(frozen=True)
class TickState:
    spec: str
    last_tick: datetime


async def states(conn: asyncpg.Connection | asyncpg.Pool) -> dict[str, TickState]:
    rows = await conn.fetch("SELECT key, spec, last_tick FROM schedule_state")
    return {row["key"]: TickState(row["spec"], row["last_tick"]) for row in rows}


async def seed(
    conn: asyncpg.Connection | asyncpg.Pool, key: str, spec: str, tick: datetime
) -> None:
    """Start (or restart, when its expression changed) a schedule at `tick`."""
    await conn.execute(
        "INSERT INTO schedule_state (key, spec, last_tick) VALUES ($1, $2, $3) "
        "ON CONFLICT (key) DO UPDATE SET spec = EXCLUDED.spec, last_tick = EXCLUDED.last_tick, "
        "updated_at = now() WHERE schedule_state.spec <> EXCLUDED.spec",
        key,
        spec,
        tick,
    )


async def claim(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    key: str,
    spec: str,
    tick: datetime,
    missed: int,
    job: Mapping[str, Any],
    request_id: str | None = None,
) -> bool:
    """Run `tick` of `key` by queueing `job`, unless another replica already did; True when
    this call claimed it."""
    queued = await conn.fetchval(
        _CLAIM,
        key,
        tick,
        spec,
        missed,
        str(job["event_id"]),
        encode_payload(job),
        job_headers(request_id),
    )
    return bool(queued)


async def runs(conn: asyncpg.Connection | asyncpg.Pool, key: str) -> list[tuple[datetime, int]]:
    """Every recorded run of `key`: (tick, missed), oldest first."""
    rows = await conn.fetch(
        "SELECT tick, missed FROM schedule_runs WHERE key = $1 ORDER BY tick", key
    )
    return [(row["tick"], row["missed"]) for row in rows]


async def prune(conn: asyncpg.Connection | asyncpg.Pool, keep_days: int) -> int:
    """Forget ledger rows older than `keep_days` (the state rows keep the last tick)."""
    done = await conn.execute(
        "DELETE FROM schedule_runs WHERE created_at < now() - make_interval(days => $1)",
        keep_days,
    )
    return int(done.split()[-1]) if done.startswith("DELETE") else 0
