"""Classifying Slack's chat.postMessage answers, and validating POST /v1/messages bodies.

Pure functions over answers shaped like Slack's; nothing is faked.
"""

from __future__ import annotations

from typing import Any

import pytest

from jeeves.poster.domain.messages import MessageError, parse_message
from jeeves.poster.domain.slack import (
    Kind,
    classify,
    find_reply,
    parse_retry_after,
    reply_metadata,
)

pytestmark = pytest.mark.unit


def test_ok_is_posted_with_its_ts() -> None:
    result = classify(200, {"ok": True, "ts": "1700000000.000200", "channel": "C1"}, {})
    assert (result.kind, result.ts) == (Kind.POSTED, "1700000000.000200")


def test_429_carries_retry_after() -> None:
    result = classify(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "2"})
    assert (result.kind, result.retry_after_s) == (Kind.RATE_LIMITED, 2.0)
    assert classify(429, None, {}).retry_after_s == 1.0


@pytest.mark.parametrize(
    "error", ["invalid_auth", "channel_not_found", "not_in_channel", "account_inactive"]
)
def test_errors_no_retry_can_fix_are_permanent(error: str) -> None:
    result = classify(200, {"ok": False, "error": error}, {})
    assert (result.kind, result.reason) == (Kind.PERMANENT, error)


@pytest.mark.parametrize(
    ("status", "data", "reason"),
    [
        (500, None, "http 500"),
        (503, {"ok": False, "error": "service_unavailable"}, "service_unavailable"),
        (200, {"ok": False, "error": "internal_error"}, "internal_error"),
        (200, {"ok": False, "error": "something_new"}, "something_new"),
        (200, {}, "http 200"),
    ],
)
def test_everything_else_is_retried(status: int, data: dict[str, Any] | None, reason: str) -> None:
    result = classify(status, data, {})
    assert (result.kind, result.reason) == (Kind.TRANSIENT, reason)


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        ("2", 2.0),
        ("0.5", 0.5),
        (None, 1.0),
        ("soon", 1.0),
        ("-3", 1.0),
        ("nan", 1.0),
        ("1e9", 3600),
    ],
)
def test_retry_after_is_parsed_defensively(raw: str | None, seconds: float) -> None:
    assert parse_retry_after(raw) == seconds


def test_a_full_message_becomes_a_reply_job() -> None:
    job = parse_message(
        {
            "channel": "C123",
            "thread_ts": "1700000000.000100",
            "text": "done",
            "blocks": [{"type": "section"}],
            "key": "weather:Ev1:late",
        },
        caller="weather",
    )
    assert job == {
        "reply_key": "api:weather:weather:Ev1:late",
        "channel": "C123",
        "thread_ts": "1700000000.000100",
        "text": "done",
        "blocks": [{"type": "section"}],
        "event_id": None,
        "sent_at": None,
    }


def test_without_a_key_each_message_is_new() -> None:
    first = parse_message({"channel": "C1", "text": "a"}, caller="weather")
    second = parse_message({"channel": "C1", "text": "a"}, caller="weather")
    assert first["reply_key"] != second["reply_key"]
    assert first["reply_key"].startswith("api:")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "body"),
        ({"text": "x"}, "channel"),
        ({"channel": "C 1", "text": "x"}, "channel"),
        ({"channel": "C1"}, "text"),
        ({"channel": "C1", "text": "  "}, "text"),
        ({"channel": "C1", "text": "x" * 40_001}, "text"),
        ({"channel": "C1", "text": "x", "thread_ts": "yesterday"}, "thread_ts"),
        ({"channel": "C1", "text": "x", "blocks": {"type": "section"}}, "blocks"),
        ({"channel": "C1", "text": "x", "blocks": [{}] * 51}, "blocks"),
        ({"channel": "C1", "text": "x", "key": "has space"}, "key"),
        ({"channel": "C1", "text": "x", "key": ""}, "key"),
        ({"channel": "C1", "text": "x", "colour": "red"}, "colour"),
    ],
)
def test_invalid_bodies_name_the_field(body: object, field: str) -> None:
    with pytest.raises(MessageError) as caught:
        parse_message(body, caller="weather")
    assert caught.value.field == field


def test_keys_are_scoped_by_caller() -> None:
    body = {"channel": "C1", "text": "a", "key": "k1"}
    weather, memory = parse_message(body, caller="weather"), parse_message(body, caller="memory")
    assert weather["reply_key"] != memory["reply_key"]
    assert parse_message(body, caller="weather")["reply_key"] == weather["reply_key"]
    # A caller name holding the separator cannot forge another caller's namespace.
    forged = parse_message({**body, "key": "k1"}, caller="memory:x")
    assert forged["reply_key"] not in (weather["reply_key"], memory["reply_key"])
    assert (
        parse_message({**body, "key": "x:k1"}, caller="memory")["reply_key"] != forged["reply_key"]
    )


def test_a_read_back_finds_the_reply_by_its_metadata() -> None:
    mine = {"ts": "2.0", "metadata": reply_metadata("reply:Ev1")}
    answer = {
        "ok": True,
        "messages": [
            {"ts": "1.0", "text": "someone else"},
            {"ts": "1.5", "metadata": {"event_type": "other", "event_payload": {}}},
            {"ts": "1.7", "metadata": reply_metadata("reply:Ev2")},
            mine,
        ],
    }
    assert find_reply(answer, "reply:Ev1") == "2.0"
    assert find_reply(answer, "reply:Ev3") is None
    assert find_reply({"ok": False, "error": "missing_scope"}, "reply:Ev1") is None
    assert find_reply(None, "reply:Ev1") is None
