"""What Slack's answer to `chat.postMessage` (or `chat.update`) means for a reply (pure).

`classify(status, data, headers)` sorts every answer into one of four kinds:
- `posted`: ok, with the message `ts`;
- `rate_limited`: HTTP 429 / `ratelimited`, with the `Retry-After` seconds for that channel;
- `permanent`: an error no retry can fix (`invalid_auth`, `channel_not_found`, `not_in_channel`,
  `account_inactive`, …) → the reply becomes a dead letter with the reason;
- `transient`: 5xx, Slack's own internal errors and anything unknown → retried with backoff.

`error_label(reason)` turns a failure's reason into a bounded metric label value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

DEFAULT_RETRY_AFTER_S = 1.0
MAX_RETRY_AFTER_S = 3600.0

PERMANENT_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "restricted_action",
        "team_access_not_granted",
        "ekm_access_denied",
        "msg_too_long",
        "no_text",
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_arguments",
        "invalid_arg_name",
        "thread_not_found",
        "cannot_reply_to_message",
        "as_user_not_supported",
        # chat.update
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
    }
)
# Errors worth naming in a metric label beside the permanent ones (any other is `other`).
LABELLED_ERRORS = PERMANENT_ERRORS | {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
}


# Slack refusing the token itself: the poster forgets it (a distributed app reads it again).
TOKEN_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)


class Kind(StrEnum):
    POSTED = "posted"
    RATE_LIMITED = "rate_limited"
    PERMANENT = "permanent"
    TRANSIENT = "transient"


@dataclass(frozen=True)
class SlackResult:
    kind: Kind
    reason: str = ""  # Slack's error code, or the HTTP status
    ts: str | None = None  # the posted message's ts
    retry_after_s: float = 0.0


def parse_retry_after(value: str | None) -> float:
    """`Retry-After` in seconds (Slack sends an integer); a sane default when absent or odd."""
    try:
        seconds = float(value) if value is not None else DEFAULT_RETRY_AFTER_S
    except ValueError:
        return DEFAULT_RETRY_AFTER_S
    if seconds != seconds or seconds < 0:  # NaN or negative
        return DEFAULT_RETRY_AFTER_S
    return min(seconds, MAX_RETRY_AFTER_S)


def classify(
    status: int, data: Mapping[str, Any] | None, headers: Mapping[str, str]
) -> SlackResult:
    """Sort one chat.postMessage answer (decoded JSON `data`, None when it was not JSON)."""
    error = str(data.get("error", "")) if data else ""
    if status == 429 or error == "ratelimited":
        retry_after = parse_retry_after(headers.get("Retry-After"))
        return SlackResult(Kind.RATE_LIMITED, "ratelimited", retry_after_s=retry_after)
    if status == 200 and data and data.get("ok") is True:
        ts = data.get("ts")
        return SlackResult(Kind.POSTED, ts=str(ts) if ts is not None else None)
    if error in PERMANENT_ERRORS:
        return SlackResult(Kind.PERMANENT, error)
    return SlackResult(Kind.TRANSIENT, error or f"http {status}")


def error_label(reason: str) -> str:
    """A bounded metric label for a failed call's `reason`: Slack's error code when it is a
    known one, `http_5xx`-style for a bare HTTP status, else `other` (exception names, unknown
    codes), so a misbehaving Slack cannot grow the label set."""
    if reason in LABELLED_ERRORS:
        return reason
    status = reason.removeprefix("http ")
    if len(status) == 3 and status.isdigit():
        return f"http_{status[0]}xx"
    return "other"


def token_refused(result: SlackResult, *, rotating: bool) -> SlackResult:
    """Slack refused the bot token: with rotating tokens an expired one is transient (the next
    attempt refreshes it); everything else stays as classified."""
    if rotating and result.reason == "token_expired":
        return SlackResult(Kind.TRANSIENT, result.reason)
    return result


METADATA_EVENT = "jeeves_reply"


def reply_metadata(reply_key: str) -> dict[str, Any]:
    """Message metadata the poster attaches, so a read-back can recognise its own message."""
    return {"event_type": METADATA_EVENT, "event_payload": {"reply_key": reply_key}}


def find_reply(data: Mapping[str, Any] | None, reply_key: str) -> str | None:
    """The ts of the message carrying `reply_key` in a conversations.history/.replies answer."""
    messages = data.get("messages") if data else None
    if not isinstance(messages, list):
        return None
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        metadata = message.get("metadata")
        if not isinstance(metadata, Mapping) or metadata.get("event_type") != METADATA_EVENT:
            continue
        payload = metadata.get("event_payload")
        if isinstance(payload, Mapping) and payload.get("reply_key") == reply_key:
            ts = message.get("ts")
            return str(ts) if ts is not None else None
    return None
