"""What the Socket Mode ingress decides, as pure functions: frames, outcomes, acks, backoff.

- `parse_frame(text)`: a frame from Slack as `Hello`, `Disconnect` (with its reason), an
  `Envelope` (`events_api`, `slash_commands`, `interactive`) or `Other`;
- `decide(envelope, bot_user_id, now)`: the envelope's payload as the shared ingress outcome
  (`jeeves.kit.slack.events`): the same classification the HTTP gateway makes;
- `ack_frame(envelope_id, payload)`: the acknowledgement Slack waits for (3 seconds at most);
- `backoff_s(failures, …)`: full-jitter exponential delay before reconnecting.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jeeves.kit.errors import APIError
from jeeves.kit.slack.events import (
    Outcome,
    classify_event,
    command_outcome,
    interaction_outcome,
)

WORKING_ON_IT = {"response_type": "ephemeral", "text": "Working on it…"}
ENVELOPE_TYPES = frozenset({"events_api", "slash_commands", "interactive"})
# Disconnect reasons after which reconnecting at once makes no sense: Socket Mode is off.
DISABLED = frozenset({"link_disabled"})


@dataclass(frozen=True)
class Hello:
    num_connections: int


@dataclass(frozen=True)
class Disconnect:
    reason: str


@dataclass(frozen=True)
class Envelope:
    envelope_id: str
    type: str
    payload: dict[str, Any]
    retry_attempt: int = 0
    accepts_response_payload: bool = False


@dataclass(frozen=True)
class Other:
    type: str


Frame = Hello | Disconnect | Envelope | Other


def parse_frame(text: str) -> Frame:
    """One text frame from Slack; anything unreadable is `Other("unreadable")`."""
    try:
        value = json.loads(text)
    except ValueError:
        return Other("unreadable")
    if not isinstance(value, dict):
        return Other("unreadable")
    kind = value.get("type")
    if kind == "hello":
        count = value.get("num_connections")
        return Hello(count if isinstance(count, int) else 0)
    if kind == "disconnect":
        reason = value.get("reason")
        return Disconnect(reason if isinstance(reason, str) else "unknown")
    envelope_id, payload = value.get("envelope_id"), value.get("payload")
    if isinstance(envelope_id, str) and envelope_id and isinstance(kind, str):
        retry = value.get("retry_attempt")
        return Envelope(
            envelope_id=envelope_id,
            type=kind,
            payload=payload if isinstance(payload, dict) else {},
            retry_attempt=retry if isinstance(retry, int) else 0,
            accepts_response_payload=value.get("accepts_response_payload") is True,
        )
    return Other(kind if isinstance(kind, str) else "unknown")


def decide(envelope: Envelope, bot_user_id: str, now: float) -> Outcome:
    """The shared ingress outcome of an envelope; APIError(400) when its payload is malformed
    or its type unknown (acknowledged all the same: a redelivery would not mend it)."""
    if envelope.type == "events_api":
        return classify_event(envelope.payload, bot_user_id, now)
    if envelope.type == "slash_commands":
        return command_outcome(envelope.payload, now)
    if envelope.type == "interactive":
        return interaction_outcome(envelope.payload, now)
    raise APIError(400, "malformed_body", f"unknown envelope type {envelope.type[:40]!r}")


def ack_frame(envelope_id: str, payload: dict[str, Any] | None = None) -> str:
    frame: dict[str, Any] = {"envelope_id": envelope_id}
    if payload is not None:
        frame["payload"] = payload
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


def ack_payload(envelope: Envelope) -> dict[str, Any] | None:
    """What a slash command's ack shows its user at once (as the HTTP gateway answers)."""
    return WORKING_ON_IT if envelope.type == "slash_commands" else None


def backoff_s(
    failures: int, *, base_s: float, cap_s: float, rand: Callable[[float, float], float]
) -> float:
    """Seconds before the next connection attempt after `failures` failed ones in a row:
    0 for none, else full jitter over min(cap, base·2^(failures-1))."""
    if failures <= 0:
        return 0.0
    ceiling = min(cap_s, base_s * 2 ** min(failures - 1, 30))
    return rand(0.0, ceiling)
