"""Button clicks on an alert message, and what Jeeves answers in its thread (pure).

The dispatcher routes a click whose `action_id` reads `alerts:<button>` to this action with
`args.interaction = {"action_id", "value", "block_id"}`; the value is the incident id.
`parse_click` reads it (None when the call is not a click: a typed `alerts` command), the
`*_text` functions word the thread replies, and `silence_body` builds the Alertmanager v2
`POST /api/v2/silences` body for the group's matchers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from jeeves.alerts.domain.render import ACK_ID, RUNBOOK_ID, SILENCE_ID
from jeeves.kit.action_app import escape_mrkdwn


class Button(StrEnum):
    SILENCE = "silence"
    ACK = "ack"
    RUNBOOK = "runbook"


BUTTONS = {SILENCE_ID: Button.SILENCE, ACK_ID: Button.ACK, RUNBOOK_ID: Button.RUNBOOK}


@dataclass(frozen=True)
class Click:
    button: Button
    incident_id: int


class ClickError(ValueError):
    """A click this action cannot act on (unknown button, no incident id)."""


def parse_click(args: Mapping[str, Any]) -> Click | None:
    interaction = args.get("interaction")
    if not isinstance(interaction, Mapping):
        return None
    button = BUTTONS.get(str(interaction.get("action_id", "")))
    if button is None:
        raise ClickError("That button is not one of mine.")
    value = str(interaction.get("value", ""))
    if not value.isdigit():
        raise ClickError("That button does not name an alert.")
    return Click(button, int(value))


def silence_body(
    matchers: Sequence[Mapping[str, Any]], user: str, now: datetime, duration: timedelta, title: str
) -> dict[str, Any]:
    return {
        "matchers": [dict(m) for m in matchers],
        "startsAt": now.isoformat().replace("+00:00", "Z"),
        "endsAt": (now + duration).isoformat().replace("+00:00", "Z"),
        "createdBy": f"slack:{user} (via Jeeves)",
        "comment": f"Silenced from Slack by {user} for {_span(duration)}: {title}",
    }


def _span(duration: timedelta) -> str:
    minutes = int(duration.total_seconds() // 60)
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"


def _matchers_text(matchers: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(
        f'`{escape_mrkdwn(str(m["name"]))}="{escape_mrkdwn(str(m["value"]))}"`' for m in matchers
    )


def _until(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%H:%M UTC")


def ack_text(user: str, first: bool, acked_by: str | None) -> str:
    if first:
        return f"<@{user}> acknowledged this alert."
    return f"<@{user}> acknowledged this alert too (first: <@{acked_by}>)."


def silence_text(
    user: str, until: str, silence_id: str, matchers: Sequence[Mapping[str, Any]]
) -> str:
    return (
        f"<@{user}> silenced this alert until {_until(until)} "
        f"(silence `{escape_mrkdwn(silence_id)}` on {_matchers_text(matchers)})."
    )


def already_silenced_text(by: str, until: str) -> str:
    return f"Already silenced by <@{by}> until {_until(until)}."


RESOLVED_TEXT = "This alert is resolved already; nothing to silence or acknowledge."
NO_INCIDENT_TEXT = "I don't know that alert any more."
NO_ALERTMANAGER_TEXT = "Silencing is not set up here (no JEEVES_ALERTMANAGER_URL)."
NO_MATCHERS_TEXT = "This alert group has no labels to silence it by."
