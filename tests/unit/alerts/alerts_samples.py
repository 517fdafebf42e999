"""Alertmanager webhook payloads (version 4) shaped exactly as Alertmanager 0.25 sends them."""

from __future__ import annotations

from typing import Any

RUNBOOK = "https://github.com/jeeves-dev/jeeves/blob/main/docs/runbook.md#jeevesservicedown"
ZERO_TIME = "0001-01-01T00:00:00Z"


def alert(
    instance: str = "10.0.0.7:8080",
    *,
    status: str = "firing",
    starts: str = "2024-05-01T10:00:00.000Z",
    fingerprint: str | None = None,
    summary: str = "jeeves-poster is down",
) -> dict[str, Any]:
    labels = {
        "alertname": "JeevesServiceDown",
        "job": "jeeves-poster",
        "instance": instance,
        "severity": "critical",
    }
    return {
        "status": status,
        "labels": labels,
        "annotations": {
            "summary": summary,
            "description": "Prometheus could not scrape jeeves-poster for 2 minutes.",
            "runbook_url": RUNBOOK,
        },
        "startsAt": starts,
        "endsAt": "2024-05-01T10:30:00.000Z" if status == "resolved" else ZERO_TIME,
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up+%3D%3D+0",
        "fingerprint": fingerprint or f"fp{abs(hash(instance)) % 10**8:08d}",
    }


def notification(*alerts: dict[str, Any], group_key: str | None = None) -> dict[str, Any]:
    items = list(alerts) or [alert()]
    firing = any(a["status"] == "firing" for a in items)
    return {
        "version": "4",
        "groupKey": group_key or '{}:{alertname="JeevesServiceDown", job="jeeves-poster"}',
        "truncatedAlerts": 0,
        "status": "firing" if firing else "resolved",
        "receiver": "jeeves",
        "groupLabels": {"alertname": "JeevesServiceDown", "job": "jeeves-poster"},
        "commonLabels": {
            "alertname": "JeevesServiceDown",
            "job": "jeeves-poster",
            "severity": "critical",
        },
        "commonAnnotations": {"runbook_url": RUNBOOK}
        if len(items) > 1
        else items[0]["annotations"],
        "externalURL": "http://alertmanager:9093",
        "alerts": items,
    }
