"""An incident as a Slack message: fallback text and Block Kit blocks (pure).

The message shows the status and severity, the alert name, summary and description, the
group's labels, up to `MAX_LISTED` alerts, who acknowledged or silenced it, and three buttons:
**Silence 1h** (`alerts:silence`), **Acknowledge** (`alerts:ack`) — both carry the incident id,
so a click reaches this service through gateway → dispatcher by the `alerts:` prefix — and
**Runbook** (a link button to the alert's `runbook_url`). A resolved incident keeps only the
runbook link. Everything that comes from alerts (labels, annotations) is mrkdwn-escaped: an
annotation cannot ping `@channel` or forge a link. `message_job` is the poster's versioned
`reply` job for the incident's message.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from jeeves.alerts.domain.incidents import AlertState, Incident
from jeeves.kit.action_app import escape_mrkdwn
from jeeves.kit.jobs import ReplyJob

ACTION = "alerts"
SILENCE_ID, ACK_ID, RUNBOOK_ID = f"{ACTION}:silence", f"{ACTION}:ack", f"{ACTION}:runbook"
MAX_LISTED = 10
MAX_SECTION = 2900  # Slack refuses section text over 3000 characters
HIDDEN_LABELS = frozenset({"alertname", "severity"})
ICONS = {"firing": ":red_circle:", "resolved": ":large_green_circle:"}


def _clip(text: str, limit: int = MAX_SECTION) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _label(incident: Incident, name: str) -> str:
    found = incident.common_labels.get(name) or incident.group_labels.get(name)
    if found:
        return found
    first = next(iter(incident.alerts.values()), None)
    return first.labels.get(name, "") if first is not None else ""


def _annotation(incident: Incident, name: str) -> str:
    found = incident.common_annotations.get(name)
    if found:
        return found
    first = next(iter(incident.firing or incident.alerts.values()), None)
    return first.annotations.get(name, "") if first is not None else ""


def runbook_of(incident: Incident) -> str:
    url = _annotation(incident, "runbook_url")
    return url if url.startswith(("https://", "http://")) else ""


def title(incident: Incident) -> str:
    """`[FIRING:2] JeevesReplyBudgetBurn` — Alertmanager's own way of naming a group."""
    count = len(incident.firing) if not incident.resolved else len(incident.alerts)
    name = _label(incident, "alertname") or "alert group"
    return f"[{incident.status.upper()}:{count}] {name}"


def _labels_line(labels: Mapping[str, str]) -> str:
    shown = [f"`{escape_mrkdwn(k)}={escape_mrkdwn(v)}`" for k, v in sorted(labels.items())]
    return " ".join(shown)


def _alert_line(alert: AlertState, common: Mapping[str, str]) -> str:
    own = {k: v for k, v in alert.labels.items() if k not in common and k not in HIDDEN_LABELS}
    summary = alert.annotations.get("summary", "")
    parts = [ICONS.get(alert.status, ""), _labels_line(own) or "(same labels)"]
    if summary:
        parts.append("— " + escape_mrkdwn(summary))
    return " ".join(p for p in parts if p)


def _clock(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).strftime("%H:%M UTC")
    except ValueError:
        return iso


def _status_line(incident: Incident) -> str:
    notes = []
    if incident.acked_by:
        notes.append(f"Acknowledged by <@{incident.acked_by}>")
    if incident.silenced_by and incident.silenced_until:
        notes.append(
            f"Silenced by <@{incident.silenced_by}> until {_clock(incident.silenced_until)}"
        )
    return " · ".join(notes)


def _buttons(incident: Incident) -> dict[str, Any] | None:
    value = str(incident.id)
    elements: list[dict[str, Any]] = []
    if not incident.resolved:
        elements += [
            {
                "type": "button",
                "action_id": SILENCE_ID,
                "text": {"type": "plain_text", "text": "Silence 1h"},
                "value": value,
            },
            {
                "type": "button",
                "action_id": ACK_ID,
                "text": {"type": "plain_text", "text": "Acknowledge"},
                "style": "primary",
                "value": value,
            },
        ]
    runbook = runbook_of(incident)
    if runbook:
        elements.append(
            {
                "type": "button",
                "action_id": RUNBOOK_ID,
                "text": {"type": "plain_text", "text": "Runbook"},
                "url": runbook,
                "value": value,
            }
        )
    if not elements:
        return None
    return {"type": "actions", "block_id": f"alerts:{incident.id}", "elements": elements}


def text(incident: Incident) -> str:
    """The notification text (what Slack shows in notifications and to screen readers)."""
    summary = _annotation(incident, "summary")
    line = f"{ICONS[incident.status]} {title(incident)}"
    return f"{line}: {summary}" if summary else line


def blocks(incident: Incident) -> list[dict[str, Any]]:
    severity = _label(incident, "severity")
    head = f"{ICONS[incident.status]} *{escape_mrkdwn(title(incident))}*"
    if severity:
        head += f"  ·  severity `{escape_mrkdwn(severity)}`"
    summary = _annotation(incident, "summary")
    if summary:
        head += "\n" + escape_mrkdwn(summary)
    out: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": _clip(head)}}
    ]
    description = _annotation(incident, "description")
    if description:
        out.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _clip(escape_mrkdwn(description))},
            }
        )
    labels = {k: v for k, v in incident.common_labels.items() if k not in HIDDEN_LABELS}
    if labels:
        out.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": _clip(_labels_line(labels))}],
            }
        )
    listed = list(incident.alerts.values())
    if len(listed) > 1 or incident.truncated:
        lines = [_alert_line(a, incident.common_labels) for a in listed[:MAX_LISTED]]
        more = len(listed) - MAX_LISTED + incident.truncated
        if more > 0:
            lines.append(f"… and {more} more")
        out.append({"type": "section", "text": {"type": "mrkdwn", "text": _clip("\n".join(lines))}})
    status = _status_line(incident)
    if status:
        out.append({"type": "context", "elements": [{"type": "mrkdwn", "text": status}]})
    buttons = _buttons(incident)
    if buttons is not None:
        out.append(buttons)
    return out


def reply_key(incident: Incident) -> str:
    """The poster's key of the incident's one message."""
    return f"alert:{incident.id}"


def message_job(incident: Incident, team_id: str | None = None) -> ReplyJob:
    """The poster's job posting (version 1) or editing (later versions) the message; with
    `team_id`, in that workspace (a distributed app posts with its installation's token)."""
    return {
        "reply_key": reply_key(incident),
        "channel": incident.channel,
        "thread_ts": None,
        "text": text(incident),
        "blocks": blocks(incident),
        "event_id": None,
        "sent_at": None,
        "version": incident.version,
        "team_id": team_id or None,
    }
