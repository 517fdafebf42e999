"""A distributed app over Socket Mode: only installed workspaces' events are stored, and an
uninstall makes `jeeves-socket` forget the workspace.

Real: `jeeves-socket` (JEEVES_SLACK_DISTRIBUTED), `jeeves-data` on PostgreSQL holding the
installations, the Slack emulator with two workspaces delivering in Socket Mode. The
installation is written straight into the data service (the OAuth flow is the gateway's, tested
end to end in tests/e2e/test_connections.py). Nothing is faked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import asyncpg
import pytest

from integration.data.data_service_support import start_data_service
from jeeves.localstack.ports import wait_until
from jeeves.localstack.postgres import PostgresServer
from support.services import ServiceProcess, http_json, migrate
from support.slack import SlackEmulator, start_slack_emulator

pytestmark = pytest.mark.integration
APP_TOKEN = "xapp-1-distributed"


@pytest.fixture(name="stack", scope="module")
def fixture_stack(
    postgres_server: PostgresServer, database_url: str
) -> Iterator[tuple[SlackEmulator, ServiceProcess, str]]:
    migrate("jeeves-socket", database_url)
    data_db = postgres_server.create_database("jeeves_socket_distributed_data")
    started: list[ServiceProcess] = []
    try:
        data = start_data_service(data_db)
        started.append(data)
        body = {"bot_user_id": "U0JEEVES", "bot_token": "xoxb-irrelevant-here"}
        assert http_json("PUT", data.url + "/v1/installations/T0TEAM", body)[0] == 201
        emulator = start_slack_emulator(
            app_token=APP_TOKEN,
            delivery="socket",
            ack_timeout_s=1.5,
            extra_env={"JEEVES_EMULATOR_TEAMS": "T0SECOND:second"},
        )
        started.append(emulator)
        slack = SlackEmulator(emulator.url)
        socket = ServiceProcess(
            "jeeves-socket",
            {
                "JEEVES_DATABASE_URL": database_url,
                "JEEVES_SLACK_APP_TOKEN": APP_TOKEN,
                "JEEVES_SLACK_API_URL": slack.api_url,
                "JEEVES_SLACK_DISTRIBUTED": "true",
                "JEEVES_DATA_URL": data.url,
            },
        )
        started.append(socket)
        socket.start()
        yield slack, data, database_url
    finally:
        for service in reversed(started):
            service.close()


def stored(database_url: str, event_id: str) -> int:
    async def count() -> int:
        conn = await asyncpg.connect(database_url)
        try:
            return int(
                await conn.fetchval(
                    "SELECT count(*) FROM gateway_inbound_events WHERE event_id = $1", event_id
                )
            )
        finally:
            await conn.close()

    return asyncio.run(count())


def settled(slack: SlackEmulator, event_id: str) -> dict[str, object]:
    [delivery] = slack.deliveries(event_id)
    return slack.wait_for_delivery(delivery["id"])


def test_only_installed_workspaces_are_stored_and_an_uninstall_is_forgotten(
    stack: tuple[SlackEmulator, ServiceProcess, str],
) -> None:
    slack, data, database_url = stack
    mine = slack.send_mention("echo installed", channel="C0MINE")
    theirs = slack.send_mention("echo not installed", channel="C0THEIRS", team="T0SECOND")
    assert settled(slack, mine)["acked"] is True
    assert settled(slack, theirs)["acked"] is True, "acked, so Slack does not redeliver it"
    assert stored(database_url, mine) == 1
    assert stored(database_url, theirs) == 0

    for event_id in slack.uninstall("T0TEAM"):
        assert settled(slack, event_id)["acked"] is True
    wait_until(
        lambda: http_json("GET", data.url + "/v1/installations/T0TEAM")[0] == 404,
        timeout=10,
        what="the installation deleted",
    )
    after = slack.send_mention("echo after uninstall", channel="C0MINE")
    assert settled(slack, after)["acked"] is True
    assert stored(database_url, after) == 0
