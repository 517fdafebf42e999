"""Usage statistics: every action call the dispatcher makes is recorded by the data service, and
a data service that is down or stalled never holds up a dispatch.

Real: PostgreSQL (the dispatcher's queue and a separate database for the data service), the
token dealer (`jeeves-tokens init-dev` clients: the dispatcher's token carries scope `data`),
`jeeves-data` with authentication on, `jeeves-dispatcher` (JEEVES_DATA_URL set) and the scripted
action process. Faked: the gateway (the test enqueues `DispatchJob`s) and the poster (reply jobs
stay queued where the test reads them). The stalled data service is the real one frozen with
SIGSTOP.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from test_dispatcher import (  # noqa: F401  (module fixtures shared with the static-registry tests)
    BOT,
    dispatch,
    dispatch_job,
    fixture_action,
    fixture_conn,
    fixture_migrated_url,
    replies_for,
)

from integration.data.data_service_support import start_data_service
from integration.tokens.dealer_client import request_token
from jeeves.kit.jobs import DISPATCH, DispatchJob
from jeeves.kit.queue import enqueue
from jeeves.localstack.postgres import PostgresServer
from support.services import ServiceProcess, entry_point, http_json

pytestmark = pytest.mark.integration
TEAM = "T0STATS"
ACTIVITY_TIMEOUT_S = 1.0


@pytest.fixture(name="dealer_dir", scope="module")
def fixture_dealer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("activity-dealer")
    subprocess.run(
        [*entry_point("jeeves-tokens"), "init-dev", "--dir", str(directory)],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return directory


@pytest.fixture(name="dealer", scope="module")
def fixture_dealer(dealer_dir: Path) -> Iterator[ServiceProcess]:
    service = ServiceProcess(
        "jeeves-tokens",
        {
            "JEEVES_TOKENS_KEYS_DIR": str(dealer_dir / "keys"),
            "JEEVES_TOKENS_CLIENTS_FILE": str(dealer_dir / "clients.json"),
        },
    )
    try:
        service.start()
        yield service
    finally:
        service.close()


@pytest.fixture(name="data", scope="module")
def fixture_data(
    postgres_server: PostgresServer, dealer: ServiceProcess
) -> Iterator[ServiceProcess]:
    url = postgres_server.create_database("activity_" + uuid.uuid4().hex[:10])
    service = start_data_service(url, {"JEEVES_TOKENS_URL": dealer.url})
    yield service
    service.close()


@pytest.fixture(name="dispatcher", scope="module")
def fixture_dispatcher(
    migrated_url: str,
    action: ServiceProcess,
    data: ServiceProcess,
    dealer: ServiceProcess,
    dealer_dir: Path,
) -> Iterator[ServiceProcess]:
    actions = {"scripted": {"keywords": ["try"], "url": action.url, "timeout_s": 2}}
    service = ServiceProcess(
        "jeeves-dispatcher",
        {
            "JEEVES_DATABASE_URL": migrated_url,
            "JEEVES_SLACK_BOT_USER_ID": BOT,
            "JEEVES_ACTIONS": json.dumps(actions),
            "JEEVES_DATA_URL": data.url,
            "JEEVES_ACTIVITY_TIMEOUT_S": str(ACTIVITY_TIMEOUT_S),
            "JEEVES_TOKENS_URL": dealer.url,
            "JEEVES_AUTH_CLIENT_SECRET_FILE": str(dealer_dir / "secrets" / "dispatcher"),
            "JEEVES_QUEUE_MAX_ATTEMPTS": "3",
            "JEEVES_QUEUE_RETRY_BASE_S": "0.1",
            "JEEVES_QUEUE_RETRY_MAX_S": "0.3",
            "JEEVES_QUEUE_HEARTBEAT_TIMEOUT_S": "1",
        },
    )
    service.start()
    yield service
    print(service.logs()[-20000:])  # shown by pytest only when a test failed
    service.close()


def token(dealer: ServiceProcess, dealer_dir: Path, client: str, audience: str) -> str:
    secret = (dealer_dir / "secrets" / client).read_text().strip()
    status, body, _ = request_token(
        dealer.url,
        {"grant_type": "client_credentials", "audience": audience},
        basic=(client, secret),
    )
    assert status == 200, body
    return str(body["access_token"])


async def activity_rows(data_url: str, event_ids: list[str]) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(data_url)
    try:
        rows = await conn.fetch(
            "SELECT a.event_id, a.action, a.outcome, a.latency_ms, u.team_id, u.slack_id "
            "FROM activity a JOIN users u ON u.id = a.user_id WHERE a.event_id = ANY($1)",
            event_ids,
        )
    finally:
        await conn.close()
    return [dict(row) for row in rows]


async def eventually_rows(data_url: str, event_ids: list[str], timeout: float = 15) -> list[Any]:
    deadline = time.monotonic() + timeout
    while True:
        rows = await activity_rows(data_url, event_ids)
        if len(rows) >= len(event_ids) or time.monotonic() > deadline:
            return sorted(rows, key=lambda row: event_ids.index(row["event_id"]))
        await asyncio.sleep(0.1)


def activity_metric(dispatcher: ServiceProcess) -> dict[str, float]:
    """`jeeves_dispatch_activity_total` by result, from the dispatcher's /metrics."""
    with urllib.request.urlopen(dispatcher.url + "/metrics", timeout=5) as response:
        text = response.read().decode()
    found = {}
    for line in text.splitlines():
        if line.startswith('jeeves_dispatch_activity_total{result="'):
            label = line.split('"')[1]
            found[label] = float(line.rsplit(" ", 1)[1])
    return found


async def dispatch_until_dead(
    conn: asyncpg.Connection, job: DispatchJob, timeout: float = 20
) -> None:
    """Enqueue `job`, whose action always fails, and wait until it is a dead letter."""
    await enqueue(conn, DISPATCH, job)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        failed = await conn.fetchval(
            "SELECT count(*) FROM pgqueuer WHERE status = 'failed' "
            "AND convert_from(payload, 'UTF8')::jsonb ->> 'event_id' = $1",
            job["event_id"],
        )
        if failed:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{job['event_id']} did not become a dead letter in {timeout}s")


@pytest.fixture(name="data_db_url", scope="module")
def fixture_data_db_url(data: ServiceProcess) -> str:
    return str(data.env["JEEVES_DATABASE_URL"])


async def test_each_action_call_becomes_one_activity_row_and_shows_in_the_usage_stats(
    conn: asyncpg.Connection,
    dispatcher: ServiceProcess,
    data: ServiceProcess,
    data_db_url: str,
    dealer: ServiceProcess,
    dealer_dir: Path,
) -> None:
    user = "U" + uuid.uuid4().hex[:8].upper()
    jobs = {
        "ok": dispatch_job(f"<@{BOT}> try ok secret words", team_id=TEAM, user_id=user),
        "reject": dispatch_job(f"<@{BOT}> try reject", team_id=TEAM, user_id=user),
        "dead": dispatch_job(f"<@{BOT}> try fail 9", team_id=TEAM, user_id=user),
        "help": dispatch_job(f"<@{BOT}> help", team_id=TEAM, user_id=user),
    }
    assert await dispatch(conn, jobs["ok"]) == "replied"
    assert await dispatch(conn, jobs["reject"]) == "rejected"
    assert await dispatch(conn, jobs["help"]) == "builtin"
    await dispatch_until_dead(conn, jobs["dead"])

    calls = [f"{jobs[k]['event_id']}:scripted" for k in ("ok", "reject", "dead")]
    rows = await eventually_rows(data_db_url, calls)
    assert [(r["event_id"], r["outcome"]) for r in rows] == [
        (calls[0], "ok"),
        (calls[1], "user_error"),
        (calls[2], "error"),
    ]
    assert {(r["team_id"], r["slack_id"], r["action"]) for r in rows} == {(TEAM, user, "scripted")}
    help_rows = await activity_rows(data_db_url, [f"{jobs['help']['event_id']}:help"])
    assert help_rows == []  # built-ins call no action

    admin = token(dealer, dealer_dir, "cli", "data")
    status, stats = http_json(
        "GET", data.url + "/v1/stats/usage", headers={"Authorization": f"Bearer {admin}"}
    )
    assert status == 200, stats
    [today] = [r for r in stats["per_action_per_day"] if r["action"] == "scripted"]
    assert (today["calls"], today["failed"], today["user_errors"]) == (3, 1, 1)
    assert stats["totals"]["active_users"] == 1
    assert activity_metric(dispatcher)["recorded"] == 3


async def test_a_stalled_or_stopped_data_service_delays_no_reply(
    conn: asyncpg.Connection,
    dispatcher: ServiceProcess,
    data: ServiceProcess,
    data_db_url: str,
) -> None:
    assert data.proc is not None
    before = activity_metric(dispatcher)
    os.kill(data.proc.pid, signal.SIGSTOP)  # accepts connections, answers nothing
    try:
        started = time.monotonic()
        stalled = [dispatch_job(f"<@{BOT}> try ok n{i}", team_id=TEAM) for i in range(20)]
        for job in stalled:
            assert await dispatch(conn, job, timeout=10) == "replied"
        elapsed = time.monotonic() - started
        for job in stalled:
            assert len(await replies_for(conn, job["event_id"])) == 1
    finally:
        os.kill(data.proc.pid, signal.SIGCONT)
    # 20 calls one after another; had each waited for its record (1 s timeout), this would
    # take 20 s at least. Generous bound for a loaded 2-core machine.
    assert elapsed < 10, f"20 dispatches took {elapsed:.1f}s with the data service stalled"

    data.stop()
    try:
        down = dispatch_job(f"<@{BOT}> try ok while down", team_id=TEAM)
        assert await dispatch(conn, down) == "replied"
        deadline = time.monotonic() + 15
        while activity_metric(dispatcher).get("failed", 0) <= before.get("failed", 0):
            assert time.monotonic() < deadline, "the failed recording was not counted"
            await asyncio.sleep(0.1)
    finally:
        data.start()
    back = dispatch_job(f"<@{BOT}> try ok after", team_id=TEAM)
    assert await dispatch(conn, back) == "replied"
    [row] = await eventually_rows(data_db_url, [f"{back['event_id']}:scripted"])
    assert row["outcome"] == "ok"
