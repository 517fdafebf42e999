"""Reading back through the emulator the way the poster does: slack_sdk against the process.

Real: the `jeeves-slack-emulator` process and slack_sdk's AsyncWebClient (its own parameter
encoding: metadata in a JSON body, booleans as "1"/"0" in query strings, cursor pagination).
Nothing faked; no gateway is needed because only the Web API is used.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from support.services import ServiceProcess
from support.slack import SlackEmulator, start_slack_emulator

pytestmark = pytest.mark.integration
TOKEN = "xoxb-history-token"


@pytest.fixture(name="emulator", scope="module")
def fixture_emulator() -> Iterator[ServiceProcess]:
    process = start_slack_emulator(token=TOKEN)
    yield process
    process.close()


@pytest.fixture(name="slack")
def fixture_slack(emulator: ServiceProcess) -> Iterator[SlackEmulator]:
    slack = SlackEmulator(emulator.url)
    yield slack
    slack.clear_faults()


@pytest.fixture(name="client")
async def fixture_client(slack: SlackEmulator) -> AsyncIterator[AsyncWebClient]:
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1))
    client = AsyncWebClient(token=TOKEN, base_url=slack.api_url, session=session, retry_handlers=[])
    yield client
    await session.close()


def channel() -> str:
    return "C" + uuid.uuid4().hex[:10].upper()


def meta(key: str) -> dict[str, object]:
    return {"event_type": "jeeves_reply", "event_payload": {"reply_key": key}}


async def test_metadata_posted_is_read_back_from_history(client: AsyncWebClient) -> None:
    where = channel()
    posted = await client.chat_postMessage(channel=where, text="hi", metadata=meta("k1"))
    assert posted["message"]["metadata"] == meta("k1")
    plain = await client.conversations_history(channel=where)
    assert "metadata" not in plain["messages"][0]
    found = await client.conversations_history(
        channel=where, oldest="0", limit=10, include_all_metadata=True
    )
    assert found["ok"] is True
    assert [m["metadata"] for m in found["messages"]] == [meta("k1")]
    assert found["messages"][0]["ts"] == posted["ts"]
    assert found["has_more"] is False


async def test_slack_sdk_pages_through_history_by_cursor(client: AsyncWebClient) -> None:
    where = channel()
    for n in range(5):
        await client.chat_postMessage(channel=where, text=f"m{n}")
    pages = []  # slack_sdk reuses one response object per page: copy what each holds
    async for page in await client.conversations_history(channel=where, limit=2):
        pages.append([m["text"] for m in page["messages"]])
    assert pages == [
        ["m4", "m3"],
        ["m2", "m1"],
        ["m0"],
    ]


async def test_replies_read_a_thread_with_its_metadata(client: AsyncWebClient) -> None:
    where = channel()
    parent = await client.chat_postMessage(channel=where, text="parent")
    await client.chat_postMessage(channel=where, text="top level")
    reply = await client.chat_postMessage(
        channel=where, text="reply", thread_ts=parent["ts"], metadata=meta("k2")
    )
    thread = await client.conversations_replies(
        channel=where, ts=parent["ts"], include_all_metadata=True
    )
    assert [m["text"] for m in thread["messages"]] == ["parent", "reply"]
    assert thread["messages"][1]["metadata"] == meta("k2")
    assert thread["messages"][1]["ts"] == reply["ts"]
    history = await client.conversations_history(channel=where)
    assert [m["text"] for m in history["messages"]] == ["top level", "parent"]
    assert history["messages"][1]["reply_count"] == 1
    with pytest.raises(SlackApiError) as missing:
        await client.conversations_replies(channel=where, ts="1.000001")
    assert missing.value.response["error"] == "thread_not_found"


async def test_tokens_and_faults_apply_to_reading_back(
    client: AsyncWebClient, slack: SlackEmulator
) -> None:
    where = channel()
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=slack.api_url)
    with pytest.raises(SlackApiError) as denied:
        await wrong.conversations_history(channel=where)
    assert denied.value.response["error"] == "invalid_auth"
    slack.add_fault(kind="rate_limit", retry_after=2, methods=["conversations.history"])
    with pytest.raises(SlackApiError) as limited:
        await client.conversations_history(channel=where)
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "2"
    slack.add_fault(kind="server_error", status=503, methods=["conversations.replies"])
    with pytest.raises(SlackApiError) as unavailable:
        await client.conversations_replies(channel=where, ts="1.000001")
    assert unavailable.value.response["error"] == "service_unavailable"


async def test_a_slow_answer_times_out_but_the_message_is_there(
    client: AsyncWebClient, slack: SlackEmulator
) -> None:
    where = channel()
    slack.add_fault(kind="slow", delay_s=3, channel=where, methods=["chat.postMessage"])
    with pytest.raises(TimeoutError):
        await client.chat_postMessage(channel=where, text="late", metadata=meta("k3"))
    found = await client.conversations_history(channel=where, include_all_metadata=True)
    assert [m["metadata"] for m in found["messages"]] == [meta("k3")]
