"""A poster SIGKILLed while its response_url call is in flight does not answer twice.

Real: PostgreSQL (a database of its own, so no other poster takes the job), the
`jeeves-poster` process killed with SIGKILL and started again, the Slack emulator holding the
response_url's answer back (a `slow` fault: the message is shown at once, the answer comes
later). Faked: the dispatcher — the test enqueues the `ReplyJob` itself.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator

import asyncpg
import pytest

from jeeves.kit.jobs import REPLY, ReplyJob
from jeeves.kit.queue import enqueue
from jeeves.localstack.postgres import PostgresServer
from support.services import ServiceProcess, migrate
from support.slack import SlackEmulator, start_slack_emulator

pytestmark = pytest.mark.integration
TOKEN = "xoxb-response-url-crash"


@pytest.fixture(name="crash_db", scope="module")
def fixture_crash_db(postgres_server: PostgresServer) -> str:
    url = postgres_server.create_database(f"poster_ru_crash_{uuid.uuid4().hex[:8]}")
    migrate("jeeves-poster", url)
    return url


@pytest.fixture(name="slack", scope="module")
def fixture_slack() -> Iterator[SlackEmulator]:
    service = start_slack_emulator(token=TOKEN)
    yield SlackEmulator(service.url)
    service.close()


async def test_a_kill_during_the_response_url_call_posts_once(
    crash_db: str, slack: SlackEmulator
) -> None:
    channel = "C" + uuid.uuid4().hex[:10].upper()
    slack.add_fault(kind="slow", delay_s=8, channel=channel, methods=["response_url"])
    poster = ServiceProcess(
        "jeeves-poster",
        {
            "JEEVES_DATABASE_URL": crash_db,
            "JEEVES_SLACK_BOT_TOKEN": TOKEN,
            "JEEVES_SLACK_API_URL": slack.api_url,
            "JEEVES_SLACK_TIMEOUT_S": "10",
            "JEEVES_POST_MAX_WAIT_S": "1",
            "JEEVES_POST_LEASE_S": "12",
            "JEEVES_QUEUE_HEARTBEAT_TIMEOUT_S": "1",
            "JEEVES_QUEUE_RETRY_BASE_S": "0.1",
            "JEEVES_QUEUE_RETRY_MAX_S": "0.3",
        },
    )
    job: ReplyJob = {
        "reply_key": "reply:command:" + uuid.uuid4().hex,
        "channel": channel,
        "thread_ts": None,
        "text": "Commands: help",
        "event_id": None,
        "sent_at": time.time(),
        "response_url": slack.response_url(channel),
    }
    conn = await asyncpg.connect(crash_db)
    try:
        poster.start()
        await enqueue(conn, REPLY, job)
        slack.wait_for_messages(1, channel=channel, source="response_url")  # shown, unanswered
        poster.kill()
        poster.start()  # the job runs again once its heartbeat is missed, past the lease
        deadline = time.monotonic() + 40
        state = None
        while time.monotonic() < deadline:
            state = await conn.fetchrow(
                "SELECT state, last_error FROM outbound_messages WHERE reply_key = $1",
                job["reply_key"],
            )
            if state is not None and state["state"] == "posted":
                break
            await asyncio.sleep(0.1)
        assert state is not None
        assert state["state"] == "posted", state
        assert str(state["last_error"]).startswith("unconfirmed")
        assert len(slack.messages(channel, source="api,response_url")) == 1
        assert [c["status"] for c in slack.calls("response_url", channel=channel)] == [200]
        assert slack.calls("chat.postMessage", channel=channel) == []
    finally:
        await conn.close()
        print(poster.logs()[-8000:])  # shown only when the test failed
        poster.close()
