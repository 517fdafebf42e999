"""What only the HTTP gateway decides: whether Slack signed a request (pure).

`check_signature`: Slack's v0 signature (HMAC-SHA256 over `v0:{timestamp}:{raw body}`, compared
in constant time by slack_sdk's `SignatureVerifier`); timestamps more than 5 minutes from now
are refused before any HMAC is computed. What a verified body means is shared with the Socket
Mode ingress and lives in `jeeves.kit.slack.events`.
"""

from __future__ import annotations

from slack_sdk.signature import Clock, SignatureVerifier

from jeeves.kit.errors import APIError

MAX_CLOCK_SKEW_S = 5 * 60


class _FixedClock(Clock):
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


def check_signature(
    secret: str, body: bytes, timestamp: str | None, signature: str | None, now: float
) -> None:
    """Raise APIError(401) unless Slack signed `body` with `secret` within 5 minutes of `now`."""
    if not timestamp or not signature:
        raise APIError(401, "invalid_signature", "missing Slack signature headers")
    if not timestamp.isdigit():
        raise APIError(401, "invalid_signature", "X-Slack-Request-Timestamp is not a number")
    if abs(now - int(timestamp)) > MAX_CLOCK_SKEW_S:
        raise APIError(401, "stale_timestamp", "request timestamp is more than 5 minutes off")
    verifier = SignatureVerifier(secret, clock=_FixedClock(now))
    if not verifier.is_valid(body, timestamp, signature):
        raise APIError(401, "invalid_signature", "Slack signature does not match")
