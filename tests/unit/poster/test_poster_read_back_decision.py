"""The read-back decision after an unconfirmed post: found, absent, more, retry, unverifiable.

Pure functions over answers shaped like Slack's conversations.history/.replies; nothing faked.
"""

from __future__ import annotations

from typing import Any

import pytest

from jeeves.poster.domain.read_back import (
    CLOCK_SKEW_S,
    MAX_PAGES,
    Verdict,
    judge_page,
    read_back_delay,
    transport_failure,
    window_oldest,
)
from jeeves.poster.domain.slack import reply_metadata

pytestmark = pytest.mark.unit
KEY = "reply:Ev1"


def page(*messages: dict[str, Any], cursor: str = "") -> dict[str, Any]:
    return {
        "ok": True,
        "messages": list(messages),
        "has_more": bool(cursor),
        "response_metadata": {"next_cursor": cursor},
    }


def test_the_reply_is_found_by_its_metadata_on_any_page() -> None:
    mine = {"ts": "2.000001", "metadata": reply_metadata(KEY)}
    other = {"ts": "2.000002", "metadata": reply_metadata("reply:Ev2")}
    step = judge_page(200, page(other, mine, cursor="next"), {}, KEY, page=MAX_PAGES)
    assert (step.verdict, step.ts) == (Verdict.FOUND, "2.000001")


def test_a_complete_window_without_it_is_absent() -> None:
    other = {"ts": "2.000002", "metadata": reply_metadata("reply:Ev2")}
    plain = {"ts": "2.000003", "text": "the same text, no metadata"}
    assert judge_page(200, page(other, plain), {}, KEY, page=1).verdict is Verdict.ABSENT
    assert judge_page(200, page(), {}, KEY, page=1).verdict is Verdict.ABSENT


def test_more_pages_are_read_up_to_the_bound() -> None:
    step = judge_page(200, page(cursor="bmV4dA=="), {}, KEY, page=1)
    assert (step.verdict, step.cursor) == (Verdict.MORE, "bmV4dA==")
    last = judge_page(200, page(cursor="bmV4dA=="), {}, KEY, page=MAX_PAGES)
    assert last.verdict is Verdict.UNVERIFIABLE
    no_cursor = {"ok": True, "messages": [], "has_more": True}
    assert judge_page(200, no_cursor, {}, KEY, page=1).verdict is Verdict.UNVERIFIABLE


@pytest.mark.parametrize(
    ("status", "data", "headers", "retry_after"),
    [
        (429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "7"}, 7.0),
        (200, {"ok": False, "error": "ratelimited"}, {}, 1.0),
        (503, {"ok": False, "error": "service_unavailable"}, {}, None),
        (500, None, {}, None),
        (200, {"ok": False, "error": "internal_error"}, {}, None),
        (200, None, {}, None),  # not JSON: a proxy's page, not Slack's answer
    ],
)
def test_slack_unable_to_answer_now_means_retry(
    status: int, data: dict[str, Any] | None, headers: dict[str, str], retry_after: float | None
) -> None:
    step = judge_page(status, data, headers, KEY, page=1)
    assert (step.verdict, step.retry_after_s) == (Verdict.RETRY, retry_after)
    assert transport_failure("TimeoutError").verdict is Verdict.RETRY


@pytest.mark.parametrize(
    "error",
    ["missing_scope", "not_in_channel", "thread_not_found", "unknown_method", "invalid_auth"],
)
def test_questions_slack_will_never_answer_are_unverifiable(error: str) -> None:
    step = judge_page(200, {"ok": False, "error": error}, {}, KEY, page=1)
    assert (step.verdict, step.reason) == (Verdict.UNVERIFIABLE, error)
    unknown = judge_page(404, {"ok": False, "error": "unknown_method"}, {}, KEY, page=1)
    assert unknown.verdict is Verdict.UNVERIFIABLE


def test_the_window_opens_a_clock_skew_before_the_call() -> None:
    assert window_oldest(1_700_000_100.25, now=1_700_000_500.0) == "1700000040.250000"
    assert float(window_oldest(None, now=1_700_000_500.0)) == 1_700_000_500.0 - CLOCK_SKEW_S
    assert window_oldest(10.0, now=20.0) == "0.000000"


@pytest.mark.parametrize(("age", "delay"), [(None, 0.0), (0.5, 29.5), (30.0, 0.0), (120.0, 0.0)])
def test_a_read_back_waits_until_the_call_has_settled(age: float | None, delay: float) -> None:
    assert read_back_delay(age, settle_s=30.0) == delay
