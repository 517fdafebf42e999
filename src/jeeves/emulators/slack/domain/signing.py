"""Signing outbound requests exactly like Slack does (v0 HMAC-SHA256 over "v0:{ts}:{body}")."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Slack-Signature"
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """`v0=<hex>` for `body` sent at `timestamp` (epoch seconds), as Slack computes it."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return f"v0={digest}"


def signed_headers(secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The two headers Slack adds to every request it sends to an app."""
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }
