"""Messages that change in place: `outbound_versions`, the newest content of a versioned key.

A reply job may carry a `version` (see `jeeves.kit.jobs.ReplyJob`): the same reply key then
names ONE Slack message whose content moves forward (an alert group: firing → acknowledged →
resolved). The outbound log (`jeeves.poster.outbound`) still guarantees that the key is posted
once; this table adds what the message should show:

- `offer(conn, job)`: every versioned job first records its content when it is newer than what
  the table holds (`version` only grows) and gets back the newest known content. Whichever job
  posts the message posts that newest content, so jobs may run in any order.
- `applied`: the version Slack shows, recorded after chat.postMessage / chat.update succeeded.
  A job whose key is already posted edits the message (chat.update) only while `applied` is
  behind `version`; otherwise it is a duplicate and does nothing.
- `lock(conn, key)`: editors of one key take its row with `FOR UPDATE SKIP LOCKED` inside a
  transaction held across the chat.update call, so two edits never interleave (an older
  content landing last); a job that finds the row taken is deferred, never blocked.

A crash after chat.update and before `applied` is recorded re-runs the edit with the same (or
newer) content: chat.update is idempotent, so nothing doubles. Kept apart from the outbound log
so the log's own state machine is untouched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import asyncpg

from jeeves.kit.jobs import ReplyJob
from jeeves.poster.outbound import SCHEMA_LOCK

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbound_versions (
    reply_key   text PRIMARY KEY,
    version     bigint NOT NULL,
    text        text NOT NULL,
    blocks      jsonb,
    applied     bigint NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
"""


@dataclass(frozen=True)
class Content:
    """The newest content known for a versioned key, and the version Slack shows."""

    version: int
    text: str
    blocks: list[dict[str, Any]] | None
    applied: int

    @property
    def behind(self) -> bool:
        return self.applied < self.version


@dataclass(frozen=True)
class Target:
    """A locked key ready to edit: its newest content and where the message is."""

    content: Content
    channel: str
    ts: str | None


def _content(row: asyncpg.Record) -> Content:
    blocks = row["blocks"]
    decoded = json.loads(blocks) if isinstance(blocks, str) else blocks
    return Content(int(row["version"]), str(row["text"]), decoded, int(row["applied"]))


def newest(job: ReplyJob, content: Content) -> ReplyJob:
    """`job` carrying the newest known content instead of its own (pure)."""
    return {**job, "text": content.text, "blocks": content.blocks, "version": content.version}


async def migrate(conn: asyncpg.Connection) -> None:
    """Create the table (idempotent, safe to run concurrently: the outbound log's lock)."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", SCHEMA_LOCK)
        await conn.execute(SCHEMA)


async def offer(conn: asyncpg.Connection | asyncpg.Pool, job: ReplyJob) -> Content:
    """Record `job`'s content if it is newer than the stored one; the newest content after."""
    row = await conn.fetchrow(
        "INSERT INTO outbound_versions AS v (reply_key, version, text, blocks) "
        "VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT (reply_key) DO UPDATE SET "
        "version = EXCLUDED.version, text = EXCLUDED.text, blocks = EXCLUDED.blocks, "
        "updated_at = now() WHERE v.version < EXCLUDED.version "
        "RETURNING version, text, blocks, applied",
        job["reply_key"],
        job.get("version"),
        job["text"],
        json.dumps(job.get("blocks")) if job.get("blocks") is not None else None,
    )
    if row is None:  # an older or equal version: the stored content stands
        row = await conn.fetchrow(
            "SELECT version, text, blocks, applied FROM outbound_versions WHERE reply_key = $1",
            job["reply_key"],
        )
    return _content(row)


async def lock(conn: asyncpg.Connection, reply_key: str) -> Target | None:
    """Take the key for an edit (inside the caller's transaction); None while another worker
    edits it. The key must be posted (the caller saw `Claim.DONE`)."""
    row = await conn.fetchrow(
        "SELECT v.version, v.text, v.blocks, v.applied, o.channel, o.slack_ts "
        "FROM outbound_versions v JOIN outbound_messages o USING (reply_key) "
        "WHERE v.reply_key = $1 FOR UPDATE OF v SKIP LOCKED",
        reply_key,
    )
    if row is None:
        return None
    return Target(_content(row), str(row["channel"]), row["slack_ts"])


async def mark_applied(
    conn: asyncpg.Connection | asyncpg.Pool, reply_key: str, version: int
) -> None:
    """Slack shows `version` now (never moves back)."""
    await conn.execute(
        "UPDATE outbound_versions SET applied = GREATEST(applied, $2) WHERE reply_key = $1",
        reply_key,
        version,
    )
