"""The outbound log, `outbound_messages`: one row per reply key, never two Slack messages per key.

Each reply key moves through `sending` → `posted` (or `retry` → `sending` again, or `failed`):

1. *Intent.* Before anything else, a worker claims the key in its own committed transaction:
   it inserts the row as `sending`, or moves a `retry`/`failed` row to `sending`. A `posted` key is
   never claimed again, and a `sending` key is left alone while its lease (`sending_at` + lease)
   runs, so two jobs carrying one key cannot post concurrently.
2. *About to call Slack.* Before chat.postMessage the row is marked `maybe_posted` (and
   `posting_at`), committed — by the claim itself when the governor lets the post go at once,
   else right after the governor's wait. The mark is sticky until the key is `posted`.
3. *Result.* As soon as Slack answers, the row becomes `posted` (with the message ts), `retry`
   (Slack answered an error: nothing was posted) or `failed` (a permanent error).
4. Only then does the queue acknowledge the job. A crash between 3 and 4 re-runs the job, which
   finds `posted` and does nothing.

Every update after the claim is *fenced* (`Lease`): it applies only while the row is still
`sending` with the `attempts` value this worker's claim wrote. A worker that outlived its lease
(a stall longer than `post_lease_s`: another worker has claimed the key since) has every update
refused: it neither calls Slack (step 2 refused) nor overwrites what the new owner recorded (a
late 5xx can no longer flip `posted` back to `retry`, which would post the reply twice).

A crash between 2 and 3 leaves a `sending` row marked `maybe_posted`: Slack may or may not have
the message. When its lease expires the next run first *reads back*
(`jeeves.poster.domain.read_back`): every post carries message metadata `jeeves_reply` with its
reply key, so conversations.replies (threaded replies) or conversations.history, from a minute
before the first unconfirmed call (`posting_at`, kept while the doubt lasts) until now, with
`include_all_metadata`, shows whether it landed. Found → the key is recorded `posted` with that
ts and nothing is sent; provably absent (every page of the window read) → the reply is posted.
A 5xx or a timeout from Slack leaves the same doubt and goes the same way. A read-back never
runs sooner than a lease after the unconfirmed call (the call may still be landing), and Slack
being unable to answer it (429, 5xx, timeout) sends the job back to the queue to ask again. A
crash during the governor's wait (before 2) is certain: nothing was sent, the next run posts.

Cost: nothing for a post that Slack confirmed; one conversations.* call per unconfirmed key
(more only when over 200 messages landed in its window), so a crash costs at most one call per
job that was in flight (the queue's concurrency).

What remains (each one posts again rather than risk losing the reply):
- *unverifiable*: Slack refuses the question itself (`missing_scope` — the bot needs
  `channels:history`/`groups:history`/`im:history`; `not_in_channel`; `thread_not_found` after
  the parent was deleted; a Slack stand-in without the methods), the window holds more than
  `MAX_PAGES` pages, or Slack stays busy through the job's last attempt. Counted as
  `jeeves_poster_posts_total{outcome="resent_unverified"}` and logged `reply_read_back_failed`;
- *late landing*: a message Slack stores more than a lease after the call was sent (the client
  gave up long before), or one not yet visible to conversations.* when read, is missed;
- *edits*: a reply whose metadata was removed by someone editing it in Slack is not recognised.

**Replies through a `response_url`** (slash commands and clicks; `jeeves.poster.domain.
response_url`). The same log and the same steps hold — claim, mark `maybe_posted` right before
the POST, record the answer — and `via` records the route of the marked call (`response_url` or
`chat`; NULL on rows older than the column, which are `chat`). Once a key is on `chat` it stays
there. What differs is the doubt: a message posted through a response_url carries no metadata
and may be in a channel the bot cannot read, so it **cannot be read back**. The choice, made to
prefer no duplicates: *a response_url call that was never answered is never repeated*. A key
found `maybe_posted` with `via = 'response_url'` (a crash or SIGKILL during the POST), like a
POST that timed out or lost its connection mid-way, is recorded `posted` without a ts and with
`last_error` "unconfirmed: …", counted as `jeeves_poster_posts_total{outcome="unconfirmed"}`
and logged `reply_unconfirmed`; it is not re-sent by either route. The cost is the opposite
risk in that narrow window: a reply Slack never received is lost (a dead letter cannot be
replayed for it either; the log line names the key). Every *answered* call is certain and
clears the doubt (`maybe_posted` back to false): 2xx → `posted`; 404/410, `expired_url`,
`used_url` → the URL is gone, nothing was posted, the key moves to `chat` and chat.postMessage
is tried at once (its usual read-back protection from then on; when it fails too the reply is a
dead letter with Slack's reason); 429 → the channel waits `Retry-After`; 5xx/408 and a
connection that could not be opened → `retry` (nothing was posted: the queue retries it);
other 4xx → dead letter.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeAlias

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
ALTER TABLE outbound_messages ADD COLUMN IF NOT EXISTS maybe_posted boolean NOT NULL DEFAULT false;
ALTER TABLE outbound_messages ADD COLUMN IF NOT EXISTS posting_at timestamptz;
ALTER TABLE outbound_messages ADD COLUMN IF NOT EXISTS via text;
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
    uncertain: bool = False  # an earlier run called Slack without recording the answer
    posting_at: float | None = None  # epoch seconds of that call, where a read-back starts
    posting_age_s: float | None = None  # how long ago that call was made (database clock)
    lease_left_s: float = 0.0
    marked: bool = False  # step 2 already done by this claim
    via: str | None = None  # the route the log holds for the key ('chat', 'response_url')


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
    posting_now: bool = False,
    via: str = "chat",
) -> Claimed:
    """Step 1: take the key for one send attempt (committed before Slack is called).

    `posting_now` also does step 2 in the same statement, for a post that will not wait for
    the governor, by route `via` unless the key already has one. A new key costs one round
    trip; a known key takes a short transaction.
    """
    inserted = await conn.fetchval(
        "INSERT INTO outbound_messages (reply_key, channel, thread_ts, event_id, state, "
        "sending_at, maybe_posted, posting_at, via) VALUES ($1, $2, $3, $4, 'sending', now(), "
        "$5, CASE WHEN $5 THEN now() END, CASE WHEN $5 THEN $6 END) "
        "ON CONFLICT (reply_key) DO NOTHING RETURNING attempts",
        reply_key,
        channel,
        thread_ts,
        event_id,
        posting_now,
        via,
    )
    if inserted is not None:
        return Claimed(
            Claim.SEND, attempts=int(inserted), marked=posting_now, via=via if posting_now else None
        )
    async with conn.transaction():
        row = await conn.fetchrow(
            "SELECT state, attempts, maybe_posted, via, extract(epoch FROM posting_at)::float8 AS "
            "posting_at, extract(epoch FROM now() - posting_at)::float8 AS posting_age, "
            "extract(epoch FROM now() - sending_at)::float8 AS age "
            "FROM outbound_messages WHERE reply_key = $1 FOR UPDATE",
            reply_key,
        )
        decision = decide(str(row["state"]), row["age"], lease_s)
        if decision is Claim.BUSY:
            return Claimed(Claim.BUSY, lease_left_s=max(0.0, lease_s - float(row["age"])))
        if decision is Claim.DONE:
            return Claimed(Claim.DONE, attempts=int(row["attempts"]))
        updated = await conn.fetchrow(
            "UPDATE outbound_messages SET state = 'sending', attempts = attempts + 1, "
            "sending_at = now(), maybe_posted = maybe_posted OR $2, "
            "posting_at = CASE WHEN $2 AND NOT maybe_posted THEN now() ELSE posting_at END, "
            "via = CASE WHEN $2 THEN COALESCE(via, $3) ELSE via END "
            "WHERE reply_key = $1 RETURNING attempts, via",
            reply_key,
            posting_now,
            via,
        )
    return Claimed(
        Claim.SEND,
        attempts=int(updated["attempts"]),
        via=updated["via"],
        uncertain=bool(row["maybe_posted"]),
        posting_at=row["posting_at"],
        posting_age_s=row["posting_age"] if row["maybe_posted"] else None,
        marked=posting_now or bool(row["maybe_posted"]),
    )


@dataclass(frozen=True)
class Lease:
    """One worker's hold on a reply key: the key and the `attempts` value its claim wrote.

    `attempts` is the fencing token: every claim increments it, so an update filtered on
    (`state = 'sending'`, `attempts`) succeeds only for the worker whose claim is the latest
    and still in force. A worker that outlived its lease (another claimed the key meanwhile)
    finds every update refused (False) and must stop: it may not call Slack, nor record what
    its own call did — the new owner decides, from the log and a read-back.
    """

    reply_key: str
    attempt: int


def lease_of(reply_key: str, claimed: Claimed) -> Lease:
    return Lease(reply_key, claimed.attempts)


Executor: TypeAlias = asyncpg.Connection | asyncpg.Pool
FENCE = "reply_key = $1 AND state = 'sending' AND attempts = $2"


async def _fenced(conn: Executor, assignments: str, lease: Lease, *args: object) -> bool:
    """`UPDATE outbound_messages SET <assignments>` for the holder of `lease`; False when the
    lease is no longer held (nothing changed). Extra arguments are $3, $4, …"""
    status = await conn.execute(
        f"UPDATE outbound_messages SET {assignments} WHERE {FENCE}",  # noqa: S608 - constants
        lease.reply_key,
        lease.attempt,
        *args,
    )
    return bool(status == "UPDATE 1")


async def mark_posting(conn: Executor, lease: Lease, via: str = "chat") -> bool:
    """Step 2: Slack is about to be called (sticky until the key is posted; `posting_at` keeps
    the first unconfirmed call, so a later read-back still covers it). `via` is the route,
    kept when the key already has one. False: the lease is lost — do not call Slack."""
    return await _fenced(
        conn,
        "posting_at = CASE WHEN maybe_posted THEN posting_at ELSE now() END, "
        "maybe_posted = true, via = COALESCE(via, $3)",
        lease,
        via,
    )


async def mark_response_url_gone(conn: Executor, lease: Lease, reason: str) -> bool:
    """The response_url answered that it is expired or used up: nothing was posted through it.
    The doubt is cleared and the key moves to chat.postMessage for good."""
    return await _fenced(
        conn,
        "via = 'chat', maybe_posted = false, posting_at = NULL, last_error = $3",
        lease,
        f"response_url gone: {reason}"[:500],
    )


async def mark_unconfirmed(conn: Executor, lease: Lease, reason: str) -> bool:
    """A response_url call whose answer never came: recorded as posted (no ts) so it is never
    repeated — no read-back can tell whether it landed (see the module docstring)."""
    return await _fenced(
        conn,
        "state = 'posted', slack_ts = NULL, posted_at = now(), last_error = $3",
        lease,
        f"unconfirmed: {reason}"[:500],
    )


async def mark_posted(conn: Executor, lease: Lease, ts: str | None) -> bool:
    """Step 3 on success."""
    return await _fenced(
        conn,
        "state = 'posted', slack_ts = $3, posted_at = now(), last_error = ''",
        lease,
        ts,
    )


async def mark_unsent(
    conn: Executor,
    lease: Lease,
    error: str,
    *,
    permanent: bool,
    certain: bool = False,
) -> bool:
    """Step 3 when Slack refused: `retry` (try again later) or `failed` (dead letter).

    `certain`: the answer proves nothing was posted (a response_url's error), so the doubt is
    cleared; chat.postMessage errors keep it (a 5xx may still have posted)."""
    return await _fenced(
        conn,
        "state = $3, last_error = $4, maybe_posted = maybe_posted AND NOT $5, "
        "posting_at = CASE WHEN $5 THEN NULL ELSE posting_at END",
        lease,
        "failed" if permanent else "retry",
        error[:500],
        certain,
    )


async def release(conn: Executor, lease: Lease) -> bool:
    """Give the key back without sending (the post was deferred before reaching Slack)."""
    return await _fenced(conn, "state = 'retry'", lease)
