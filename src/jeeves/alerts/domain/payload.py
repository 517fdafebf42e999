"""Alertmanager's webhook payload (version 4), validated into typed values (pure).

Alertmanager POSTs one JSON document per notification of an alert group:
`{"version": "4", "groupKey", "status": "firing"|"resolved", "receiver", "groupLabels",
"commonLabels", "commonAnnotations", "externalURL", "truncatedAlerts", "alerts": [{"status",
"labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint"}]}`.

`parse_notification(data)` checks every field the receiver relies on and raises `PayloadError`
naming the first bad one, so a malformed POST gets a specific 422 and nothing is stored. Label
and annotation values must be strings (as Alertmanager sends them); an alert without a
`fingerprint` (older senders) gets one derived from its labels, as Alertmanager derives it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

STATUSES = ("firing", "resolved")
MAX_ALERTS = 1000  # Alertmanager's own max_alerts is unlimited by default; bound what we keep


class PayloadError(ValueError):
    """The body is not an Alertmanager webhook notification; `field` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"'{field}' {message}")
        self.field = field


@dataclass(frozen=True)
class Alert:
    """One alert of the group, as this notification reports it."""

    status: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: str
    ends_at: str
    generator_url: str
    fingerprint: str

    @property
    def key(self) -> str:
        """One firing of one alert: the same labels firing again later is a new key."""
        return f"{self.fingerprint}@{self.starts_at}"


@dataclass(frozen=True)
class Notification:
    group_key: str
    status: str
    receiver: str
    group_labels: dict[str, str]
    common_labels: dict[str, str]
    common_annotations: dict[str, str]
    external_url: str
    alerts: tuple[Alert, ...]
    truncated: int = 0


def _str(data: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise PayloadError(where + key, "must be a string")
    return value


def _labels(data: Mapping[str, Any], key: str, where: str) -> dict[str, str]:
    value = data.get(key, {})
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise PayloadError(where + key, "must be an object of strings")
    return dict(value)


def _time(data: Mapping[str, Any], key: str, where: str) -> str:
    value = _str(data, key, where, required=key == "startsAt")
    if value:
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise PayloadError(where + key, "must be an RFC 3339 time") from None
    return value


def label_fingerprint(labels: Mapping[str, str]) -> str:
    """A stable id of a label set (for alerts sent without Alertmanager's fingerprint)."""
    canonical = "\x00".join(f"{k}\x01{v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _alert(data: Any, index: int) -> Alert:
    where = f"alerts[{index}]."
    if not isinstance(data, Mapping):
        raise PayloadError(f"alerts[{index}]", "must be an object")
    status = _str(data, "status", where)
    if status not in STATUSES:
        raise PayloadError(where + "status", "must be firing or resolved")
    labels = _labels(data, "labels", where)
    if not labels:
        raise PayloadError(where + "labels", "must not be empty")
    return Alert(
        status=status,
        labels=labels,
        annotations=_labels(data, "annotations", where),
        starts_at=_time(data, "startsAt", where),
        ends_at=_time(data, "endsAt", where),
        generator_url=_str(data, "generatorURL", where, required=False),
        fingerprint=_str(data, "fingerprint", where, required=False) or label_fingerprint(labels),
    )


def parse_notification(data: Any) -> Notification:
    """The notification in `data` (decoded JSON); PayloadError naming the first bad field."""
    if not isinstance(data, Mapping):
        raise PayloadError("body", "must be a JSON object")
    if data.get("version") != "4":
        raise PayloadError("version", 'must be "4" (Alertmanager webhook payload version 4)')
    group_key = _str(data, "groupKey", "")
    if not group_key:
        raise PayloadError("groupKey", "must not be empty")
    status = _str(data, "status", "")
    if status not in STATUSES:
        raise PayloadError("status", "must be firing or resolved")
    alerts = data.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        raise PayloadError("alerts", "must be a non-empty list")
    if len(alerts) > MAX_ALERTS:
        raise PayloadError("alerts", f"must hold at most {MAX_ALERTS} alerts")
    truncated = data.get("truncatedAlerts", 0)
    if not isinstance(truncated, int) or isinstance(truncated, bool) or truncated < 0:
        raise PayloadError("truncatedAlerts", "must be a non-negative integer")
    return Notification(
        group_key=group_key,
        status=status,
        receiver=_str(data, "receiver", "", required=False),
        group_labels=_labels(data, "groupLabels", ""),
        common_labels=_labels(data, "commonLabels", ""),
        common_annotations=_labels(data, "commonAnnotations", ""),
        external_url=_str(data, "externalURL", "", required=False),
        alerts=tuple(_alert(item, n) for n, item in enumerate(alerts)),
        truncated=truncated,
    )
