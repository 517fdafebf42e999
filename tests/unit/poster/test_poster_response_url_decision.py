"""Replies through a `response_url`: which URLs the poster trusts, which route a reply takes,
the body it posts and what each answer means. Pure functions; nothing is faked.
"""

from __future__ import annotations

from typing import Any

import pytest

from jeeves.kit.jobs import ReplyJob, parse_reply_job
from jeeves.poster.domain.response_url import (
    TTL_S,
    Answer,
    Doubt,
    Route,
    after_doubt,
    allowed_response_url,
    choose_route,
    classify_response,
    response_body,
)

pytestmark = pytest.mark.unit
SLACK_API = "https://slack.com/api/"
EMULATOR_API = "http://127.0.0.1:8090/api/"
HOOK = "https://hooks.slack.com/commands/T0TEAM/123/abc"


@pytest.mark.parametrize(
    ("url", "api"),
    [
        (HOOK, SLACK_API),
        ("https://hooks.slack.com:443/actions/T0/1/x", SLACK_API),
        ("https://HOOKS.slack.com/commands/T0/1/x", SLACK_API),
        (HOOK, EMULATOR_API),  # Slack's own host stays allowed whatever the API URL
        ("http://127.0.0.1:8090/_emulator/hooks/abc", EMULATOR_API),
        ("https://slack.example.test/hooks/abc", "https://slack.example.test/api/"),
    ],
)
def test_slack_hooks_and_the_configured_api_host_are_allowed(url: str, api: str) -> None:
    assert allowed_response_url(url, api)


@pytest.mark.parametrize(
    ("url", "api"),
    [
        ("https://evil.example.com/hooks", SLACK_API),
        ("http://hooks.slack.com/commands/T0/1/x", SLACK_API),  # not https
        ("https://hooks.slack.com:8443/commands/T0/1/x", SLACK_API),  # another port
        ("https://hooks.slack.com.evil.com/x", SLACK_API),
        ("https://evil.com/hooks.slack.com/x", SLACK_API),
        ("https://hooks.slack.com@evil.com/x", SLACK_API),  # credentials/userinfo
        ("https://user:pw@hooks.slack.com/x", SLACK_API),
        ("https://slack.com/api/chat.postMessage", SLACK_API.replace("slack.com", "x.test")),
        ("http://127.0.0.1:9999/_emulator/hooks/abc", EMULATOR_API),  # another port
        ("https://127.0.0.1:8090/_emulator/hooks/abc", EMULATOR_API),  # another scheme
        ("http://localhost:8090/_emulator/hooks/abc", EMULATOR_API),  # another host name
        ("http://169.254.169.254/latest/meta-data", EMULATOR_API),
        ("file:///etc/passwd", SLACK_API),
        ("ftp://hooks.slack.com/x", SLACK_API),
        ("https://hooks.slack.com:99999/x", SLACK_API),  # malformed port
        ("https:///nohost", SLACK_API),
        ("", SLACK_API),
        ("not a url", SLACK_API),
    ],
)
def test_every_other_url_is_refused(url: str, api: str) -> None:
    assert not allowed_response_url(url, api)


def reply(**overrides: Any) -> ReplyJob:
    job: dict[str, Any] = {
        "reply_key": "reply:command:1",
        "channel": "C0SECRET",
        "thread_ts": None,
        "text": "Here is what I can do",
        "sent_at": 1000.0,
        "response_url": HOOK,
        **overrides,
    }
    return parse_reply_job(job)


def test_a_command_reply_goes_to_its_response_url() -> None:
    route = choose_route(reply(), stored=None, slack_api_url=SLACK_API, now=1001.0)
    assert route == (Route.RESPONSE_URL, "response_url")


@pytest.mark.parametrize(
    ("job", "stored", "now", "expected"),
    [
        (reply(response_url=None), None, 1001.0, (Route.CHAT, "no_response_url")),
        (reply(response_url=""), None, 1001.0, (Route.CHAT, "no_response_url")),
        (reply(), "chat", 1001.0, (Route.CHAT, "stored_chat")),
        (reply(), "response_url", 1001.0, (Route.RESPONSE_URL, "stored_response_url")),
        (reply(response_url="https://evil.test/x"), None, 1001.0, (Route.CHAT, "refused_host")),
        (reply(), None, 1000.0 + TTL_S, (Route.CHAT, "expired_by_age")),
        (reply(sent_at=None), None, 1e12, (Route.RESPONSE_URL, "response_url")),
    ],
)
def test_route_decisions(
    job: ReplyJob, stored: str | None, now: float, expected: tuple[Route, str]
) -> None:
    assert choose_route(job, stored=stored, slack_api_url=SLACK_API, now=now) == expected


def test_a_stored_chat_route_wins_even_over_a_good_url() -> None:
    """Once the URL was gone (or chat.postMessage was called), the key stays on chat."""
    assert choose_route(reply(), stored="chat", slack_api_url=SLACK_API, now=1001.0)[0] is (
        Route.CHAT
    )


def test_the_body_is_a_new_message_for_the_whole_channel() -> None:
    assert response_body(reply()) == {
        "text": "Here is what I can do",
        "response_type": "in_channel",
        "replace_original": False,
    }
    threaded = response_body(reply(thread_ts="1.000100", blocks=[{"type": "divider"}]))
    assert threaded["thread_ts"] == "1.000100"
    assert threaded["blocks"] == [{"type": "divider"}]


def test_a_response_url_must_be_a_string() -> None:
    with pytest.raises(ValueError, match="'response_url'"):
        reply(response_url=5)


@pytest.mark.parametrize(
    ("status", "body", "kind", "reason"),
    [
        (200, '{"ok": true}', Answer.POSTED, ""),
        (200, "ok", Answer.POSTED, ""),
        (200, "", Answer.POSTED, ""),
        (404, '{"ok": false, "error": "expired_url"}', Answer.GONE, "expired_url"),
        (404, '{"ok": false, "error": "used_url"}', Answer.GONE, "used_url"),
        (404, "expired_url", Answer.GONE, "expired_url"),
        (410, "", Answer.GONE, "http 410"),
        (200, '{"ok": false, "error": "used_url"}', Answer.GONE, "used_url"),
        (429, '{"ok": false, "error": "ratelimited"}', Answer.RATE_LIMITED, "ratelimited"),
        (500, '{"ok": false, "error": "internal_error"}', Answer.TRANSIENT, "internal_error"),
        (503, "<html>busy</html>", Answer.TRANSIENT, "<html>busy</html>"),
        (502, "", Answer.TRANSIENT, "http 502"),
        (408, "", Answer.TRANSIENT, "http 408"),
        (200, '{"ok": false, "error": "something_new"}', Answer.TRANSIENT, "something_new"),
        (400, '{"ok": false, "error": "invalid_payload"}', Answer.PERMANENT, "invalid_payload"),
        (200, '{"ok": false, "error": "no_text"}', Answer.PERMANENT, "no_text"),
        (403, "", Answer.PERMANENT, "http 403"),
    ],
)
def test_answers_are_sorted(status: int, body: str, kind: Answer, reason: str) -> None:
    result = classify_response(status, body)
    assert (result.kind, result.reason) == (kind, reason)


def test_a_rate_limit_carries_retry_after() -> None:
    result = classify_response(429, "", {"Retry-After": "3"})
    assert (result.kind, result.retry_after_s) == (Answer.RATE_LIMITED, 3.0)


@pytest.mark.parametrize(
    ("via", "expected"),
    [
        ("response_url", Doubt.RECORD_UNCONFIRMED),
        ("chat", Doubt.READ_BACK),
        (None, Doubt.READ_BACK),  # rows from before the route was recorded: chat.postMessage
    ],
)
def test_a_call_in_doubt_is_read_back_or_never_repeated(via: str | None, expected: Doubt) -> None:
    assert after_doubt(via) is expected
