"""Issue 3's acceptance list, end to end: Slack emulator → ingress → dispatcher → echo → poster,
over the Events API and over Socket Mode (the `pipeline` fixture runs each test over both).

Real: every process of the pipeline (see conftest.py), PostgreSQL, SIGKILL for crashes, the
emulator's own Slack retries and redeliveries, 429s and recordings. Faked: nothing — failures
come from the echo action's test-only fault plan, the emulator's fault API and, for the Socket
Mode replica crash, a real lock on the inbound table that holds envelopes mid-way. Replies are
counted by their text, which the echo action makes unique per event.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import Counter
from typing import Any

import asyncpg
import pytest
from pipeline_stack import Pipeline, fresh_channel

from jeeves.localstack.ports import wait_until
from support.services import ServiceProcess, http_json

pytestmark = pytest.mark.e2e
IN_FLIGHT = 200
CRASH_CHANNELS = 40


def bot_messages(pipeline: Pipeline, channels: set[str], since: float) -> list[dict[str, Any]]:
    """Messages the bot posted in `channels` since `since`."""
    found = pipeline.slack.messages(since=since)
    return [m for m in found if m["channel"] in channels]


def queue_drained(database_url: str) -> bool:
    """No job waits or runs (dead letters aside): nothing more can be posted."""

    async def count() -> int:
        conn = await asyncpg.connect(database_url)
        try:
            value = await conn.fetchval(
                "SELECT count(*) FROM pgqueuer WHERE status IN ('queued', 'picked')"
            )
        finally:
            await conn.close()
        return int(value)

    return asyncio.run(count()) == 0


def settle(pipeline: Pipeline, timeout: float = 30) -> None:
    wait_until(lambda: queue_drained(pipeline.database_url), timeout=timeout, what="a quiet queue")


def texts_in(pipeline: Pipeline, channels: set[str], since: float) -> Counter[str]:
    return Counter(m["text"] for m in bot_messages(pipeline, channels, since))


def test_help_gets_exactly_one_reply_in_the_channel(pipeline: Pipeline) -> None:
    channel, since = fresh_channel(), time.time()
    sent = pipeline.slack.send("mention", "help", channel, None, None, 0, 0, True)
    [reply] = pipeline.slack.wait_for_messages(1, channel=channel, since=since)
    settle(pipeline)
    assert len(bot_messages(pipeline, {channel}, since)) == 1
    assert reply["text"].startswith("Here is what I can do:")
    assert "• *echo* — Repeats what you say · usage: `echo &lt;text&gt;`" in reply["text"]
    assert reply.get("thread_ts") is None  # asked in the channel, answered in the channel
    assert sent["ts"]


def test_a_mention_in_a_thread_is_answered_in_that_thread(pipeline: Pipeline) -> None:
    channel, since = fresh_channel(), time.time()
    pipeline.slack.send("mention", "echo threaded", channel, None, "1700000000.000100", 0, 0, True)
    [reply] = pipeline.slack.wait_for_messages(1, channel=channel, since=since)
    assert (reply["text"], reply["thread_ts"]) == ("threaded", "1700000000.000100")


def test_slack_retries_of_one_event_give_one_reply(pipeline: Pipeline) -> None:
    channel, since = fresh_channel(), time.time()
    event_id = pipeline.slack.send_mention("echo said once", channel=channel, force_retries=2)
    pipeline.slack.replay(event_id, retry_num=3)
    pipeline.slack.wait_for_messages(1, channel=channel, since=since)
    settle(pipeline)
    deliveries = pipeline.slack.deliveries(event_id)
    assert sum(len(d.get("attempts", [])) for d in deliveries) >= 3
    assert texts_in(pipeline, {channel}, since) == Counter({"said once": 1})


def crash_while_in_flight(pipeline: Pipeline, victim: ServiceProcess) -> None:
    """Send IN_FLIGHT events, SIGKILL `victim` mid-stream, restart it: one reply per event."""
    channels = [fresh_channel() for _ in range(CRASH_CHANNELS)]
    tag, since = uuid.uuid4().hex[:6], time.time()
    expected = {f"{tag}-{n}" for n in range(IN_FLIGHT)}
    errors: list[BaseException] = []

    def send_all() -> None:
        try:
            for n in range(IN_FLIGHT):
                channel = channels[n % CRASH_CHANNELS]
                pipeline.slack.send_mention(f"echo {tag}-{n}", channel=channel)
        except BaseException as exc:  # reported by the test thread below
            errors.append(exc)

    sender = threading.Thread(target=send_all, daemon=True)
    sender.start()
    wanted = set(channels)
    wait_until(
        lambda: len(bot_messages(pipeline, wanted, since)) >= 20,
        timeout=30,
        what="the first replies",
    )
    victim.kill()
    replied_before_crash = len(bot_messages(pipeline, wanted, since))
    sender.join(timeout=60)
    assert not errors, errors
    victim.start()
    wait_until(
        lambda: len(bot_messages(pipeline, wanted, since)) >= IN_FLIGHT,
        timeout=90,
        what=f"{IN_FLIGHT} replies after the restart",
    )
    settle(pipeline)
    counts = texts_in(pipeline, wanted, since)
    assert set(counts) == expected, "every event is answered"
    assert replied_before_crash < IN_FLIGHT, "the crash came too late to test anything"
    assert [text for text, n in counts.items() if n != 1] == [], "no event is answered twice"


def read_back_events(poster: ServiceProcess) -> Counter[str]:
    return Counter(
        str(r["event"])
        for r in poster.log_records()
        if str(r.get("event", "")).startswith("reply_read_back")
    )


def test_killing_the_dispatcher_loses_and_duplicates_nothing(pipeline: Pipeline) -> None:
    crash_while_in_flight(pipeline, pipeline.dispatcher)


def test_killing_the_poster_loses_and_duplicates_nothing(pipeline: Pipeline) -> None:
    """Strict: posts Slack took but the poster never saw confirmed are read back, not re-sent.

    Slack's answers to chat.postMessage are held back 0.5 s (the message is posted at once), so
    posts are in flight at the SIGKILL: posted, never confirmed."""

    def read_back_calls() -> int:
        methods = ("conversations.replies", "conversations.history")
        return sum(len(pipeline.slack.calls(method)) for method in methods)

    calls_before = read_back_calls()
    pipeline.slack.add_fault(kind="slow", delay_s=0.5, duration_s=120, methods=["chat.postMessage"])
    try:
        crash_while_in_flight(pipeline, pipeline.poster)
    finally:
        pipeline.slack.clear_faults()
    events = read_back_events(pipeline.poster)
    elapsed = sorted(
        float(r["elapsed_ms"]) for r in pipeline.poster.log_records() if "elapsed_ms" in r
    )
    median, most = (elapsed[len(elapsed) // 2], elapsed[-1]) if elapsed else (0.0, 0.0)
    print(
        f"poster kill: {dict(events)}, {read_back_calls() - calls_before} read-back calls, "
        f"read-back ms median {median} max {most}"
    )
    assert events["reply_read_back_found"] >= 1, "no post was in flight at the SIGKILL"
    assert events["reply_read_back_failed"] == 0, "every unconfirmed post could be checked"


def test_an_action_failing_three_times_still_answers_once(pipeline: Pipeline) -> None:
    channel, since = fresh_channel(), time.time()
    pipeline.echo_fail(3)
    pipeline.slack.send_mention("echo third time lucky", channel=channel)
    pipeline.slack.wait_for_messages(1, channel=channel, since=since, timeout=20)
    settle(pipeline)
    assert texts_in(pipeline, {channel}, since) == Counter({"third time lucky": 1})
    _, body = http_json("GET", pipeline.echo.url + "/_test/calls")
    statuses = [c["fault_status"] for c in body["calls"] if c["channel"] == channel]
    assert statuses == [500, 500, 500, None]


def test_a_dead_action_is_dead_lettered_and_replayed_once_fixed(pipeline: Pipeline) -> None:
    channel, since = fresh_channel(), time.time()
    pipeline.echo_fail(1000)
    event_id = pipeline.slack.send_mention("echo after the outage", channel=channel)
    letters_url = pipeline.dispatcher.url + "/v1/dead-letters"

    def letter() -> dict[str, Any] | None:
        _, body = pipeline.admin("GET", letters_url)
        mine = [d for d in body["dead_letters"] if d["payload"]["event_id"] == event_id]
        return mine[0] if mine else None

    try:
        wait_until(lambda: letter() is not None, timeout=30, what="the dead letter")
    finally:
        pipeline.echo_heal()
    found = letter()
    assert found is not None
    assert found["attempts"] == 4
    assert "500" in found["last_error"]
    assert bot_messages(pipeline, {channel}, since) == []

    status, _ = pipeline.admin("POST", f"{letters_url}/{found['id']}/replay")
    assert status == 202
    pipeline.slack.wait_for_messages(1, channel=channel, since=since, timeout=20)
    settle(pipeline)
    assert texts_in(pipeline, {channel}, since) == Counter({"after the outage": 1})
    assert letter() is None


def test_429_holds_one_channel_while_others_flow(pipeline: Pipeline) -> None:
    limited, free, since = fresh_channel(), fresh_channel(), time.time()
    pipeline.slack.rate_limit(limited, retry_after=2, count=1)
    pipeline.slack.send_mention("echo patience", channel=limited)
    wait_until(
        lambda: bool(pipeline.slack.calls("chat.postMessage", channel=limited)),
        timeout=20,
        what="the rate-limited call",
    )
    pipeline.slack.send_mention("echo no waiting", channel=free)
    [flowing] = pipeline.slack.wait_for_messages(1, channel=free, since=since)
    [held] = pipeline.slack.wait_for_messages(1, channel=limited, since=since, timeout=20)
    settle(pipeline)
    calls = pipeline.slack.calls("chat.postMessage", channel=limited)
    assert [c["status"] for c in calls] == [429, 200]
    assert held["posted_at"] - calls[0]["at"] >= 2.0
    assert flowing["posted_at"] < held["posted_at"]
    assert texts_in(pipeline, {limited, free}, since) == Counter({"patience": 1, "no waiting": 1})


@pytest.mark.parametrize("pipeline", ["socket_mode"], indirect=True)
def test_killing_a_socket_mode_replica_mid_envelope_redelivers_and_answers_once(
    pipeline: Pipeline,
) -> None:
    """Envelopes are held mid-way (received, not yet stored, so not acked) by a lock on the
    inbound table; one replica is SIGKILLed; its envelopes come again to the other; each
    message is answered once."""
    channels = [fresh_channel() for _ in range(10)]
    tag, since = uuid.uuid4().hex[:6], time.time()
    victim = pipeline.ingresses[0]
    blocker = InboundLock(pipeline.database_url)
    try:
        event_ids = [
            pipeline.slack.send_mention(f"echo {tag}-{n}", channel=channels[n % 10])
            for n in range(30)
        ]
        wait_until(
            lambda: all(_attempts(pipeline, e) for e in event_ids),
            timeout=20,
            what="every envelope out on a link",
        )
        linked = {c["id"] for c in pipeline.slack.socket_connections()}
        victim.kill()
        wait_until(
            lambda: len(pipeline.slack.socket_connections()) == 1,
            timeout=20,
            what="the killed replica's link to close",
        )
    finally:
        blocker.release()
    gone = linked - {c["id"] for c in pipeline.slack.socket_connections()}
    wait_until(
        lambda: len(bot_messages(pipeline, set(channels), since)) >= 30,
        timeout=60,
        what="30 replies",
    )
    settle(pipeline)
    counts = texts_in(pipeline, set(channels), since)
    assert set(counts) == {f"{tag}-{n}" for n in range(30)}, "every message is answered"
    assert [text for text, n in counts.items() if n != 1] == [], "none twice"
    moved = [e for e in event_ids if _redelivered_from(pipeline, e, gone)]
    assert moved, "an envelope the killed replica held came again to the other one"
    victim.start()
    wait_until(
        lambda: len(pipeline.slack.socket_connections()) == 2,
        timeout=30,
        what="the restarted replica's link",
    )


class InboundLock:
    """Holds an exclusive lock on the inbound table (in a thread with its own event loop) until
    released: events can be received but not stored, so their envelopes stay unacked."""

    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._held = threading.Event()
        self._release = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._hold()), daemon=True)
        self._thread.start()
        assert self._held.wait(30), "the inbound table could not be locked"

    async def _hold(self) -> None:
        conn = await asyncpg.connect(self._url)
        try:
            await conn.execute("BEGIN")
            await conn.execute("LOCK TABLE gateway_inbound_events IN ACCESS EXCLUSIVE MODE")
            self._held.set()
            while not self._release.is_set():
                await asyncio.sleep(0.05)
            await conn.execute("ROLLBACK")
        finally:
            await conn.close()

    def release(self) -> None:
        self._release.set()
        self._thread.join(30)


def _attempts(pipeline: Pipeline, event_id: str) -> int:
    found = pipeline.slack.deliveries(event_id)
    return len(found[0]["attempts"]) if found else 0


def _redelivered_from(pipeline: Pipeline, event_id: str, gone: set[str]) -> bool:
    """True when the event went out on a link of the killed replica, unacked, and was then
    acknowledged on another link."""
    [delivery] = pipeline.slack.deliveries(event_id)
    attempts = delivery["attempts"]
    lost = any(a["connection"] in gone and a["timed_out"] for a in attempts)
    return lost and delivery["acked"] and attempts[-1]["connection"] not in gone
