"""The gateway as Slack sees it: the real `jeeves-gateway` process on a real PostgreSQL.

Real: `jeeves-gateway migrate`, the gateway under Hypercorn, PostgreSQL with the queue schema.
Faked: Slack itself — requests are built and signed here the way Slack signs them. Every
rejection test checks that nothing reached the inbound event log or the queue.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import asyncpg
import pytest

from jeeves.kit.slack.inbound import prune_events
from jeeves.localstack.ports import wait_until
from support.services import ServiceProcess, migrate

pytestmark = pytest.mark.integration
SECRET = "gateway-test-signing-secret"


def sign(body: bytes, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + digest.hexdigest()}


def post(
    url: str, body: bytes, headers: dict[str, str], content_type: str = "application/json"
) -> tuple[int, Any, str]:
    """(status, JSON body, content type) of a raw POST."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw, status, ctype = response.read(), response.status, response.headers["Content-Type"]
    except urllib.error.HTTPError as exc:
        raw, status, ctype = exc.read(), exc.code, exc.headers["Content-Type"]
    return int(status), json.loads(raw) if raw else None, str(ctype)


def event_body(event_id: str, event: dict[str, Any] | None = None) -> bytes:
    event = event or {
        "type": "app_mention",
        "user": "U1",
        "text": "<@UBOT> weather Lisbon",
        "ts": "1700000000.000100",
        "channel": "C1",
    }
    envelope = {"type": "event_callback", "team_id": "T1", "event_id": event_id, "event": event}
    return json.dumps(envelope).encode()


FORM = "application/x-www-form-urlencoded"


@pytest.fixture(name="gateway_db", scope="module")
def fixture_gateway_db(database_url: str) -> str:
    for expected in ("installed", "up to date"):
        assert f"queue schema: {expected}" in migrate("jeeves-gateway", database_url)
    return database_url


@pytest.fixture(name="gateway", scope="module")
def fixture_gateway(gateway_db: str) -> Iterator[ServiceProcess]:
    service = ServiceProcess(
        "jeeves-gateway",
        {
            "JEEVES_DATABASE_URL": gateway_db,
            "JEEVES_SLACK_SIGNING_SECRET": SECRET,
            "JEEVES_SLACK_BOT_USER_ID": "UBOT",
        },
    )
    try:
        service.start()
        yield service
    finally:
        service.close()


@pytest.fixture(name="db")
async def fixture_db(gateway_db: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(gateway_db)
    yield conn
    await conn.close()


async def stored(db: asyncpg.Connection) -> tuple[int, int]:
    """(rows in the inbound event log, dispatch jobs in the queue)."""
    events = await db.fetchval("SELECT count(*) FROM gateway_inbound_events")
    jobs = await db.fetchval("SELECT count(*) FROM pgqueuer WHERE entrypoint = 'dispatch'")
    return int(events), int(jobs)


async def dispatch_job(db: asyncpg.Connection, event_id: str) -> dict[str, Any]:
    rows = await db.fetch("SELECT payload FROM pgqueuer WHERE entrypoint = 'dispatch'")
    jobs = [json.loads(row["payload"]) for row in rows]
    matching = [job for job in jobs if job["event_id"] == event_id]
    assert len(matching) == 1, f"exactly one dispatch job for {event_id}"
    return matching[0]


async def test_url_verification_answers_the_challenge(
    gateway: ServiceProcess, db: asyncpg.Connection
) -> None:
    before = await stored(db)
    body = json.dumps({"type": "url_verification", "challenge": "3eZbrw1aBm2rZgRNFdxV"}).encode()
    status, answer, ctype = post(gateway.url + "/slack/events", body, sign(body))
    assert (status, answer) == (200, {"challenge": "3eZbrw1aBm2rZgRNFdxV"})
    assert ctype.startswith("application/json")
    assert await stored(db) == before


async def test_a_mention_is_stored_and_dispatched_once_even_when_slack_retries(
    gateway: ServiceProcess, db: asyncpg.Connection
) -> None:
    before = await stored(db)
    body = event_body("EvMENTION1")
    status, answer, _ = post(gateway.url + "/slack/events", body, sign(body))
    assert (status, answer) == (200, {"ok": True, "outcome": "accepted"})
    for retry in ("1", "2"):
        headers = {**sign(body), "X-Slack-Retry-Num": retry, "X-Slack-Retry-Reason": "timeout"}
        status, answer, _ = post(gateway.url + "/slack/events", body, headers)
        assert (status, answer) == (200, {"ok": True, "outcome": "duplicate"})
    assert await stored(db) == (before[0] + 1, before[1] + 1)
    job = await dispatch_job(db, "EvMENTION1")
    received_at = job.pop("received_at")
    assert abs(received_at - time.time()) < 60
    assert job == {
        "event_id": "EvMENTION1",
        "kind": "message",
        "team_id": "T1",
        "user_id": "U1",
        "channel": "C1",
        "ts": "1700000000.000100",
        "thread_ts": None,
        "text": "<@UBOT> weather Lisbon",
        "blocks": None,
        "bot_user_id": "UBOT",
    }


async def test_concurrent_events_and_duplicates_are_each_stored_once(
    gateway: ServiceProcess, db: asyncpg.Connection
) -> None:
    before = await stored(db)
    bodies = [event_body(f"EvBURST{i}") for i in range(60)] * 2

    def send(body: bytes) -> str:
        status, answer, _ = post(gateway.url + "/slack/events", body, sign(body))
        assert status == 200
        return str(answer["outcome"])

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(send, bodies))
    assert outcomes.count("accepted") == 60
    assert outcomes.count("duplicate") == 60
    assert await stored(db) == (before[0] + 60, before[1] + 60)


def _big_body() -> bytes:
    return event_body("EvBIG", {"type": "app_mention", "text": "x" * (1024 * 1024)})


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("no signature", 401, "invalid_signature"),
        ("wrong secret", 401, "invalid_signature"),
        ("tampered body", 401, "invalid_signature"),
        ("stale timestamp", 401, "stale_timestamp"),
        ("future timestamp", 401, "stale_timestamp"),
        ("malformed json", 400, "malformed_body"),
        ("not an object", 400, "malformed_body"),
        ("over 1 MiB", 413, "payload_too_large"),
    ],
)
async def test_bad_requests_are_refused_and_nothing_is_stored(
    gateway: ServiceProcess, db: asyncpg.Connection, case: str, status: int, code: str
) -> None:
    body = event_body(f"EvBAD-{case}")
    headers = sign(body)
    if case == "no signature":
        headers = {}
    elif case == "wrong secret":
        headers = sign(body, secret="not-the-secret")
    elif case == "tampered body":
        body = body.replace(b"Lisbon", b"Porto")
    elif case == "stale timestamp":
        headers = sign(body, int(time.time()) - 400)
    elif case == "future timestamp":
        headers = sign(body, int(time.time()) + 400)
    elif case == "malformed json":
        body = b'{"type": "event_callback", '
        headers = sign(body)
    elif case == "not an object":
        body = b'["event_callback"]'
        headers = sign(body)
    elif case == "over 1 MiB":
        body = _big_body()
        headers = sign(body)
    before = await stored(db)
    got, answer, ctype = post(gateway.url + "/slack/events", body, headers)
    assert (got, answer["error"]["code"]) == (status, code)
    assert ctype.startswith("application/json")
    assert await stored(db) == before


@pytest.mark.parametrize(
    "event",
    [
        {"type": "reaction_added", "user": "U1", "reaction": "thumbsup"},
        {"type": "message", "channel_type": "im", "user": "U1", "text": "hi", "ts": "1.2",
         "channel": "D1", "bot_id": "B1"},
        {"type": "message", "channel_type": "im", "user": "UBOT", "text": "hi", "ts": "1.3",
         "channel": "D1"},
        {"type": "message", "channel_type": "im", "subtype": "message_changed", "ts": "1.4",
         "channel": "D1"},
        {"type": "message", "channel_type": "channel", "user": "U1", "text": "hi", "ts": "1.5",
         "channel": "C1"},
    ],
    ids=["unknown type", "bot_id", "own user", "message_changed", "channel chatter"],
)  # fmt: skip
async def test_ignored_events_are_acknowledged_and_not_stored(
    gateway: ServiceProcess, db: asyncpg.Connection, event: dict[str, Any]
) -> None:
    before = await stored(db)
    body = event_body("EvIGNORED", event)
    status, answer, _ = post(gateway.url + "/slack/events", body, sign(body))
    assert (status, answer) == (200, {"ok": True, "outcome": "ignored"})
    assert await stored(db) == before


async def test_a_direct_message_is_dispatched(
    gateway: ServiceProcess, db: asyncpg.Connection
) -> None:
    event = {"type": "message", "channel_type": "im", "user": "U2", "text": "help", "ts": "9.9",
             "channel": "D2"}  # fmt: skip
    body = event_body("EvDM1", event)
    status, _, _ = post(gateway.url + "/slack/events", body, sign(body))
    assert status == 200
    job = await dispatch_job(db, "EvDM1")
    assert (job["kind"], job["user_id"], job["channel"], job["thread_ts"]) == (
        "message",
        "U2",
        "D2",
        None,
    )


COMMAND = {
    "token": "legacy-ignored",
    "team_id": "T1",
    "team_domain": "acme",
    "channel_id": "C9",
    "channel_name": "general",
    "user_id": "U3",
    "user_name": "ana",
    "command": "/jeeves",
    "text": "weather Porto",
    "api_app_id": "A1",
    "response_url": "https://hooks.slack.com/commands/T1/1/abc",
    "trigger_id": "1111.2222.cmd",
}


async def test_a_slash_command_is_acknowledged_at_once_and_queued(
    gateway: ServiceProcess, db: asyncpg.Connection
) -> None:
    body = urlencode(COMMAND).encode()
    before = await stored(db)
    for _ in range(2):  # the second is a repeat of the same trigger: stored once
        status, answer, _ = post(gateway.url + "/slack/commands", body, sign(body), FORM)
        assert (status, answer) == (200, {"response_type": "ephemeral", "text": "Working on it…"})
    assert await stored(db) == (before[0] + 1, before[1] + 1)
    job = await dispatch_job(db, "command:1111.2222.cmd")
    job.pop("received_at")
    assert job == {
        "event_id": "command:1111.2222.cmd",
        "kind": "command",
        "team_id": "T1",
        "user_id": "U3",
        "channel": "C9",
        "ts": None,
        "thread_ts": None,
        "text": "weather Porto",
        "response_url": "https://hooks.slack.com/commands/T1/1/abc",
    }


async def test_a_slash_command_with_a_bad_signature_or_form_is_refused(
    gateway: ServiceProcess, db: asyncpg.Connection
) -> None:
    body = urlencode(COMMAND).encode()
    before = await stored(db)
    status, answer, _ = post(gateway.url + "/slack/commands", body, sign(body, secret="x"), FORM)
    assert (status, answer["error"]["code"]) == (401, "invalid_signature")
    broken = urlencode({k: v for k, v in COMMAND.items() if k != "user_id"}).encode()
    status, answer, _ = post(gateway.url + "/slack/commands", broken, sign(broken), FORM)
    assert (status, answer["error"]["code"]) == (400, "malformed_body")
    assert await stored(db) == before


CLICK = {
    "type": "block_actions",
    "team": {"id": "T1", "domain": "acme"},
    "user": {"id": "U4", "username": "bo"},
    "api_app_id": "A1",
    "channel": {"id": "C5", "name": "general"},
    "container": {"type": "message", "message_ts": "1700.0001", "channel_id": "C5"},
    "trigger_id": "3333.4444.click",
    "response_url": "https://hooks.slack.com/actions/T1/2/def",
    "actions": [
        {"type": "button", "action_id": "weather_again", "block_id": "b7", "value": "weather Porto",
         "action_ts": "1700.0002"}
    ],
}  # fmt: skip


async def test_a_button_click_is_queued_as_an_interaction(
    gateway: ServiceProcess, db: asyncpg.Connection
) -> None:
    body = urlencode({"payload": json.dumps(CLICK)}).encode()
    status, answer, _ = post(gateway.url + "/slack/interactivity", body, sign(body), FORM)
    assert (status, answer) == (200, {"ok": True, "outcome": "accepted"})
    job = await dispatch_job(db, "interaction:3333.4444.click")
    assert job["kind"] == "interaction"
    assert (job["user_id"], job["channel"], job["thread_ts"]) == ("U4", "C5", "1700.0001")
    assert job["interaction"] == {
        "action_id": "weather_again",
        "value": "weather Porto",
        "block_id": "b7",
    }
    before = await stored(db)
    other = urlencode({"payload": json.dumps({"type": "shortcut"})}).encode()
    status, answer, _ = post(gateway.url + "/slack/interactivity", other, sign(other), FORM)
    assert (status, answer) == (200, {"ok": True, "outcome": "ignored"})
    status, answer, _ = post(gateway.url + "/slack/interactivity", b"payload=%7B", sign(b"x"), FORM)
    assert (status, answer["error"]["code"]) == (401, "invalid_signature")
    assert await stored(db) == before


async def test_metrics_count_events_by_type_and_outcome(gateway: ServiceProcess) -> None:
    body = event_body("EvMETRICS")
    post(gateway.url + "/slack/events", body, sign(body))
    post(gateway.url + "/slack/events", body, {})
    with urllib.request.urlopen(gateway.url + "/metrics", timeout=5) as response:
        text = response.read().decode()
    assert 'jeeves_gateway_events_total{outcome="accepted",type="app_mention"}' in text
    assert 'jeeves_gateway_events_total{outcome="rejected",type="unknown"}' in text
    assert "jeeves_gateway_commit_batch_events_bucket" in text
    assert SECRET not in gateway.logs()


def test_slack_routes_keep_the_kit_contract(gateway: ServiceProcess) -> None:
    """Served in front of Quart, the Slack routes still speak the kit's HTTP dialect."""
    request = urllib.request.Request(gateway.url + "/slack/events", method="GET")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 405
    assert refused.value.headers["Allow"] == "POST"
    assert json.loads(refused.value.read())["error"]["code"] == "method_not_allowed"
    body = event_body("EvREQID")
    request = urllib.request.Request(
        gateway.url + "/slack/events",
        data=body,
        method="POST",
        headers={**sign(body), "X-Request-ID": "trace-gw-7", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.headers["X-Request-ID"] == "trace-gw-7"

    def access_logged() -> bool:
        return any(
            r.get("request_id") == "trace-gw-7"
            and r.get("event") == "request"
            and r.get("route") == "/slack/events"
            for r in gateway.log_records()
        )

    wait_until(access_logged, timeout=5, what="the access log line of the Slack route")
    with urllib.request.urlopen(gateway.url + "/metrics", timeout=5) as response:
        text = response.read().decode()
    assert (
        'jeeves_http_requests_total{method="POST",route="/slack/events",service="gateway",'
        'status="200"}'
    ) in text
    status, answer, _ = post(gateway.url + "/no/such/route", b"{}", {})
    assert (status, answer["error"]["code"]) == (404, "not_found")


async def test_pruning_forgets_old_events_only(
    gateway: ServiceProcess, db: asyncpg.Connection
) -> None:
    await db.execute(
        "INSERT INTO gateway_inbound_events (event_id, kind, team_id, user_id, channel, body,"
        " received_at) SELECT 'EvOLD' || i, 'message', 'T1', 'U1', 'C1', '{}',"
        " now() - interval '40 days' FROM generate_series(1, 7) AS i"
    )
    recent = await db.fetchval("SELECT count(*) FROM gateway_inbound_events")
    assert await prune_events(db, timedelta(days=30), batch=3) == 7
    assert await db.fetchval("SELECT count(*) FROM gateway_inbound_events") == recent - 7
    assert await prune_events(db, timedelta(days=30)) == 0
    body = event_body("EvOLD1")
    status, answer, _ = post(gateway.url + "/slack/events", body, sign(body))
    assert (status, answer["outcome"]) == (200, "accepted"), "a forgotten id is new again"
