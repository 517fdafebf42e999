"""The outbound log, `outbound_messages`: one row per reply key, never two Slack messages per key.

Each reply key moves through `sending` → `posted` (or `retry` → `sending` again, or `failed`):

1. *Intent.* Before calling Slack, a worker claims the key in its own committed transaction:
   it inserts the row as `sending`, or moves a `retry`/`failed` row to `sending`. A `posted` key is
   never claimed again, and a `sending` key is left alone while its lease (`sending_at` + lease)
   runs, so two jobs carrying one key cannot post concurrently.
2. *Result.* As soon as Slack answers, the row becomes `posted` (with the message ts), `retry`
   (Slack answered an error: nothing was posted) or `failed` (a permanent error).
3. Only then does the queue acknowledge the job. A crash between 2 and 3 re-runs the job, which
   finds `posted` and does nothing: that crash can no longer produce a second message.

The remaining window: a crash (or a lost connection) after Slack accepted the message and
before step 2 committed — a few milliseconds per message. The row is then still `sending`;
when its lease expires the job's next run cannot know whether Slack has the message, and
posts it again (at-least-once wins over losing a reply). Slack's chat.postMessage has no
idempotency key; closing this window needs a read-back (conversations.history looking for the
reply key in message metadata), which the emulator does not offer yet. A 5xx or a timeout
from Slack leaves the same doubt and is treated the same way: retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import asyncpg

SCHEMA_LOCK = 7_203_412  # advisory lock id serialising concurrent `migrate` runs

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbound_messages (
    reply_key   text PRIMARY KEY,
    channel     text NOT NULL,
    thread_ts   text,
    event_id    text,
    state       text NOT NULL CHECK (state IN ('sending', 'retry', 'posted', 'failed')),
    attempts    integer NOT NULL DEFAULT 1,
    slack_ts    text,
    last_error  text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    sending_at  timestamptz,
    posted_at   timestamptz
);
CREATE INDEX IF NOT EXISTS outbound_messages_event_idx ON outbound_messages (event_id);
CREATE INDEX IF NOT EXISTS outbound_messages_state_idx ON outbound_messages (state)
    WHERE state <> 'posted';
"""


class Claim(StrEnum):
    """What a worker may do with a reply key."""

    SEND = "send"  # the key is ours: post it
    DONE = "done"  # already posted: acknowledge and do nothing
    BUSY = "busy"  # another worker holds a live lease: look again later


@dataclass(frozen=True)
class Claimed:
    claim: Claim
    attempts: int = 0
    uncertain: bool = False  # a previous run may have posted (its lease expired mid-send)
    lease_left_s: float = 0.0


def decide(state: str, lease_age_s: float | None, lease_s: float) -> Claim:
    """Whether an existing row may be (re)claimed (pure)."""
    if state == "posted":
        return Claim.DONE
    if state == "sending" and lease_age_s is not None and lease_age_s < lease_s:
        return Claim.BUSY
    return Claim.SEND


async def migrate(conn: asyncpg.Connection) -> None:
    """Create the outbound log (idempotent, safe to run concurrently)."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", SCHEMA_LOCK)
        await conn.execute(SCHEMA)


async def claim(
    conn: asyncpg.Connection,
    *,
    reply_key: str,
    channel: str,
    thread_ts: str | None,
    event_id: str | None,
    lease_s: float,
) -> Claimed:
    """Step 1: take the key for one send attempt (committed before Slack is called)."""
    async with conn.transaction():
        inserted = await conn.fetchval(
            "INSERT INTO outbound_messages (reply_key, channel, thread_ts, event_id, state, "
            "sending_at) VALUES ($1, $2, $3, $4, 'sending', now()) "
            "ON CONFLICT (reply_key) DO NOTHING RETURNING attempts",
            reply_key,
            channel,
            thread_ts,
            event_id,
        )
        if inserted is not None:
            return Claimed(Claim.SEND, attempts=int(inserted))
        row = await conn.fetchrow(
            "SELECT state, attempts, extract(epoch FROM now() - sending_at)::float8 AS age "
            "FROM outbound_messages WHERE reply_key = $1 FOR UPDATE",
            reply_key,
        )
        state, age = str(row["state"]), row["age"]
        decision = decide(state, age, lease_s)
        if decision is Claim.BUSY:
            return Claimed(Claim.BUSY, lease_left_s=max(0.0, lease_s - float(age)))
        if decision is Claim.DONE:
            return Claimed(Claim.DONE, attempts=int(row["attempts"]))
        attempts = await conn.fetchval(
            "UPDATE outbound_messages SET state = 'sending', attempts = attempts + 1, "
            "sending_at = now() WHERE reply_key = $1 RETURNING attempts",
            reply_key,
        )
        return Claimed(Claim.SEND, attempts=int(attempts), uncertain=state == "sending")


async def mark_posted(
    conn: asyncpg.Connection | asyncpg.Pool, reply_key: str, ts: str | None
) -> None:
    """Step 2 on success."""
    await conn.execute(
        "UPDATE outbound_messages SET state = 'posted', slack_ts = $2, posted_at = now(), "
        "last_error = '' WHERE reply_key = $1",
        reply_key,
        ts,
    )


async def mark_unsent(
    conn: asyncpg.Connection | asyncpg.Pool, reply_key: str, error: str, *, permanent: bool
) -> None:
    """Step 2 when Slack refused: `retry` (try again later) or `failed` (dead letter)."""
    await conn.execute(
        "UPDATE outbound_messages SET state = $2, last_error = $3 WHERE reply_key = $1",
        reply_key,
        "failed" if permanent else "retry",
        error[:500],
    )


async def release(conn: asyncpg.Connection | asyncpg.Pool, reply_key: str) -> None:
    """Give the key back without sending (the post was deferred before reaching Slack)."""
    await conn.execute(
        "UPDATE outbound_messages SET state = 'retry' WHERE reply_key = $1 AND state = 'sending'",
        reply_key,
    )
