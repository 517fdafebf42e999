"""Alert groups as incidents: what one notification changes, decided without I/O (pure).

An *incident* is one alert group (Alertmanager's `groupKey`) from its first firing
notification until every alert in it is resolved; it is ONE Slack message. `merge(latest,
notification, channel)` decides what a notification does:

- `posted`: no open incident for the group and the notification carries a firing alert not
  already resolved in the group's last incident → a new incident (version 1) and its message;
- `updated`: the open incident changed (an alert fired or resolved, labels or annotations
  moved, every alert resolved → the incident is resolved) → version + 1, the message is edited;
- `unchanged`: nothing the message shows changed — Alertmanager's retries and repeat_interval
  notifications land here, so they never make a second message;
- `ignored`: nothing to show — a resolved notification for a group with no open incident, or a
  late retry of a firing notification whose alerts were resolved since.

Alerts are keyed by fingerprint and `startsAt`: an alert resolved stays resolved (a retried
older notification cannot revive it); the same labels firing again later is a new key, and
after the incident is resolved, a new incident. Acknowledging and silencing change the message
too (`acknowledged`, `silenced`), each a new version.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from jeeves.alerts.domain.payload import Alert, Notification


class Effect(StrEnum):
    POSTED = "posted"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    IGNORED = "ignored"


@dataclass(frozen=True)
class AlertState:
    """One alert of an incident as last reported."""

    status: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: str
    ends_at: str = ""
    generator_url: str = ""

    @classmethod
    def of(cls, alert: Alert) -> AlertState:
        return cls(
            alert.status,
            dict(alert.labels),
            dict(alert.annotations),
            alert.starts_at,
            alert.ends_at,
            alert.generator_url,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "labels": self.labels,
            "annotations": self.annotations,
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "generator_url": self.generator_url,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AlertState:
        return cls(
            status=str(data["status"]),
            labels=dict(data["labels"]),
            annotations=dict(data["annotations"]),
            starts_at=str(data["starts_at"]),
            ends_at=str(data.get("ends_at", "")),
            generator_url=str(data.get("generator_url", "")),
        )


@dataclass(frozen=True)
class Incident:
    """One alert group's incident: its alerts, where its message is, who acted on it."""

    group_key: str
    seq: int  # 1, 2, … per group: the group firing again after it was resolved
    channel: str
    status: str
    group_labels: dict[str, str]
    common_labels: dict[str, str]
    common_annotations: dict[str, str]
    alerts: dict[str, AlertState]
    version: int = 1
    truncated: int = 0
    id: int | None = None  # the database row, once stored
    acked_by: str | None = None
    silenced_by: str | None = None
    silence_id: str | None = None
    silenced_until: str | None = None  # ISO 8601, UTC
    opened_at: str = ""

    @property
    def firing(self) -> list[AlertState]:
        return [a for a in self.alerts.values() if a.status == "firing"]

    @property
    def resolved(self) -> bool:
        return self.status == "resolved"

    def shown(self) -> tuple[Any, ...]:
        """Everything the message shows (the version moves when this changes)."""
        return (
            self.status,
            self.group_labels,
            self.common_labels,
            self.common_annotations,
            {k: a.to_json() for k, a in self.alerts.items()},
            self.truncated,
            self.acked_by,
            self.silenced_by,
            self.silenced_until,
        )


@dataclass(frozen=True)
class Change:
    effect: Effect
    incident: Incident | None  # the state to store (None when ignored)


def _status(alerts: dict[str, AlertState]) -> str:
    return "firing" if any(a.status == "firing" for a in alerts.values()) else "resolved"


def _known_resolved(incident: Incident | None, alert: Alert) -> bool:
    old = incident.alerts.get(alert.key) if incident is not None else None
    return old is not None and old.status == "resolved"


def merge(latest: Incident | None, notification: Notification, channel: str) -> Change:
    """What `notification` does to the group whose latest incident is `latest`."""
    if latest is None or latest.resolved:
        fresh = [a for a in notification.alerts if not _known_resolved(latest, a)]
        if not any(a.status == "firing" for a in fresh):
            return Change(Effect.IGNORED, None)
        alerts = {a.key: AlertState.of(a) for a in fresh}
        seq = latest.seq + 1 if latest is not None else 1
        opened = Incident(notification.group_key, seq, channel, **_shown(notification, alerts))
        return Change(Effect.POSTED, opened)
    alerts = dict(latest.alerts)
    for alert in notification.alerts:
        if not _known_resolved(latest, alert):  # a resolved alert stays resolved
            alerts[alert.key] = AlertState.of(alert)
    return changed(latest, replace(latest, **_shown(notification, alerts)))


def _shown(notification: Notification, alerts: dict[str, AlertState]) -> dict[str, Any]:
    """The incident fields a notification sets: its alerts, status, labels, annotations."""
    return {
        "status": _status(alerts),
        "group_labels": dict(notification.group_labels),
        "common_labels": dict(notification.common_labels),
        "common_annotations": dict(notification.common_annotations),
        "alerts": alerts,
        "truncated": notification.truncated,
    }


def changed(before: Incident, after: Incident) -> Change:
    """`updated` with the next version when the message would show something new."""
    if after.shown() == before.shown():
        return Change(Effect.UNCHANGED, before)
    return Change(Effect.UPDATED, replace(after, version=before.version + 1))


def acknowledged(incident: Incident, user: str) -> Change:
    """The first acknowledgement is shown on the message; later ones only in the thread."""
    if incident.acked_by is not None:
        return Change(Effect.UNCHANGED, incident)
    return changed(incident, replace(incident, acked_by=user))


def silenced(incident: Incident, user: str, silence_id: str, until: str) -> Change:
    return changed(
        incident,
        replace(incident, silenced_by=user, silence_id=silence_id, silenced_until=until),
    )


def silence_matchers(incident: Incident) -> list[dict[str, Any]]:
    """Alertmanager v2 matchers for the whole group: its group labels (what Alertmanager
    grouped it by), or its common labels when it groups by nothing."""
    labels = incident.group_labels or incident.common_labels
    return [
        {"name": name, "value": value, "isRegex": False, "isEqual": True}
        for name, value in sorted(labels.items())
    ]
