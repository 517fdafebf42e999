"""Reading conversations back from the emulated Web API: metadata, history, replies, paging.

Pure: `WebApi` over in-memory logs with a stepping clock (so every ts is known). Nothing faked
beyond not running a server.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from jeeves.emulators.slack.domain.envelopes import Identity
from jeeves.emulators.slack.domain.faults import FaultBook
from jeeves.emulators.slack.domain.history import decode_cursor, encode_cursor
from jeeves.emulators.slack.domain.messages import CallLog, MessageLog
from jeeves.emulators.slack.domain.web_api import WebApi

pytestmark = pytest.mark.unit
TOKEN = "xoxb-unit"
META = {"event_type": "jeeves_reply", "event_payload": {"reply_key": "reply:Ev1"}}


def make_api(channels: dict[str, str] | None = None) -> WebApi:
    seconds = itertools.count(1_700_000_000)
    return WebApi(
        identity=Identity(),
        token=TOKEN,
        messages=MessageLog(clock=lambda: float(next(seconds))),
        calls=CallLog(),
        faults=FaultBook(),
        channels=channels,
    )


@pytest.fixture(name="api")
def fixture_api() -> WebApi:
    return make_api()


def post(api: WebApi, text: str, channel: str = "C1", **params: Any) -> str:
    body = api.call("chat.postMessage", {"channel": channel, "text": text, **params}, TOKEN).body
    assert body["ok"] is True, body
    return str(body["ts"])


def person(api: WebApi, text: str, channel: str = "C1", thread_ts: str | None = None) -> str:
    return api.messages.add("user", channel, "U0ALICE", text, thread_ts=thread_ts).ts


def call(api: WebApi, method: str, **params: Any) -> dict[str, Any]:
    return api.call(method, params, TOKEN).body


def texts(body: dict[str, Any]) -> list[str]:
    return [m["text"] for m in body["messages"]]


def test_metadata_is_kept_as_given_object_or_json_text(api: WebApi) -> None:
    body = api.call(
        "chat.postMessage", {"channel": "C1", "text": "a", "metadata": META}, TOKEN
    ).body
    assert body["message"]["metadata"] == META
    as_text = {"channel": "C1", "text": "b", "metadata": json.dumps(META)}
    assert api.call("chat.postMessage", as_text, TOKEN).body["message"]["metadata"] == META
    assert [m.metadata for m in api.messages.in_channel("C1")] == [META, META]
    assert api.messages.in_channel("C1")[0].to_json()["metadata"] == META


@pytest.mark.parametrize(
    "metadata",
    ["{not json", "[]", {"event_type": "x"}, {"event_type": 3, "event_payload": {}}],
)
def test_malformed_metadata_is_refused_and_nothing_posted(api: WebApi, metadata: Any) -> None:
    body = call(api, "chat.postMessage", channel="C1", text="x", metadata=metadata)
    assert body == {"ok": False, "error": "invalid_metadata_format"}
    assert api.messages.in_channel("C1") == []


def test_a_bad_event_type_is_dropped_with_a_warning(api: WebApi) -> None:
    metadata = {"event_type": "has.dot", "event_payload": {}}
    body = call(api, "chat.postMessage", channel="C1", text="x", metadata=metadata)
    assert body["ok"] is True
    assert body["warning"] == "invalid_metadata_schema"
    assert "metadata" not in body["message"]


def test_history_lists_top_level_messages_newest_first(api: WebApi) -> None:
    first = person(api, "question")
    person(api, "in thread", thread_ts=first)
    post(api, "answer", thread_ts=first, metadata=META)
    post(api, "later")
    api.call("chat.postEphemeral", {"channel": "C1", "user": "U0BOB", "text": "psst"}, TOKEN)
    post(api, "elsewhere", channel="C2")
    body = call(api, "conversations.history", channel="C1")
    assert texts(body) == ["later", "question"]
    assert body["has_more"] is False
    assert body["response_metadata"] == {"next_cursor": ""}
    parent = body["messages"][1]
    assert parent["reply_count"] == 2
    assert parent["reply_users"] == ["U0ALICE", "U0JEEVES"]
    assert parent["latest_reply"] == api.messages.in_channel("C1")[2].ts
    assert parent["thread_ts"] == first


def test_metadata_is_shown_only_with_include_all_metadata(api: WebApi) -> None:
    post(api, "a", metadata=META)
    assert "metadata" not in call(api, "conversations.history", channel="C1")["messages"][0]
    # slack_sdk sends booleans as "1"/"0"; JSON callers send true
    for flag in ("1", "true", True):
        shown = call(api, "conversations.history", channel="C1", include_all_metadata=flag)
        assert shown["messages"][0]["metadata"] == META
    hidden = call(api, "conversations.history", channel="C1", include_all_metadata="0")
    assert "metadata" not in hidden["messages"][0]


def test_oldest_and_latest_are_exclusive_unless_inclusive(api: WebApi) -> None:
    a, b, c = post(api, "a"), post(api, "b"), post(api, "c")
    assert texts(call(api, "conversations.history", channel="C1", oldest=a)) == ["c", "b"]
    window = {"channel": "C1", "oldest": a, "latest": c}
    assert texts(call(api, "conversations.history", **window)) == ["b"]
    both = call(api, "conversations.history", **window, inclusive="1")
    assert texts(both) == ["c", "b", "a"]
    assert texts(call(api, "conversations.history", channel="C1", latest=b)) == ["a"]
    assert texts(call(api, "conversations.history", channel="C1", oldest=float(b))) == ["c"]


def test_history_pages_chain_by_cursor_without_gaps_or_repeats(api: WebApi) -> None:
    for n in range(7):
        post(api, f"m{n}")
    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        body = call(api, "conversations.history", channel="C1", limit="3", cursor=cursor)
        seen += texts(body)
        pages += 1
        cursor = body["response_metadata"]["next_cursor"]
        assert body["has_more"] is bool(cursor)
        if not cursor:
            break
    assert seen == [f"m{n}" for n in reversed(range(7))]
    assert pages == 3


def test_limit_defaults_and_caps(api: WebApi) -> None:
    for n in range(3):
        post(api, f"m{n}")
    assert len(call(api, "conversations.history", channel="C1", limit=0)["messages"]) == 3
    assert len(call(api, "conversations.history", channel="C1", limit=10_000)["messages"]) == 3


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"cursor": "bm9wZQ=="}, "invalid_cursor"),
        ({"cursor": "***"}, "invalid_cursor"),
        ({"oldest": "yesterday"}, "invalid_ts_oldest"),
        ({"latest": "-1"}, "invalid_ts_latest"),
        ({"limit": "many"}, "invalid_arguments"),
    ],
)
def test_history_errors(api: WebApi, params: dict[str, Any], error: str) -> None:
    assert call(api, "conversations.history", channel="C1", **params) == {
        "ok": False,
        "error": error,
    }


def test_cursors_look_like_slacks() -> None:
    assert encode_cursor(1_512_085_861_000_543) == "bmV4dF90czoxNTEyMDg1ODYxMDAwNTQz"
    assert decode_cursor("bmV4dF90czoxNTEyMDg1ODYxMDAwNTQz") == 1_512_085_861_000_543


def test_fixed_channels_tokens_and_faults_apply_like_other_methods() -> None:
    api = make_api({"C0GENERAL": "general"})
    assert call(api, "conversations.history", channel="C0NOPE")["error"] == "channel_not_found"
    assert call(api, "conversations.history", channel="#general")["ok"] is True
    denied = api.call("conversations.replies", {"channel": "C0GENERAL", "ts": "1.0"}, None)
    assert denied.body["error"] == "not_authed"
    api.faults.add({"kind": "rate_limit", "retry_after": 4, "methods": ["conversations.history"]})
    limited = api.call("conversations.history", {"channel": "C0GENERAL"}, TOKEN)
    assert (limited.status, limited.headers["Retry-After"]) == (429, "4")
    assert api.call("conversations.history", {"channel": "C0GENERAL"}, TOKEN).status == 200
    logged = api.calls.select(method="conversations.history")
    assert [(c.status, c.error) for c in logged] == [
        (200, "channel_not_found"),
        (200, None),
        (429, "ratelimited"),
        (200, None),
    ]


def test_replies_list_the_thread_oldest_first_parent_leading(api: WebApi) -> None:
    parent = person(api, "question")
    post(api, "unrelated")
    first = post(api, "answer 1", thread_ts=parent, metadata=META)
    person(api, "thanks", thread_ts=parent)
    body = call(api, "conversations.replies", channel="C1", ts=parent, include_all_metadata="1")
    assert texts(body) == ["question", "answer 1", "thanks"]
    assert body["messages"][0]["reply_count"] == 2
    assert body["messages"][1]["metadata"] == META
    assert body["messages"][1]["parent_user_id"] == "U0ALICE"
    assert body["messages"][1]["thread_ts"] == parent
    # any message of the thread names it; oldest narrows the replies, never the parent
    assert texts(call(api, "conversations.replies", channel="C1", ts=first)) == texts(body)
    later = call(api, "conversations.replies", channel="C1", ts=parent, oldest=first)
    assert texts(later) == ["question", "thanks"]


def test_replies_of_an_unthreaded_message_and_unknown_threads(api: WebApi) -> None:
    alone = post(api, "alone")
    assert texts(call(api, "conversations.replies", channel="C1", ts=alone)) == ["alone"]
    missing = call(api, "conversations.replies", channel="C1", ts="1.000001")
    assert missing == {"ok": False, "error": "thread_not_found"}
    assert call(api, "conversations.replies", channel="C1")["error"] == "invalid_arguments"


def test_replies_page_by_cursor_with_the_parent_on_the_first_page_only(api: WebApi) -> None:
    parent = person(api, "question")
    for n in range(5):
        post(api, f"r{n}", thread_ts=parent)
    first = call(api, "conversations.replies", channel="C1", ts=parent, limit=3)
    assert texts(first) == ["question", "r0", "r1"]
    cursor = first["response_metadata"]["next_cursor"]
    second = call(api, "conversations.replies", channel="C1", ts=parent, limit=3, cursor=cursor)
    assert texts(second) == ["r2", "r3", "r4"]
    assert second["has_more"] is False


def test_a_slow_answer_is_late_but_the_message_is_there(api: WebApi) -> None:
    api.faults.add({"kind": "slow", "delay_s": 2, "methods": ["chat.postMessage"]})
    answer = api.call("chat.postMessage", {"channel": "C1", "text": "late"}, TOKEN)
    assert (answer.status, answer.delay_s, answer.body["ok"]) == (200, 2.0, True)
    assert texts(call(api, "conversations.history", channel="C1")) == ["late"]
