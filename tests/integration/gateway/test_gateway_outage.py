"""The gateway while its PostgreSQL is down: Slack is told to retry (503), and the retry lands.

Real: the `jeeves-gateway` process and a PostgreSQL of this module's own, stopped and started
again mid-test. Faked: Slack — the request and its retry are signed here.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest

from jeeves.localstack.postgres import PostgresServer
from support.services import ServiceProcess, migrate

pytestmark = pytest.mark.integration
SECRET = "outage-test-signing-secret"


def signed_post(url: str, body: bytes) -> tuple[int, Any]:
    ts = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256)
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
    }
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), json.loads(exc.read())


@pytest.fixture(name="own_postgres", scope="module")
def fixture_own_postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(name="gateway", scope="module")
def fixture_gateway(own_postgres: PostgresServer) -> Iterator[ServiceProcess]:
    env = {"JEEVES_DATABASE_URL": own_postgres.dsn, "JEEVES_INGEST_TIMEOUT_S": "2"}
    migrate("jeeves-gateway", own_postgres.dsn, JEEVES_INGEST_TIMEOUT_S="2")
    service = ServiceProcess("jeeves-gateway", {**env, "JEEVES_SLACK_SIGNING_SECRET": SECRET})
    try:
        service.start()
        yield service
    finally:
        service.close()


async def test_an_event_refused_during_an_outage_is_stored_once_on_retry(
    gateway: ServiceProcess, own_postgres: PostgresServer
) -> None:
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": "T1",
            "event_id": "EvOUTAGE",
            "event": {"type": "app_mention", "user": "U1", "text": "hi", "ts": "1.1",
                      "channel": "C1"},
        }
    ).encode()  # fmt: skip
    own_postgres.stop("immediate")
    try:
        status, answer = signed_post(gateway.url + "/slack/events", body)
        assert (status, answer["error"]["code"]) == (503, "unavailable")
    finally:
        own_postgres.start()
    for _ in range(3):  # Slack retries up to three times
        status, answer = signed_post(gateway.url + "/slack/events", body)
        if status == 200:
            break
    assert (status, answer) == (200, {"ok": True, "outcome": "accepted"})
    conn = await asyncpg.connect(own_postgres.dsn)
    try:
        events = await conn.fetchval("SELECT count(*) FROM gateway_inbound_events")
        jobs = await conn.fetchval("SELECT count(*) FROM pgqueuer WHERE entrypoint = 'dispatch'")
    finally:
        await conn.close()
    assert (events, jobs) == (1, 1)
