"""The dispatcher's `pending_runs` table: runs waiting for a confirmation or an approval.

One row per request that its policy holds back (see `domain/guarding.py` for the states). Rules
that make clicks safe when the queue runs a job twice, two dispatchers handle two clicks at
once, or a button is clicked late:

- `create` is idempotent by the request's event id: a retried job finds the run it made;
- `advance` is a compare-and-set on the state, remembering which click event made the change:
  of two concurrent clicks exactly one wins, and a retried click job finds its own change and
  carries on (so the action is still called after a crash between the change and the call);
- `expire_overdue` moves runs past their deadline to `expired` (returning them, so each is
  audited once, by whichever dispatcher's sweep got it);
- the call (typed params, and the message text of a free-text call) is kept only while the run
  is pending: settling a run clears it.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from jeeves.dispatcher.domain.calls import Call
from jeeves.dispatcher.domain.guarding import State

SCHEMA = """
CREATE TABLE IF NOT EXISTS pending_runs (
    id             text PRIMARY KEY,
    event_id       text NOT NULL UNIQUE,
    action         text NOT NULL,
    call           json,  -- json, not jsonb: params keep their order
    requester      text NOT NULL,
    team_id        text NOT NULL,
    channel        text NOT NULL,
    thread_ts      text,
    trigger        text NOT NULL,
    state          text NOT NULL,
    needs_approval boolean NOT NULL,
    confirm_by     timestamptz,
    approve_by     timestamptz,
    approval_s     integer NOT NULL DEFAULT 3600,
    confirmed_by   text,
    decided_by     text,
    decided_event  text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS pending_runs_open_idx ON pending_runs (state)
    WHERE state IN ('confirm', 'approval');
"""

_COLUMNS = (
    "id, event_id, action, call, requester, team_id, channel, thread_ts, trigger, state, "
    "needs_approval, confirm_by, approve_by, approval_s, confirmed_by, decided_by, decided_event"
)


@dataclass(frozen=True)
class PendingRun:
    id: str
    event_id: str
    action: str
    call: Call | None  # None once settled
    requester: str
    team_id: str
    channel: str
    thread_ts: str | None
    trigger: str
    state: State
    needs_approval: bool
    confirm_by: datetime | None = None
    approve_by: datetime | None = None
    approval_s: int = 3600
    confirmed_by: str | None = None
    decided_by: str | None = None
    decided_event: str | None = None


def _run(row: asyncpg.Record) -> PendingRun:
    data = dict(row)
    raw = data.pop("call")
    call = Call.from_json(json.loads(raw) if isinstance(raw, str) else raw) if raw else None
    return PendingRun(call=call, **{**data, "state": State(data["state"])})


async def create(conn: asyncpg.Connection | asyncpg.Pool, run: PendingRun) -> PendingRun:
    """Store `run` unless its event already has one; the stored run either way."""
    row = await conn.fetchrow(
        f"""
        WITH made AS (
            INSERT INTO pending_runs (id, event_id, action, call, requester, team_id, channel,
                thread_ts, trigger, state, needs_approval, confirm_by, approve_by, approval_s)
            VALUES ($1, $2, $3, $4::json, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
            ON CONFLICT (event_id) DO NOTHING
            RETURNING {_COLUMNS}
        )
        SELECT {_COLUMNS} FROM made
        UNION ALL
        SELECT {_COLUMNS} FROM pending_runs WHERE event_id = $2 AND NOT EXISTS (SELECT 1 FROM made)
        """,  # noqa: S608 - column list is a constant
        run.id,
        run.event_id,
        run.action,
        json.dumps(run.call.to_json()) if run.call else None,
        run.requester,
        run.team_id,
        run.channel,
        run.thread_ts,
        run.trigger,
        run.state.value,
        run.needs_approval,
        run.confirm_by,
        run.approve_by,
        run.approval_s,
    )
    return _run(row)


def new_id() -> str:
    """A run id: unguessable (it is all a button carries)."""
    return secrets.token_urlsafe(18)


async def load(conn: asyncpg.Connection | asyncpg.Pool, run_id: str) -> PendingRun | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM pending_runs WHERE id = $1",  # noqa: S608
        run_id,
    )
    return _run(row) if row is not None else None


def _prefixed(alias: str) -> str:
    """The column list for `alias`, with `call` taken from the row as it was (`o.call`)."""
    return ", ".join(
        "o.call AS call" if c == "call" else f"{alias}.{c}" for c in _COLUMNS.split(", ")
    )


async def advance(
    conn: asyncpg.Connection | asyncpg.Pool,
    run_id: str,
    *,
    from_state: State,
    to_state: State,
    event_id: str,
    **fields: Any,
) -> PendingRun | None:
    """Move the run from `from_state` to `to_state` on behalf of click `event_id`, setting
    `fields` (confirmed_by, decided_by, approve_by). None when another click got there first;
    the run (with its call, even when this change clears it) when this click made — or had
    already made — the change."""
    names = sorted(fields)
    sets = "".join(f", {name} = ${index}" for index, name in enumerate(names, start=5))
    keep = to_state in (State.APPROVAL, State.RUNNING)
    row = await conn.fetchrow(
        f"""
        UPDATE pending_runs p SET state = $3, decided_event = $4, updated_at = now(),
            call = {"p.call" if keep else "NULL"}{sets}
        FROM (SELECT id, call FROM pending_runs WHERE id = $1 FOR UPDATE) o
        WHERE p.id = o.id AND (p.state = $2 OR (p.state = $3 AND p.decided_event = $4))
        RETURNING {_prefixed("p")}
        """,  # noqa: S608 - names come from the keyword arguments of our own callers
        run_id,
        from_state.value,
        to_state.value,
        event_id,
        *(fields[name] for name in names),
    )
    return _run(row) if row is not None else None


async def settle(conn: asyncpg.Connection | asyncpg.Pool, run_id: str) -> None:
    """The action was called and its outcome recorded: forget the call."""
    await conn.execute(
        "UPDATE pending_runs SET state = 'done', call = NULL, updated_at = now() "
        "WHERE id = $1 AND state = 'running'",
        run_id,
    )


async def expire_overdue(
    conn: asyncpg.Connection | asyncpg.Pool, now: datetime, limit: int = 100
) -> list[PendingRun]:
    """Runs past their deadline, moved to `expired` and returned with their call (each by
    exactly one caller: rows another sweep holds are skipped)."""
    rows = await conn.fetch(
        f"""
        UPDATE pending_runs p SET state = 'expired', call = NULL, updated_at = now()
        FROM (
            SELECT id, call FROM pending_runs
            WHERE (state = 'confirm' AND confirm_by < $1)
               OR (state = 'approval' AND approve_by < $1)
            ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED
        ) o
        WHERE p.id = o.id
        RETURNING {_prefixed("p")}
        """,  # noqa: S608
        now,
        limit,
    )
    return [_run(row) for row in rows]
