"""Slack's retry rules for event delivery: when to retry, with which reason, and how long to wait.

Pure functions over attempt records; nothing faked, nothing sent.
"""

from __future__ import annotations

import pytest

from jeeves.emulators.slack.domain.deliveries import Attempt, next_retry, retry_delay

pytestmark = pytest.mark.unit


def attempt(retry_num: int = 0, **fields: object) -> Attempt:
    return Attempt(retry_num=retry_num, reason=None, started_at=0.0, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"status": 200}, None),
        ({"status": 204}, None),
        ({"status": 500}, "http_error"),
        ({"status": 401}, "http_error"),
        ({"status": 302}, "http_error"),
        ({"status": 200, "timed_out": True}, "http_timeout"),
        ({"timed_out": True}, "http_timeout"),
        ({"error": "connection_failed: ClientConnectorError"}, "connection_failed"),
        ({"error": "unknown_error: boom"}, "unknown_error"),
    ],
)
def test_failure_reason(fields: dict[str, object], reason: str | None) -> None:
    assert attempt(**fields).failure_reason() == reason


def test_acknowledged_attempts_stop_unless_retries_are_forced() -> None:
    assert next_retry(attempt(status=200), retries_allowed=True, forced_left=0) == (None, True)
    assert next_retry(attempt(status=200), retries_allowed=True, forced_left=1) == (
        "http_timeout",
        True,
    )


def test_failures_retry_three_times_at_most() -> None:
    for retry_num in range(3):
        assert next_retry(attempt(retry_num, status=503), retries_allowed=True, forced_left=0) == (
            "http_error",
            False,
        )
    assert next_retry(attempt(3, status=503), retries_allowed=True, forced_left=0) == (None, False)


def test_no_retry_header_and_commands_stop_retries() -> None:
    refused = attempt(status=500, no_retry=True)
    assert next_retry(refused, retries_allowed=True, forced_left=0) == (None, False)
    assert next_retry(attempt(status=500), retries_allowed=False, forced_left=0) == (None, False)


def test_retry_delays_repeat_the_last_value() -> None:
    delays = (0.0, 1.0, 5.0)
    assert [retry_delay(delays, n) for n in (1, 2, 3, 4)] == [0.0, 1.0, 5.0, 5.0]
    assert retry_delay((), 1) == 0.0
