"""One message per alert group: what each notification, acknowledgement and silence does.

Pure (`merge`, `acknowledged`, `silenced`); nothing is faked."""

from __future__ import annotations

from dataclasses import replace

import pytest
from alerts_samples import alert, notification

from jeeves.alerts.domain.incidents import (
    Effect,
    Incident,
    acknowledged,
    merge,
    silence_matchers,
    silenced,
)
from jeeves.alerts.domain.payload import parse_notification

pytestmark = pytest.mark.unit
CHANNEL = "C0ALERTS"


def first(*alerts: dict[str, object]) -> Incident:
    change = merge(None, parse_notification(notification(*alerts)), CHANNEL)
    assert change.effect is Effect.POSTED
    assert change.incident is not None
    return replace(change.incident, id=1)


def test_the_first_firing_notification_opens_an_incident() -> None:
    incident = first(alert("a:1"))
    assert (incident.seq, incident.version, incident.status) == (1, 1, "firing")
    assert incident.channel == CHANNEL


def test_retries_and_repeats_change_nothing() -> None:
    incident = first(alert("a:1"))
    again = merge(incident, parse_notification(notification(alert("a:1"))), "C0OTHER")
    assert again.effect is Effect.UNCHANGED
    assert again.incident == incident


def test_a_new_alert_in_the_group_and_its_resolution_update_the_one_message() -> None:
    incident = first(alert("a:1"))
    grown = merge(incident, parse_notification(notification(alert("a:1"), alert("b:1"))), CHANNEL)
    assert grown.effect is Effect.UPDATED
    assert grown.incident is not None
    assert (grown.incident.version, len(grown.incident.firing)) == (2, 2)
    half = notification(alert("a:1"), alert("b:1", status="resolved"))
    partly = merge(grown.incident, parse_notification(half), CHANNEL)
    assert partly.incident is not None
    assert (partly.effect, partly.incident.status, partly.incident.version) == (
        Effect.UPDATED,
        "firing",
        3,
    )
    done = notification(alert("a:1", status="resolved"), alert("b:1", status="resolved"))
    resolved = merge(partly.incident, parse_notification(done), CHANNEL)
    assert resolved.incident is not None
    assert (resolved.effect, resolved.incident.status) == (Effect.UPDATED, "resolved")


def test_a_late_retry_of_the_firing_notification_never_revives_a_resolved_group() -> None:
    incident = first(alert("a:1"))
    resolved = merge(
        incident, parse_notification(notification(alert("a:1", status="resolved"))), CHANNEL
    ).incident
    assert resolved is not None
    assert resolved.resolved
    late = merge(resolved, parse_notification(notification(alert("a:1"))), CHANNEL)
    assert late.effect is Effect.IGNORED
    repeat_resolved = notification(alert("a:1", status="resolved"))
    assert merge(resolved, parse_notification(repeat_resolved), CHANNEL).effect is Effect.IGNORED


def test_the_group_firing_again_later_is_a_new_incident() -> None:
    incident = first(alert("a:1"))
    resolved = merge(
        incident, parse_notification(notification(alert("a:1", status="resolved"))), CHANNEL
    ).incident
    assert resolved is not None
    again = merge(
        resolved,
        parse_notification(notification(alert("a:1", starts="2024-05-02T08:00:00.000Z"))),
        CHANNEL,
    )
    assert again.effect is Effect.POSTED
    assert again.incident is not None
    assert (again.incident.seq, again.incident.version, again.incident.id) == (2, 1, None)


def test_a_resolved_notification_without_an_incident_posts_nothing() -> None:
    only_resolved = notification(alert("a:1", status="resolved"))
    assert merge(None, parse_notification(only_resolved), CHANNEL).effect is Effect.IGNORED


def test_annotations_that_change_update_the_message() -> None:
    incident = first(alert("a:1", summary="down 2m"))
    moved = merge(
        incident, parse_notification(notification(alert("a:1", summary="down 9m"))), CHANNEL
    )
    assert moved.effect is Effect.UPDATED


def test_the_first_acknowledgement_shows_later_ones_do_not_change_it() -> None:
    incident = first(alert("a:1"))
    acked = acknowledged(incident, "U1")
    assert acked.incident is not None
    assert (acked.effect, acked.incident.acked_by, acked.incident.version) == (
        Effect.UPDATED,
        "U1",
        2,
    )
    assert acknowledged(acked.incident, "U2").effect is Effect.UNCHANGED


def test_a_silence_is_shown_and_matches_the_groups_labels() -> None:
    incident = first(alert("a:1"))
    change = silenced(incident, "U1", "s-1", "2024-05-01T11:00:00+00:00")
    assert change.incident is not None
    assert (change.incident.silenced_by, change.incident.version) == ("U1", 2)
    assert silence_matchers(incident) == [
        {"name": "alertname", "value": "JeevesServiceDown", "isRegex": False, "isEqual": True},
        {"name": "job", "value": "jeeves-poster", "isRegex": False, "isEqual": True},
    ]
    ungrouped = replace(incident, group_labels={})
    assert {m["name"] for m in silence_matchers(ungrouped)} == {"alertname", "job", "severity"}
