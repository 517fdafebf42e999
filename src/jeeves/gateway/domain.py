"""What the gateway decides about one inbound Slack request, as pure functions.

- `check_signature`: Slack's v0 signature (HMAC-SHA256 over `v0:{timestamp}:{raw body}`, compared
  in constant time by slack_sdk's `SignatureVerifier`); timestamps more than 5 minutes from now
  are refused before any HMAC is computed.
- `parse_event`, `parse_command`, `parse_interaction`: turn a verified body into an `Accept`
  (a `DispatchJob` to store and queue), an `Ignore` (answer 200, store nothing) or a `Challenge`
  (`url_verification`); malformed bodies raise `APIError(400)`.

No I/O here: the clock (`now`) and the bot's own user id are arguments.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from slack_sdk.signature import Clock, SignatureVerifier

from jeeves.kit.errors import APIError
from jeeves.kit.jobs import DispatchJob

MAX_CLOCK_SKEW_S = 5 * 60
# Message subtypes a person produces; every other subtype (message_changed, message_deleted,
# channel_join, bot_message, …) is an edit, a system notice or a bot, and is ignored.
USER_SUBTYPES = frozenset({"file_share", "thread_broadcast"})
# Metric label values for event types, so a label can never take an unbounded set of values.
KNOWN_TYPES = frozenset({"app_mention", "message", "url_verification", "command", "block_actions"})


@dataclass(frozen=True)
class Accept:
    """Store this job (once per event_id) and queue its dispatch."""

    job: DispatchJob
    type: str


@dataclass(frozen=True)
class Ignore:
    """Acknowledge and drop: nothing is stored."""

    type: str
    reason: str


@dataclass(frozen=True)
class Challenge:
    """Slack's `url_verification` handshake: answer with the challenge."""

    challenge: str


Outcome = Accept | Ignore | Challenge


def type_label(event_type: str) -> str:
    """A bounded metric label for an event type."""
    return event_type if event_type in KNOWN_TYPES else "other"


# --- signatures --------------------------------------------------------------------------------


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


# --- Events API --------------------------------------------------------------------------------


def _json_object(raw: bytes | str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise APIError(400, "malformed_body", f"{what} is not valid JSON") from None
    if not isinstance(value, dict):
        raise APIError(400, "malformed_body", f"{what} must be a JSON object")
    return value


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _bot_user_ids(envelope: Mapping[str, Any], configured: str) -> set[str]:
    ids = {configured} if configured else set()
    for auth in envelope.get("authorizations") or []:
        if isinstance(auth, dict) and auth.get("is_bot") and isinstance(auth.get("user_id"), str):
            ids.add(auth["user_id"])
    return ids


def parse_event(raw: bytes, bot_user_id: str, now: float) -> Outcome:
    """Classify a verified Events API body."""
    envelope = _json_object(raw, "event body")
    kind = _text(envelope, "type")
    if kind == "url_verification":
        challenge = _text(envelope, "challenge")
        if not challenge:
            raise APIError(400, "malformed_body", "url_verification without a challenge")
        return Challenge(challenge)
    if kind != "event_callback":
        return Ignore(kind or "other", "not an event callback")
    event = envelope.get("event")
    event_id = _text(envelope, "event_id")
    if not isinstance(event, dict) or not event_id:
        raise APIError(400, "malformed_body", "event_callback needs an event object and event_id")
    return _classify(envelope, event, event_id, bot_user_id, now)


def _classify(
    envelope: Mapping[str, Any],
    event: Mapping[str, Any],
    event_id: str,
    bot_user_id: str,
    now: float,
) -> Outcome:
    event_type = _text(event, "type")
    if event_type not in ("app_mention", "message"):
        return Ignore(event_type or "other", "event type not handled")
    reason = _ignore_reason(event, _bot_user_ids(envelope, bot_user_id))
    if reason:
        return Ignore(event_type, reason)
    if event_type == "message" and _text(event, "channel_type") != "im":
        return Ignore(event_type, "channel message without a mention")
    return Accept(_message_job(envelope, event, event_id, now), event_type)


def _ignore_reason(event: Mapping[str, Any], bot_ids: set[str]) -> str | None:
    subtype = event.get("subtype")
    if subtype is not None and subtype not in USER_SUBTYPES:
        return f"subtype {subtype}"
    if event.get("bot_id") or event.get("bot_profile"):
        return "sent by a bot"
    user = _text(event, "user")
    if not user:
        return "no user"
    if user in bot_ids:
        return "sent by this bot"
    if not _text(event, "channel") or not _text(event, "ts"):
        return "no channel or ts"
    return None


def _message_job(
    envelope: Mapping[str, Any], event: Mapping[str, Any], event_id: str, now: float
) -> DispatchJob:
    ts = _text(event, "ts")
    thread_ts = _text(event, "thread_ts") or None  # answer in the thread only if asked in one
    blocks = event.get("blocks")
    return {
        "event_id": event_id,
        "kind": "message",
        "team_id": _text(envelope, "team_id") or _text(event, "team"),
        "user_id": _text(event, "user"),
        "channel": _text(event, "channel"),
        "ts": ts,
        "thread_ts": thread_ts,
        "text": _text(event, "text"),
        "blocks": blocks if isinstance(blocks, list) else None,
        "received_at": now,
    }


# --- slash commands ----------------------------------------------------------------------------


def _form(raw: bytes) -> dict[str, str]:
    try:
        text = raw.decode("utf-8")
        pairs = parse_qs(text, keep_blank_values=True, strict_parsing=bool(text))
    except (UnicodeDecodeError, ValueError):
        raise APIError(400, "malformed_body", "body is not a valid url-encoded form") from None
    return {key: values[-1] for key, values in pairs.items()}


def parse_command(raw: bytes, now: float) -> Accept:
    """A verified slash command (`/jeeves <text>`) as a `command` job."""
    form = _form(raw)
    missing = [k for k in ("team_id", "user_id", "channel_id", "trigger_id") if not form.get(k)]
    if missing:
        raise APIError(400, "malformed_body", f"slash command without {', '.join(missing)}")
    job: DispatchJob = {
        "event_id": f"command:{form['trigger_id']}",
        "kind": "command",
        "team_id": form["team_id"],
        "user_id": form["user_id"],
        "channel": form["channel_id"],
        "ts": None,
        "thread_ts": None,
        "text": form.get("text", ""),
        "response_url": form.get("response_url") or None,
        "received_at": now,
    }
    return Accept(job, "command")


# --- interactivity -----------------------------------------------------------------------------


def _id_of(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return _text(value, "id") if isinstance(value, dict) else ""


def parse_interaction(raw: bytes, now: float) -> Accept | Ignore:
    """A verified interactivity request (form field `payload`); button clicks become jobs."""
    encoded = _form(raw).get("payload")
    if not encoded:
        raise APIError(400, "malformed_body", "interactivity request without a payload field")
    payload = _json_object(encoded, "payload")
    kind = _text(payload, "type")
    if kind != "block_actions":
        return Ignore(kind or "other", "interaction type not handled")
    actions = payload.get("actions")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
        raise APIError(400, "malformed_body", "block_actions without actions")
    action = actions[0]
    team, user = _id_of(payload, "team"), _id_of(payload, "user")
    container = payload.get("container") if isinstance(payload.get("container"), dict) else {}
    assert isinstance(container, dict)
    channel = _id_of(payload, "channel") or _text(container, "channel_id")
    unique = _text(payload, "trigger_id") or _text(action, "action_ts")
    if not (team and user and channel and unique):
        raise APIError(400, "malformed_body", "block_actions needs team, user, channel, trigger_id")
    message_ts = _text(container, "message_ts") or None
    job: DispatchJob = {
        "event_id": f"interaction:{unique}",
        "kind": "interaction",
        "team_id": team,
        "user_id": user,
        "channel": channel,
        "ts": message_ts,
        "thread_ts": _text(container, "thread_ts") or message_ts,
        "text": _text(action, "value"),
        "response_url": _text(payload, "response_url") or None,
        "interaction": {
            "action_id": _text(action, "action_id"),
            "value": _text(action, "value"),
            "block_id": _text(action, "block_id"),
        },
        "received_at": now,
    }
    return Accept(job, "block_actions")
