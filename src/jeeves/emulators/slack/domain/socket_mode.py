"""Socket Mode as Slack speaks it, built as plain data: tickets, frames, envelopes and acks.

An app in Socket Mode calls `apps.connections.open` with its app-level token (`xapp-…`) and gets
a one-time WebSocket URL (`…/link/?ticket=…&app_id=…`). On connecting, Slack sends `hello`; then
every event, slash command and click arrives as an envelope the app must acknowledge by its
`envelope_id` within 3 seconds, or Slack delivers it again (`retry_attempt`, `retry_reason`).
Slack asks an app to reconnect with `disconnect` (`warning` some seconds before, then
`refresh_requested`; `link_disabled` when Socket Mode is turned off; `too_many_websockets` when
the app opens more than 10 connections). Envelope shapes follow Slack's:

    {"envelope_id": "…", "type": "events_api", "accepts_response_payload": false,
     "retry_attempt": 0, "retry_reason": "", "payload": {<the Events API body>}}
    {"envelope_id": "…", "type": "slash_commands", "accepts_response_payload": true,
     "payload": {<the slash command's form fields>}}
    {"envelope_id": "…", "type": "interactive", "accepts_response_payload": false,
     "payload": {<the block_actions payload>}}

and an ack is `{"envelope_id": "…"}`, with `"payload": {…}` for a slash command's answer.
Pure functions: identifiers and times are passed in.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qs

EnvelopeType = Literal["events_api", "slash_commands", "interactive"]
DisconnectReason = Literal["warning", "refresh_requested", "link_disabled", "too_many_websockets"]
DISCONNECT_REASONS: tuple[DisconnectReason, ...] = (
    "warning",
    "refresh_requested",
    "link_disabled",
    "too_many_websockets",
)
MAX_CONNECTIONS = 10  # Slack's limit of open Socket Mode connections per app
TICKET_TTL_S = 60.0
RETRY_REASON = "timeout"  # why Slack delivers an envelope again: no ack within 3 seconds
_PATH_TYPES: dict[str, EnvelopeType] = {
    "/slack/events": "events_api",
    "/slack/commands": "slash_commands",
    "/slack/interactivity": "interactive",
}


class Tickets:
    """One-time tickets of the WebSocket URLs `apps.connections.open` hands out."""

    def __init__(self, ttl_s: float = TICKET_TTL_S, keep: int = 1000) -> None:
        self._ttl_s = ttl_s
        self._keep = keep
        self._issued: OrderedDict[str, float] = OrderedDict()

    def issue(self, now: float) -> str:
        ticket = secrets.token_hex(16)
        self._issued[ticket] = now + self._ttl_s
        while len(self._issued) > self._keep:
            self._issued.popitem(last=False)
        return ticket

    def redeem(self, ticket: str, now: float) -> bool:
        """True once per issued, unexpired ticket; False for anything else."""
        expires = self._issued.pop(ticket, None)
        return expires is not None and now <= expires


def link_url(public_url: str, ticket: str, app_id: str) -> str:
    """The WebSocket URL for `ticket` on the emulator (`ws://…` for an `http://` base)."""
    scheme, rest = public_url.split("://", 1)
    ws = "wss" if scheme == "https" else "ws"
    return f"{ws}://{rest}/link/?ticket={ticket}&app_id={app_id}"


def hello(num_connections: int, app_id: str, connection_time_s: int = 18060) -> dict[str, Any]:
    return {
        "type": "hello",
        "num_connections": num_connections,
        "debug_info": {
            "host": "applink-emulator",
            "build_number": 1,
            "approximate_connection_time": connection_time_s,
        },
        "connection_info": {"app_id": app_id},
    }


def disconnect(reason: DisconnectReason) -> dict[str, Any]:
    return {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-emulator"}}


def new_envelope_id() -> str:
    return str(uuid.uuid4())


def envelope_type(path: str) -> EnvelopeType:
    """The envelope type of what would otherwise be POSTed to `path` on the app."""
    return _PATH_TYPES[path]


def payload_of(path: str, body: bytes) -> dict[str, Any]:
    """The envelope payload for an HTTP body the app would have received at `path`: the
    Events API JSON as it is, a slash command's form as an object of strings, a click's
    `payload` form field decoded."""
    if path == "/slack/events":
        value = json.loads(body)
    else:
        form = {k: v[-1] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
        value = json.loads(form["payload"]) if path == "/slack/interactivity" else form
    if not isinstance(value, dict):
        raise ValueError(f"the body for {path} is not an object")
    return value


def envelope(
    kind: EnvelopeType,
    envelope_id: str,
    payload: dict[str, Any],
    *,
    retry_attempt: int = 0,
    retry_reason: str = "",
) -> dict[str, Any]:
    """One envelope as Slack frames it."""
    frame: dict[str, Any] = {
        "envelope_id": envelope_id,
        "payload": payload,
        "type": kind,
        "accepts_response_payload": kind == "slash_commands",
    }
    if kind == "events_api":
        frame["retry_attempt"] = retry_attempt
        frame["retry_reason"] = retry_reason
    return frame


@dataclass(frozen=True)
class Ack:
    envelope_id: str
    payload: dict[str, Any] | None


def parse_ack(text: str) -> Ack | None:
    """An app's acknowledgement frame; None for anything that is not one."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    envelope_id = value.get("envelope_id")
    if not isinstance(envelope_id, str) or not envelope_id:
        return None
    payload = value.get("payload")
    return Ack(envelope_id, payload if isinstance(payload, dict) else None)
