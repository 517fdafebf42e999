"""The dispatcher routing from the live etcd registry: actions appear, change and switch off
without a restart.

Real: etcd, PostgreSQL, the `jeeves-dispatcher` process (JEEVES_ETCD_ENDPOINTS set, no
JEEVES_ACTIONS) and the scripted action process. Faked: the gateway (the test enqueues
`DispatchJob`s) and the poster (reply jobs stay queued where the test reads them).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

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

from jeeves.kit.actions import ActionSpec
from jeeves.kit.etcd import seed_actions
from jeeves.localstack.etcd import EtcdServer
from support.services import ServiceProcess

pytestmark = pytest.mark.integration
ENV = "disp" + uuid.uuid4().hex[:6]


@pytest.fixture(name="dispatcher", scope="module")
def fixture_dispatcher(
    migrated_url: str, etcd_server: EtcdServer, action: ServiceProcess
) -> Iterator[ServiceProcess]:
    service = ServiceProcess(
        "jeeves-dispatcher",
        {
            "JEEVES_DATABASE_URL": migrated_url,
            "JEEVES_SLACK_BOT_USER_ID": BOT,
            "JEEVES_ENV": ENV,
            "JEEVES_AUTH": "off",  # an environment of its own, not dev: unauthenticated on purpose
            "JEEVES_ETCD_ENDPOINTS": etcd_server.endpoint,
            "JEEVES_QUEUE_HEARTBEAT_TIMEOUT_S": "1",
        },
    )
    service.start()
    yield service
    print(service.logs()[-20000:])  # shown by pytest only when a test failed
    service.close()


async def reply_to(conn: asyncpg.Connection, text: str) -> str:
    job = dispatch_job(f"<@{BOT}> {text}")
    await dispatch(conn, job)
    [reply] = await replies_for(conn, job["event_id"])
    return str(reply["text"])


async def eventually(conn: asyncpg.Connection, text: str, phrase: str, timeout: float = 10) -> str:
    """The reply to `text` once it contains `phrase` (the registry applies within a second)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = await reply_to(conn, text)
        if phrase in answer or time.monotonic() > deadline:
            return answer


async def test_actions_registered_in_etcd_are_routed_without_a_restart(
    conn: asyncpg.Connection,
    dispatcher: ServiceProcess,
    action: ServiceProcess,
    etcd_server: EtcdServer,
) -> None:
    assert "Did you mean" not in await reply_to(conn, "try ok before")
    spec = ActionSpec(name="scripted", keywords=("try",), url=action.url, usage="try ok <w>")
    await seed_actions(etcd_server.endpoint, ENV, [spec])
    assert await eventually(conn, "try ok live", "ok: live") == "ok: live"
    assert "• *try* · usage: `try ok &lt;w&gt;`" in await reply_to(conn, "help")

    off = ActionSpec(name="scripted", keywords=("try",), url=action.url, enabled=False)
    await seed_actions(etcd_server.endpoint, ENV, [off])
    answer = await eventually(conn, "try ok again", "turned off")
    assert "`try` is turned off right now" in answer
