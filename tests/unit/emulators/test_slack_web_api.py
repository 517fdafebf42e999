"""The emulated Web API as data: auth checks, message recording, Slack's error codes, faults.

Pure: `WebApi` over in-memory logs. Nothing faked beyond not running a server.
"""

from __future__ import annotations

import pytest

from jeeves.emulators.slack.domain.envelopes import Identity
from jeeves.emulators.slack.domain.faults import FaultBook
from jeeves.emulators.slack.domain.messages import CallLog, MessageLog, TsClock
from jeeves.emulators.slack.domain.web_api import WebApi

pytestmark = pytest.mark.unit
TOKEN = "xoxb-unit"


def make_api(channels: dict[str, str] | None = None) -> WebApi:
    return WebApi(
        identity=Identity(),
        token=TOKEN,
        messages=MessageLog(),
        calls=CallLog(),
        faults=FaultBook(),
        channels=channels,
    )


@pytest.fixture(name="api")
def fixture_api() -> WebApi:
    return make_api()


def test_token_checks_come_first(api: WebApi) -> None:
    assert api.call("chat.postMessage", {"channel": "C1", "text": "x"}, None).body == {
        "ok": False,
        "error": "not_authed",
    }
    assert api.call("auth.test", {}, "xoxb-wrong").body["error"] == "invalid_auth"
    unknown = api.call("chat.delete", {}, TOKEN)
    assert (unknown.status, unknown.body["error"]) == (404, "unknown_method")
    assert api.call("api.test", {"a": "1"}, None).body == {"ok": True, "args": {"a": "1"}}


def test_auth_test_identifies_the_bot(api: WebApi) -> None:
    body = api.call("auth.test", {}, TOKEN).body
    assert body["ok"] is True
    assert (body["user_id"], body["team_id"], body["bot_id"]) == ("U0JEEVES", "T0TEAM", "B0JEEVES")


def test_post_message_is_recorded_and_answered_like_slack(api: WebApi) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    answer = api.call(
        "chat.postMessage",
        {"channel": "C1", "text": "hi", "blocks": blocks, "thread_ts": "1.000001"},
        TOKEN,
    )
    body = answer.body
    assert answer.status == 200
    assert body["ok"] is True
    assert body["channel"] == "C1"
    assert body["message"]["ts"] == body["ts"]
    assert body["message"]["bot_id"] == "B0JEEVES"
    assert body["message"]["thread_ts"] == "1.000001"
    [recorded] = api.messages.select()
    assert (recorded.channel, recorded.text, recorded.blocks, recorded.ts) == (
        "C1",
        "hi",
        blocks,
        body["ts"],
    )
    [call] = api.calls.select()
    assert (call.method, call.channel, call.status, call.ok) == (
        "chat.postMessage",
        "C1",
        200,
        True,
    )


def test_form_encoded_blocks_are_json_strings(api: WebApi) -> None:
    answer = api.call(
        "chat.postMessage", {"channel": "C1", "blocks": '[{"type": "divider"}]'}, TOKEN
    )
    assert answer.body["ok"] is True
    assert api.call("chat.postMessage", {"channel": "C1", "blocks": "[nope"}, TOKEN).body[
        "error"
    ] == ("invalid_blocks_format")
    assert api.call("chat.postMessage", {"channel": "C1", "blocks": [1]}, TOKEN).body["error"] == (
        "invalid_blocks"
    )


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"text": "x"}, "channel_not_found"),
        ({"channel": "C1"}, "no_text"),
        ({"channel": "C1", "text": "x" * 40_001}, "msg_too_long"),
    ],
)
def test_post_message_errors(api: WebApi, params: dict[str, object], error: str) -> None:
    answer = api.call("chat.postMessage", params, TOKEN)
    assert (answer.status, answer.body) == (200, {"ok": False, "error": error})
    assert api.messages.select() == []


def test_configured_channels_reject_others_and_resolve_names() -> None:
    api = make_api({"C0GENERAL": "general"})
    assert api.call("chat.postMessage", {"channel": "C9", "text": "x"}, TOKEN).body["error"] == (
        "channel_not_found"
    )
    answer = api.call("chat.postMessage", {"channel": "#general", "text": "x"}, TOKEN)
    assert answer.body["channel"] == "C0GENERAL"


def test_update_and_ephemeral(api: WebApi) -> None:
    ts = api.call("chat.postMessage", {"channel": "C1", "text": "v1"}, TOKEN).body["ts"]
    updated = api.call("chat.update", {"channel": "C1", "ts": ts, "text": "v2"}, TOKEN).body
    assert (updated["ok"], updated["text"], updated["ts"]) == (True, "v2", ts)
    [message] = api.messages.select()
    assert message.text == "v2"
    assert message.edited_at is not None
    missing = api.call("chat.update", {"channel": "C1", "ts": "1.2", "text": "x"}, TOKEN)
    assert missing.body["error"] == "message_not_found"
    ephemeral = api.call(
        "chat.postEphemeral", {"channel": "C1", "user": "U0ALICE", "text": "psst"}, TOKEN
    ).body
    assert ephemeral["ok"] is True
    assert api.messages.select()[-1].ephemeral_to == "U0ALICE"
    bad_user = api.call("chat.postEphemeral", {"channel": "C1", "user": "x", "text": "y"}, TOKEN)
    assert bad_user.body["error"] == "user_not_found"


def test_users_info(api: WebApi) -> None:
    user = api.call("users.info", {"user": "U0ALICE"}, TOKEN).body["user"]
    assert (user["id"], user["name"], user["is_bot"]) == ("U0ALICE", "alice", False)
    assert api.call("users.info", {"user": "U0JEEVES"}, TOKEN).body["user"]["is_bot"] is True
    assert api.call("users.info", {"user": "nobody"}, TOKEN).body["error"] == "user_not_found"


def test_faults_answer_after_auth_and_are_logged(api: WebApi) -> None:
    api.faults.add({"kind": "rate_limit", "retry_after": 3, "channel": "C1"})
    assert api.call("chat.postMessage", {"channel": "C1", "text": "x"}, "bad").body["error"] == (
        "invalid_auth"
    )
    limited = api.call("chat.postMessage", {"channel": "C1", "text": "x"}, TOKEN)
    assert (limited.status, limited.headers["Retry-After"], limited.body["error"]) == (
        429,
        "3",
        "ratelimited",
    )
    assert api.calls.select()[-1].retry_after == 3
    assert api.call("chat.postMessage", {"channel": "C1", "text": "x"}, TOKEN).status == 200


def test_ts_are_unique_and_increasing_even_when_the_clock_stalls() -> None:
    clock = TsClock(lambda: 1700000000.0)
    stamps = [clock.next() for _ in range(3)]
    assert stamps == ["1700000000.000000", "1700000000.000001", "1700000000.000002"]


def test_message_log_is_bounded_and_filters() -> None:
    log = MessageLog(limit=2)
    for channel in ("C1", "C2", "C1"):
        log.add("api", channel, "U0JEEVES", "x")
    assert [m.channel for m in log.select()] == ["C2", "C1"]
    assert [m.channel for m in log.select(channel="C1")] == ["C1"]
    log.add("user", "C1", "U0ALICE", "hello")
    assert [m.source for m in log.select(sources=("user",))] == ["user"]
