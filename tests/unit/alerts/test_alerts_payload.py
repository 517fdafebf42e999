"""Parsing Alertmanager's webhook payload: what is kept, and a specific answer for bad input.

Pure; nothing is faked."""

from __future__ import annotations

from typing import Any

import pytest
from alerts_samples import alert, notification

from jeeves.alerts.domain.payload import PayloadError, label_fingerprint, parse_notification

pytestmark = pytest.mark.unit


def test_a_notification_keeps_what_the_message_needs() -> None:
    parsed = parse_notification(notification(alert("a:1"), alert("b:1", status="resolved")))
    assert parsed.status == "firing"
    assert parsed.group_labels == {"alertname": "JeevesServiceDown", "job": "jeeves-poster"}
    assert [a.status for a in parsed.alerts] == ["firing", "resolved"]
    first = parsed.alerts[0]
    assert first.labels["instance"] == "a:1"
    assert first.annotations["summary"] == "jeeves-poster is down"
    assert first.key == f"{first.fingerprint}@2024-05-01T10:00:00.000Z"


def test_an_alert_without_fingerprint_gets_one_from_its_labels() -> None:
    raw = alert()
    del raw["fingerprint"]
    parsed = parse_notification(notification(raw))
    assert parsed.alerts[0].fingerprint == label_fingerprint(raw["labels"])
    assert label_fingerprint({"a": "1", "b": "2"}) == label_fingerprint({"b": "2", "a": "1"})
    assert label_fingerprint({"a": "1"}) != label_fingerprint({"a": "2"})


def _broken(**changes: Any) -> dict[str, Any]:
    data = notification()
    for key, value in changes.items():
        if value is None:
            del data[key]
        else:
            data[key] = value
    return data


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ([], "body"),
        (_broken(version="3"), "version"),
        (_broken(groupKey=""), "groupKey"),
        (_broken(groupKey=None), "groupKey"),
        (_broken(status="pending"), "status"),
        (_broken(alerts=[]), "alerts"),
        (_broken(alerts=["x"]), "alerts[0]"),
        (_broken(commonLabels={"a": 1}), "commonLabels"),
        (_broken(truncatedAlerts=-1), "truncatedAlerts"),
        (_broken(alerts=[{**alert(), "status": "pending"}]), "alerts[0].status"),
        (_broken(alerts=[{**alert(), "labels": {}}]), "alerts[0].labels"),
        (_broken(alerts=[{**alert(), "startsAt": "yesterday"}]), "alerts[0].startsAt"),
        (_broken(alerts=[alert(), {**alert(), "annotations": "x"}]), "alerts[1].annotations"),
    ],
)
def test_bad_input_names_the_field(data: Any, field: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_notification(data)
    assert caught.value.field == field
