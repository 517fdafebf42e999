"""The dispatcher as a real process: `dispatch` jobs in, action calls out, `reply` jobs queued.

Real: PostgreSQL (queue and dispatch_attempts), the `jeeves-dispatcher` entry point (and its
`migrate` command), and a scripted action process (`scripted_action`) speaking the action
protocol. Faked: the gateway — the test enqueues `DispatchJob`s itself — and the poster is not
running, so reply jobs stay queued where the test reads them.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from jeeves.kit.jobs import DISPATCH, DispatchJob
from jeeves.kit.queue import enqueue
from support.services import ServiceProcess, entry_point, http_json, migrate, wait_for

pytestmark = pytest.mark.integration
HERE = Path(__file__).parent
BOT = "U0JEEVES"
ADMIN = "admin-secret-for-tests"


@pytest.fixture(name="migrated_url", scope="module")
def fixture_migrated_url(database_url: str) -> str:
    for _ in range(2):  # idempotent
        printed = migrate("jeeves-dispatcher", database_url)
    assert "dispatcher tables: up to date" in printed
    return database_url


@pytest.fixture(name="action", scope="module")
def fixture_action() -> Iterator[ServiceProcess]:
    service = ServiceProcess("-m scripted_action", {"PYTHONPATH": str(HERE)}, probe="/healthz")
    service.start()
    yield service
    service.close()


@pytest.fixture(name="dispatcher", scope="module")
def fixture_dispatcher(migrated_url: str, action: ServiceProcess) -> Iterator[ServiceProcess]:
    actions = {
        "scripted": {
            "keywords": ["try", "try hard"],
            "url": action.url,
            "description": "Does what it is told",
            "usage": "try ok <words>",
            "timeout_s": 2,
        },
        "off": {"keywords": ["sleepy"], "url": action.url, "enabled": False},
    }
    service = ServiceProcess(
        "jeeves-dispatcher",
        {
            "JEEVES_DATABASE_URL": migrated_url,
            "JEEVES_SLACK_BOT_USER_ID": BOT,
            "JEEVES_ACTIONS": json.dumps(actions),
            "JEEVES_ADMIN_TOKEN": ADMIN,
            "JEEVES_QUEUE_MAX_ATTEMPTS": "4",
            "JEEVES_QUEUE_RETRY_BASE_S": "0.1",
            "JEEVES_QUEUE_RETRY_MAX_S": "0.3",
            "JEEVES_QUEUE_HEARTBEAT_TIMEOUT_S": "1",
        },
    )
    service.start()
    yield service
    print(service.logs()[-20000:])  # shown by pytest only when a test failed
    service.close()


@pytest.fixture(name="conn")
async def fixture_conn(migrated_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(migrated_url)
    yield conn
    await conn.close()


def dispatch_job(text: str, **overrides: Any) -> DispatchJob:
    job: DispatchJob = {
        "event_id": "Ev" + uuid.uuid4().hex[:12],
        "kind": "message",
        "team_id": "T1",
        "user_id": "U42",
        "channel": "C1",
        "ts": "1700000000.000100",
        "thread_ts": None,
        "text": text,
        "received_at": time.time(),
    }
    return {**job, **overrides}  # type: ignore[typeddict-item]


async def replies_for(conn: asyncpg.Connection, event_id: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT payload FROM pgqueuer WHERE entrypoint = 'reply' "
        "AND convert_from(payload, 'UTF8')::jsonb ->> 'event_id' = $1",
        event_id,
    )
    return [json.loads(row["payload"]) for row in rows]


async def final_outcome(conn: asyncpg.Connection, event_id: str) -> str | None:
    value = await conn.fetchval(
        "SELECT outcome FROM dispatch_attempts WHERE event_id = $1 AND final", event_id
    )
    return str(value) if value is not None else None


async def dispatch(conn: asyncpg.Connection, job: DispatchJob, timeout: float = 15) -> str:
    await enqueue(conn, DISPATCH, job)

    async def finished() -> bool:
        return await final_outcome(conn, job["event_id"]) is not None

    await wait_for(finished, timeout, f"dispatch of {job['event_id']}")
    return str(await final_outcome(conn, job["event_id"]))


def admin(method: str, url: str) -> tuple[int, Any]:
    return http_json(method, url, headers={"Authorization": f"Bearer {ADMIN}"})


async def test_help_is_answered_from_the_registry(
    conn: asyncpg.Connection, dispatcher: ServiceProcess
) -> None:
    job = dispatch_job(f"<@{BOT}> help", thread_ts="1700000000.000001")
    assert await dispatch(conn, job) == "builtin"
    [reply] = await replies_for(conn, job["event_id"])
    assert reply["reply_key"] == f"reply:{job['event_id']}"
    assert reply["thread_ts"] == "1700000000.000001"
    assert reply["channel"] == "C1"
    assert "• *try* (also: try hard) — Does what it is told" in reply["text"]


async def test_action_receives_the_protocol_body_and_its_reply_is_queued(
    conn: asyncpg.Connection, dispatcher: ServiceProcess, action: ServiceProcess
) -> None:
    job = dispatch_job(f"<@{BOT}> Try ok  Berlin &amp; more", team_id="T9")
    assert await dispatch(conn, job) == "replied"
    [reply] = await replies_for(conn, job["event_id"])
    assert reply["text"] == "ok: Berlin & more"
    assert reply["thread_ts"] is None
    _, calls = http_json("GET", action.url + "/calls")
    [call] = [c for c in calls["calls"] if c["body"]["id"].startswith(job["event_id"])]
    assert call["body"] == {
        "id": f"{job['event_id']}:scripted",
        "action": "scripted",
        "text": "ok Berlin & more",
        "args": {"keyword": "try", "message": "Try ok Berlin & more"},
        "user": {"slack_id": "U42", "team_id": "T9"},
        "channel": "C1",
        "thread_ts": None,
        "sent_at": job["received_at"],
    }
    assert call["headers"]["Idempotency-Key"] == call["body"]["id"]


async def test_transient_failures_are_retried_then_answered_once(
    conn: asyncpg.Connection, dispatcher: ServiceProcess
) -> None:
    job = dispatch_job(f"<@{BOT}> try fail 2")
    assert await dispatch(conn, job) == "replied"
    assert [r["text"] for r in await replies_for(conn, job["event_id"])] == ["recovered after 2"]
    outcomes = await conn.fetch(
        "SELECT outcome, final, status FROM dispatch_attempts WHERE event_id = $1 ORDER BY id",
        job["event_id"],
    )
    assert [tuple(r) for r in outcomes] == [
        ("failed", False, 500),
        ("failed", False, 500),
        ("replied", True, 200),
    ]


async def test_a_dead_action_ends_in_a_dead_letter_that_replays_once_fixed(
    conn: asyncpg.Connection, dispatcher: ServiceProcess, action: ServiceProcess
) -> None:
    http_json("POST", action.url + "/control", {"broken": True})
    job = dispatch_job(f"<@{BOT}> try broken")
    await enqueue(conn, DISPATCH, job)

    async def dead_lettered() -> bool:
        _, body = admin("GET", dispatcher.url + "/v1/dead-letters")
        return any(d["payload"]["event_id"] == job["event_id"] for d in body["dead_letters"])

    await wait_for(dead_lettered, 20, "the dead letter")
    _, body = admin("GET", dispatcher.url + "/v1/dead-letters")
    [letter] = [d for d in body["dead_letters"] if d["payload"]["event_id"] == job["event_id"]]
    assert letter["entrypoint"] == "dispatch"
    assert letter["attempts"] == 4
    assert "scripted" in letter["last_error"]
    assert "500" in letter["last_error"]
    [notice] = await replies_for(conn, job["event_id"])  # the user is told, once
    assert notice["reply_key"] == f"dead:{job['event_id']}"
    assert "an admin can replay it" in notice["text"]

    http_json("POST", action.url + "/control", {"broken": False})
    status, answer = admin("POST", dispatcher.url + f"/v1/dead-letters/{letter['id']}/replay")
    assert (status, answer) == (202, {"replayed": letter["id"]})

    async def answered() -> bool:
        return await final_outcome(conn, job["event_id"]) == "replied"

    await wait_for(answered, 15, "the replayed event's answer")
    replies = await replies_for(conn, job["event_id"])
    assert [r["text"] for r in replies if r["reply_key"].startswith("reply:")] == ["fixed"]
    status, _ = admin("POST", dispatcher.url + f"/v1/dead-letters/{letter['id']}/replay")
    assert status == 404


async def test_refusals_unknowns_and_disabled_actions_get_clear_replies(
    conn: asyncpg.Connection, dispatcher: ServiceProcess
) -> None:
    cases = [
        ("try reject", "rejected", "`try` could not do that: I cannot do that, Dave"),
        ("tryy ok", "unknown", "Did you mean `try`?"),
        ("sleepy time", "disabled", "`sleepy` is turned off right now"),
        ("login", "builtin", "not available yet"),
        ("", "builtin", "Say `help`"),
    ]
    for text, outcome, phrase in cases:
        job = dispatch_job(f"<@{BOT}> {text}")
        assert await dispatch(conn, job) == outcome
        [reply] = await replies_for(conn, job["event_id"])
        assert phrase in reply["text"]


async def test_202_means_nothing_to_post(
    conn: asyncpg.Connection, dispatcher: ServiceProcess
) -> None:
    job = dispatch_job(f"<@{BOT}> try later")
    assert await dispatch(conn, job) == "deferred"
    assert await replies_for(conn, job["event_id"]) == []


async def test_the_same_event_twice_is_answered_once(
    conn: asyncpg.Connection, dispatcher: ServiceProcess
) -> None:
    job = dispatch_job(f"<@{BOT}> try ok twice")
    await enqueue(conn, DISPATCH, job)
    assert await dispatch(conn, job) == "replied"

    async def both_done() -> bool:
        left = await conn.fetchval(
            "SELECT count(*) FROM pgqueuer WHERE entrypoint = 'dispatch' "
            "AND convert_from(payload, 'UTF8')::jsonb ->> 'event_id' = $1",
            job["event_id"],
        )
        return int(left) == 0

    await wait_for(both_done, 10, "both copies to be handled")
    assert len(await replies_for(conn, job["event_id"])) == 1


async def test_a_bad_payload_is_dead_lettered_with_the_reason(
    conn: asyncpg.Connection, dispatcher: ServiceProcess
) -> None:
    marker = uuid.uuid4().hex
    await enqueue(conn, DISPATCH, {"event_id": marker, "kind": "message"})

    async def dead_lettered() -> bool:
        _, body = admin("GET", dispatcher.url + "/v1/dead-letters?limit=500")
        return any(d["payload"].get("event_id") == marker for d in body["dead_letters"])

    await wait_for(dead_lettered, 10, "the bad payload's dead letter")
    _, body = admin("GET", dispatcher.url + "/v1/dead-letters?limit=500")
    [letter] = [d for d in body["dead_letters"] if d["payload"].get("event_id") == marker]
    assert letter["attempts"] == 1
    assert letter["last_error"] == "bad dispatch payload: 'team_id' is required"


def test_admin_api_wants_the_token(dispatcher: ServiceProcess) -> None:
    status, body = http_json("GET", dispatcher.url + "/v1/dead-letters")
    assert (status, body["error"]["code"]) == (401, "unauthorized")
    status, body = http_json(
        "GET", dispatcher.url + "/v1/dead-letters", headers={"Authorization": "Bearer nope"}
    )
    assert (status, body["error"]["code"]) == (403, "forbidden")
    status, body = admin("GET", dispatcher.url + "/v1/dead-letters?limit=0")
    assert (status, body["error"]["code"]) == (422, "validation_failed")
    status, body = admin("POST", dispatcher.url + "/v1/dead-letters/999999/replay")
    assert (status, body["error"]["code"]) == (404, "not_found")


async def test_attempts_and_metrics_are_visible(
    conn: asyncpg.Connection, dispatcher: ServiceProcess
) -> None:
    job = dispatch_job(f"<@{BOT}> try ok metrics")
    await dispatch(conn, job)
    status, body = admin("GET", dispatcher.url + f"/v1/events/{job['event_id']}/attempts")
    assert status == 200
    [attempt] = body["attempts"]
    assert (attempt["action"], attempt["outcome"], attempt["final"]) == (
        "scripted",
        "replied",
        True,
    )
    with __import__("urllib.request").request.urlopen(dispatcher.url + "/metrics") as response:
        text = response.read().decode()
    assert 'jeeves_dispatch_total{action="scripted",outcome="replied"}' in text
    assert 'jeeves_dispatch_total{action="scripted",outcome="failed"}' in text
    assert "jeeves_dispatch_action_latency_seconds_bucket" in text


def test_bad_settings_stop_the_process_with_one_line(migrated_url: str) -> None:
    env = {
        "JEEVES_DATABASE_URL": migrated_url,
        "JEEVES_SLACK_BOT_USER_ID": BOT,
        "JEEVES_ACTIONS": '{"x": {"keywords": []}}',
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        entry_point("jeeves-dispatcher"), env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "jeeves: setting JEEVES_ACTIONS is invalid: "
        "action x: 'keywords' list should have at least 1 item after validation, not 0"
    ]
