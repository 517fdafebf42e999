"""The Socket Mode ingress as Slack meets it: `jeeves-socket` processes linked to the Slack
emulator (delivering in Socket Mode), writing to a real PostgreSQL.

Real: `jeeves-socket migrate` and two `jeeves-socket` processes (two links each), the emulator's
WebSockets, envelopes, acks and redeliveries, PostgreSQL with the queue schema. Faked: nothing.
"Cannot store" is a real lock held on the inbound table; a dropped link is the emulator closing
it without a word.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import pytest

from jeeves.localstack.ports import wait_until
from support.services import ServiceProcess, http_status, migrate
from support.slack import SlackEmulator, start_slack_emulator

pytestmark = pytest.mark.integration
TOKEN = "xoxb-socket-ingress-bot"
APP_TOKEN = "xapp-1-socket-ingress-app"


@pytest.fixture(name="socket_db", scope="module")
def fixture_socket_db(database_url: str) -> str:
    assert "queue schema: installed" in migrate("jeeves-socket", database_url)
    assert "socket tables: up to date" in migrate("jeeves-socket", database_url)
    return database_url


@pytest.fixture(name="emulator", scope="module")
def fixture_emulator() -> Iterator[ServiceProcess]:
    process = start_slack_emulator(
        token=TOKEN,
        app_token=APP_TOKEN,
        delivery="socket",
        ack_timeout_s=1.0,
        retry_delays_s="0.1,0.3,0.5",
    )
    try:
        yield process
    finally:
        process.close()


@pytest.fixture(name="slack")
def fixture_slack(emulator: ServiceProcess) -> SlackEmulator:
    return SlackEmulator(emulator.url)


def socket_process(database_url: str, slack: SlackEmulator, links: int = 2) -> ServiceProcess:
    return ServiceProcess(
        "jeeves-socket",
        {
            "JEEVES_DATABASE_URL": database_url,
            "JEEVES_SLACK_APP_TOKEN": APP_TOKEN,
            "JEEVES_SLACK_API_URL": slack.api_url,
            "JEEVES_SOCKET_CONNECTIONS": str(links),
            "JEEVES_SOCKET_BACKOFF_BASE_S": "0.1",
            "JEEVES_SOCKET_BACKOFF_MAX_S": "1",
            "JEEVES_SOCKET_DRAIN_S": "1",
            "JEEVES_INGEST_TIMEOUT_S": "0.5",
        },
    )


@pytest.fixture(name="replicas", scope="module")
def fixture_replicas(socket_db: str, emulator: ServiceProcess) -> Iterator[list[ServiceProcess]]:
    slack = SlackEmulator(emulator.url)
    started = [socket_process(socket_db, slack), socket_process(socket_db, slack)]
    try:
        for process in started:
            process.start()
        wait_until(lambda: len(slack.socket_connections()) == 4, timeout=20, what="four links")
        yield started
    finally:
        for process in started:
            process.close()


@pytest.fixture(name="db")
async def fixture_db(socket_db: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(socket_db)
    yield conn
    await conn.close()


async def stored(db: asyncpg.Connection, event_id: str) -> tuple[int, int]:
    """(inbound rows, dispatch jobs) of one event."""
    rows = await db.fetchval(
        "SELECT count(*) FROM gateway_inbound_events WHERE event_id = $1", event_id
    )
    jobs = await db.fetch("SELECT payload FROM pgqueuer WHERE entrypoint = 'dispatch'")
    mine = [j for j in jobs if json.loads(j["payload"])["event_id"] == event_id]
    return int(rows), len(mine)


def settled(slack: SlackEmulator, event_id: str) -> dict[str, Any]:
    [delivery] = slack.deliveries(event_id)
    return slack.wait_for_delivery(delivery["id"])


def accepted_by(process: ServiceProcess) -> float:
    total = 0.0
    for line in process_metrics(process):
        if line.startswith("jeeves_socket_envelopes_total{") and 'outcome="accepted"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def process_metrics(process: ServiceProcess) -> list[str]:
    import urllib.request

    with urllib.request.urlopen(process.url + "/metrics", timeout=5) as response:
        return response.read().decode().splitlines()


async def test_a_mention_is_stored_once_then_acked(
    replicas: list[ServiceProcess], slack: SlackEmulator, db: asyncpg.Connection
) -> None:
    event_id = slack.send_mention("weather in Lisbon", channel="C0SOCK", force_retries=2)
    delivery = settled(slack, event_id)
    assert delivery["acked"] is True
    assert len(delivery["attempts"]) >= 3  # the emulator ignored two acks: three deliveries
    assert all(a["transport"] == "socket" for a in delivery["attempts"])
    assert await stored(db, event_id) == (1, 1)
    rows = await db.fetch("SELECT payload FROM pgqueuer WHERE entrypoint = 'dispatch'")
    [job] = [json.loads(r["payload"]) for r in rows if event_id in r["payload"].decode()]
    assert (job["kind"], job["channel"], job["bot_user_id"]) == ("message", "C0SOCK", "U0JEEVES")


async def test_an_envelope_is_not_acked_until_its_event_is_stored(
    replicas: list[ServiceProcess], slack: SlackEmulator, db: asyncpg.Connection, socket_db: str
) -> None:
    blocker = await asyncpg.connect(socket_db)
    transaction = blocker.transaction()
    await transaction.start()
    await blocker.execute("LOCK TABLE gateway_inbound_events IN ACCESS EXCLUSIVE MODE")
    try:
        event_id = slack.send_mention("echo held up", channel="C0SOCK")
        await _wait(lambda: _attempts(slack, event_id) >= 2, "a redelivery of the unacked")
    finally:
        await transaction.rollback()
        await blocker.close()
    delivery = settled(slack, event_id)
    assert delivery["acked"] is True
    first = delivery["attempts"][0]
    assert first["timed_out"] is True, "no ack while the event could not be stored"
    assert delivery["attempts"][1]["reason"] == "timeout"
    assert await stored(db, event_id) == (1, 1)


def _attempts(slack: SlackEmulator, event_id: str) -> int:
    found = slack.deliveries(event_id)
    return len(found[0]["attempts"]) if found else 0


async def _wait(condition: Any, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_two_replicas_share_the_envelopes_and_store_each_event_once(
    replicas: list[ServiceProcess], slack: SlackEmulator, db: asyncpg.Connection
) -> None:
    before = [accepted_by(p) for p in replicas]
    event_ids = [slack.send_mention(f"echo {n}", channel="C0MANY") for n in range(40)]
    for event_id in event_ids:
        assert settled(slack, event_id)["acked"] is True
    for event_id in event_ids:
        assert await stored(db, event_id) == (1, 1)
    gained = [accepted_by(p) - b for p, b in zip(replicas, before, strict=True)]
    assert sum(gained) == 40
    assert min(gained) > 0, f"both replicas took envelopes: {gained}"


async def test_a_slash_command_is_stored_and_its_user_told_at_once(
    replicas: list[ServiceProcess], slack: SlackEmulator, db: asyncpg.Connection
) -> None:
    since = time.time()
    sent = slack.send_command("help", channel="C0CMD")
    assert sent["delivery"]["acked"] is True
    assert await stored(db, f"command:{sent['trigger_id']}") == (1, 1)
    shown = slack.messages("C0CMD", since=since, source="response_url")
    assert [m["text"] for m in shown] == ["Working on it…"]
    assert shown[0]["ephemeral_to"] == "U0ALICE"


async def test_links_come_back_after_a_refresh_and_after_a_drop(
    replicas: list[ServiceProcess], slack: SlackEmulator, db: asyncpg.Connection
) -> None:
    old = {c["id"] for c in slack.socket_connections()}
    slack.socket_disconnect("refresh_requested", close_after_s=0.5)
    wait_until(
        lambda: _fresh_links(slack, old) == 4, timeout=20, what="four new links after a refresh"
    )
    old = {c["id"] for c in slack.socket_connections()}
    slack.socket_disconnect(None)  # dropped without a word
    wait_until(
        lambda: _fresh_links(slack, old) == 4, timeout=20, what="four new links after a drop"
    )
    event_id = slack.send_mention("echo still here", channel="C0SOCK")
    assert settled(slack, event_id)["acked"] is True
    assert await stored(db, event_id) == (1, 1)
    for process in replicas:
        assert http_status(process.url + "/readyz") == 200


async def test_a_failed_upgrade_is_retried_with_a_new_url(
    replicas: list[ServiceProcess], slack: SlackEmulator
) -> None:
    """A URL is good for one try: after an upgrade fails, the link asks for a new one (slack_sdk's
    client retries the spent URL for ever; see docs/slack-app.md)."""
    old = {c["id"] for c in slack.socket_connections()}
    opens = len(slack.calls("apps.connections.open"))
    slack.socket_refuse_upgrades(3)
    slack.socket_disconnect(None)
    wait_until(
        lambda: _fresh_links(slack, old) == 4, timeout=30, what="four links after refused upgrades"
    )
    assert len(slack.calls("apps.connections.open")) - opens >= 4 + 3, "a new URL per try"


def _fresh_links(slack: SlackEmulator, old: set[str]) -> int:
    return len([c for c in slack.socket_connections() if c["id"] not in old])


def test_a_bot_token_where_the_app_token_belongs_stops_the_process(socket_db: str) -> None:
    import subprocess

    from support.services import entry_point

    result = subprocess.run(
        entry_point("jeeves-socket"),
        env={
            "JEEVES_DATABASE_URL": socket_db,
            "JEEVES_SLACK_APP_TOKEN": TOKEN,
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "JEEVES_SLACK_APP_TOKEN is invalid" in result.stderr
    assert "app-level token" in result.stderr
