"""What a Slack ingress decides about one delivery from Slack, as pure functions.

Shared by both ingresses (the HTTP gateway and the Socket Mode client): Slack sends the same
payloads over HTTP (signed request bodies) and over Socket Mode (envelopes on a WebSocket).

- `classify_event(envelope)`: an Events API `event_callback` (already decoded) becomes an
  `Accept` (a `DispatchJob` to store and queue), an `Ignore` (store nothing), a `Challenge`
  (`url_verification`) or an `Uninstall` (`app_uninstalled`, or `tokens_revoked` naming bot
  tokens: the app lost a workspace);
- `command_outcome(form)`: a slash command (form fields) becomes an `Accept`;
- `interaction_outcome(payload)`: a `block_actions` click becomes an `Accept`;
- `parse_event`, `parse_command`, `parse_interaction`: the same from the raw HTTP bodies.
Malformed input raises `APIError(400)`.

No I/O here: the clock (`now`) and the bot's own user id are arguments.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from jeeves.kit.errors import APIError
from jeeves.kit.jobs import DispatchJob

# Message subtypes a person produces; every other subtype (message_changed, message_deleted,
# channel_join, bot_message, …) is an edit, a system notice or a bot, and is ignored.
USER_SUBTYPES = frozenset({"file_share", "thread_broadcast"})
# Metric label values for event types, so a label can never take an unbounded set of values.
KNOWN_TYPES = frozenset(
    {
        "app_mention",
        "message",
        "url_verification",
        "command",
        "block_actions",
        "app_uninstalled",
        "tokens_revoked",
    }
)


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


@dataclass(frozen=True)
class Uninstall:
    """The app lost its access to a workspace: forget that team's installation."""

    team_id: str
    type: str  # app_uninstalled or tokens_revoked


Outcome = Accept | Ignore | Challenge | Uninstall


def type_label(event_type: str) -> str:
    """A bounded metric label for an event type."""
    return event_type if event_type in KNOWN_TYPES else "other"


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
    """Classify a verified Events API request body."""
    return classify_event(_json_object(raw, "event body"), bot_user_id, now)


def classify_event(envelope: Mapping[str, Any], bot_user_id: str, now: float) -> Outcome:
    """Classify an Events API payload (an HTTP body, or a Socket Mode `events_api` payload)."""
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
    lost = _uninstall(envelope, event)
    if lost is not None:
        return lost
    return _classify(envelope, event, event_id, bot_user_id, now)


def _uninstall(envelope: Mapping[str, Any], event: Mapping[str, Any]) -> Outcome | None:
    """`app_uninstalled`, or `tokens_revoked` listing bot tokens: the team is gone."""
    event_type = _text(event, "type")
    if event_type not in ("app_uninstalled", "tokens_revoked"):
        return None
    team = _text(envelope, "team_id")
    if not team:
        raise APIError(400, "malformed_body", f"{event_type} without a team_id")
    if event_type == "tokens_revoked":
        tokens = event.get("tokens")
        bots = tokens.get("bot") if isinstance(tokens, dict) else None
        if not bots:
            return Ignore(event_type, "only user tokens were revoked")
    return Uninstall(team, event_type)


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
    job = _message_job(envelope, event, event_id, now)
    own = _team_bot_user(envelope, job["team_id"]) or bot_user_id
    if own:
        job["bot_user_id"] = own
    return Accept(job, event_type)


def _team_bot_user(envelope: Mapping[str, Any], team_id: str) -> str:
    """The bot's own user id in `team_id`, from the event's `authorizations`."""
    for auth in envelope.get("authorizations") or []:
        if (
            isinstance(auth, dict)
            and auth.get("is_bot")
            and auth.get("team_id") == team_id
            and isinstance(auth.get("user_id"), str)
        ):
            return str(auth["user_id"])
    return ""


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
    """A verified slash command request body (`/jeeves <text>`, url-encoded) as a job."""
    return command_outcome(_form(raw), now)


def command_outcome(form: Mapping[str, Any], now: float) -> Accept:
    """A slash command's fields (an HTTP form, or a Socket Mode `slash_commands` payload)."""
    missing = [k for k in ("team_id", "user_id", "channel_id", "trigger_id") if not _text(form, k)]
    if missing:
        raise APIError(400, "malformed_body", f"slash command without {', '.join(missing)}")
    job: DispatchJob = {
        "event_id": f"command:{_text(form, 'trigger_id')}",
        "kind": "command",
        "team_id": _text(form, "team_id"),
        "user_id": _text(form, "user_id"),
        "channel": _text(form, "channel_id"),
        "ts": None,
        "thread_ts": None,
        "text": _text(form, "text"),
        "response_url": _text(form, "response_url") or None,
        "received_at": now,
    }
    return Accept(job, "command")


# --- interactivity -----------------------------------------------------------------------------


def _id_of(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return _text(value, "id") if isinstance(value, dict) else ""


def parse_interaction(raw: bytes, now: float) -> Accept | Ignore:
    """A verified interactivity request body (form field `payload`)."""
    encoded = _form(raw).get("payload")
    if not encoded:
        raise APIError(400, "malformed_body", "interactivity request without a payload field")
    return interaction_outcome(_json_object(encoded, "payload"), now)


def interaction_outcome(payload: Mapping[str, Any], now: float) -> Accept | Ignore:
    """An interaction payload (HTTP, or a Socket Mode `interactive` envelope); button clicks
    become jobs."""
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
