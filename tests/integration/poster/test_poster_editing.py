"""Versioned replies: one Slack message per key whose content moves forward (chat.update).

Real: PostgreSQL (queue, outbound log, `outbound_versions`), the `jeeves-poster` process and the
Slack emulator answering chat.postMessage / chat.update, with its 429 and 5xx faults. Faked:
the sender — the test enqueues versioned `ReplyJob`s itself, as the alerts service does.
"""

from __future__ import annotations

import asyncpg
import pytest
from test_poster import (  # noqa: F401  (shared fixtures)
    channel,
    fixture_conn,
    fixture_emulator,
    fixture_migrated_url,
    fixture_poster,
    fixture_slack,
    posted,
    reply,
)

from jeeves.kit.jobs import REPLY, ReplyJob
from jeeves.kit.queue import enqueue
from jeeves.poster import editing
from support.services import ServiceProcess, http_json, wait_for
from support.slack import SlackEmulator

pytestmark = pytest.mark.integration


def version(job: ReplyJob, n: int, text: str) -> ReplyJob:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    return {**job, "version": n, "text": text, "blocks": blocks, "sent_at": None}


async def applied(conn: asyncpg.Connection, key: str) -> int:
    value = await conn.fetchval("SELECT applied FROM outbound_versions WHERE reply_key = $1", key)
    return int(value or 0)


async def jobs_of(conn: asyncpg.Connection, key: str, status: str | None = None) -> int:
    """`reply` jobs of `key` still in the queue (with `status`: only those)."""
    found = await conn.fetchval(
        "SELECT count(*) FROM pgqueuer WHERE entrypoint = 'reply' "
        "AND ($2::text IS NULL OR status::text = $2) "
        "AND convert_from(payload, 'UTF8')::jsonb ->> 'reply_key' = $1",
        key,
        status,
    )
    return int(found)


async def shows(conn: asyncpg.Connection, key: str, n: int, timeout: float = 15) -> None:
    async def done() -> bool:
        return await applied(conn, key) == n

    await wait_for(done, timeout, f"{key} to show version {n}")


async def test_a_newer_version_edits_the_one_message_in_place(
    conn: asyncpg.Connection, poster: ServiceProcess, slack: SlackEmulator
) -> None:
    to = channel()
    job = reply("", to)
    await enqueue(conn, REPLY, version(job, 1, "FIRING"))
    await posted(conn, job["reply_key"])
    await enqueue(conn, REPLY, version(job, 2, "RESOLVED"))
    await shows(conn, job["reply_key"], 2)
    [message] = slack.messages(to)
    assert message["text"] == "RESOLVED"
    assert message["blocks"][0]["text"]["text"] == "RESOLVED"
    assert message["edited_at"] is not None
    assert [c["status"] for c in slack.calls("chat.postMessage", channel=to)] == [200]
    assert [c["status"] for c in slack.calls("chat.update", channel=to)] == [200]


async def test_older_and_repeated_versions_change_nothing(
    conn: asyncpg.Connection, poster: ServiceProcess, slack: SlackEmulator
) -> None:
    to = channel()
    job = reply("", to)
    await enqueue(conn, REPLY, version(job, 2, "RESOLVED"))
    await posted(conn, job["reply_key"])
    await shows(conn, job["reply_key"], 2)
    for n, text in ((1, "FIRING"), (2, "RESOLVED"), (2, "RESOLVED")):
        await enqueue(conn, REPLY, version(job, n, text))

    async def drained() -> bool:
        return await jobs_of(conn, job["reply_key"]) == 0

    await wait_for(drained, 15, "every late copy to be handled")
    assert [m["text"] for m in slack.messages(to)] == ["RESOLVED"]
    assert slack.calls("chat.update", channel=to) == []


async def test_versions_queued_together_post_once_and_end_on_the_newest(
    conn: asyncpg.Connection, poster: ServiceProcess, slack: SlackEmulator
) -> None:
    to = channel()
    job = reply("", to)
    for n in (1, 3, 2):  # out of order, all at once: whoever runs first posts the newest
        await enqueue(conn, REPLY, version(job, n, f"v{n}"))
    await posted(conn, job["reply_key"])
    await shows(conn, job["reply_key"], 3)
    assert [m["text"] for m in slack.messages(to)] == ["v3"]
    assert len(slack.calls("chat.postMessage", channel=to)) == 1


async def test_an_edit_rate_limited_or_failing_is_retried_until_applied(
    conn: asyncpg.Connection, poster: ServiceProcess, slack: SlackEmulator
) -> None:
    to = channel()
    job = reply("", to)
    await enqueue(conn, REPLY, version(job, 1, "FIRING"))
    await posted(conn, job["reply_key"])
    slack.rate_limit(to, retry_after=1, count=1)
    slack.fail_next(1, status=503, channel=to, methods=["chat.update"])
    await enqueue(conn, REPLY, version(job, 2, "RESOLVED"))
    await shows(conn, job["reply_key"], 2, timeout=20)
    assert [m["text"] for m in slack.messages(to)] == ["RESOLVED"]
    statuses = sorted(c["status"] for c in slack.calls("chat.update", channel=to))
    assert statuses == [200, 429, 503]


async def test_an_edit_slack_refuses_is_a_dead_letter_with_the_reason(
    conn: asyncpg.Connection, poster: ServiceProcess, slack: SlackEmulator
) -> None:
    to = channel()
    job = reply("", to)
    await enqueue(conn, REPLY, version(job, 1, "FIRING"))
    await posted(conn, job["reply_key"])
    slack.slack_error("cant_update_message", channel=to, methods=["chat.update"], count=1)
    await enqueue(conn, REPLY, version(job, 2, "RESOLVED"))

    async def dead() -> bool:
        return await jobs_of(conn, job["reply_key"], "failed") == 1

    await wait_for(dead, 15, "the refused edit to be a dead letter")
    assert await applied(conn, job["reply_key"]) == 1
    assert [m["text"] for m in slack.messages(to)] == ["FIRING"]
    _, metrics = http_json("GET", poster.url + "/metrics")
    counted = 'jeeves_poster_slack_errors_total{error="cant_update_message",method="chat.update"}'
    assert counted in metrics


async def test_the_stored_content_only_moves_forward(
    conn: asyncpg.Connection, migrated_url: str
) -> None:
    job = reply("", channel())
    seen = [(await editing.offer(conn, version(job, n, f"v{n}"))).version for n in (1, 3, 2, 3)]
    assert seen == [1, 3, 3, 3]
    content = await editing.offer(conn, version(job, 1, "v1"))
    assert (content.text, content.applied, content.behind) == ("v3", 0, True)
    await editing.mark_applied(conn, job["reply_key"], 3)
    await editing.mark_applied(conn, job["reply_key"], 2)  # a late record never moves back
    assert (await editing.offer(conn, version(job, 2, "v2"))).behind is False
