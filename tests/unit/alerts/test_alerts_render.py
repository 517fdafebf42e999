"""The Slack message of an incident: status, text, buttons, escaping, limits.

Pure; nothing is faked."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from alerts_samples import RUNBOOK, alert, notification

from jeeves.alerts.domain.incidents import Incident, merge
from jeeves.alerts.domain.payload import parse_notification
from jeeves.alerts.domain.render import MAX_LISTED, blocks, message_job, text, title

pytestmark = pytest.mark.unit


def incident(*alerts: dict[str, Any]) -> Incident:
    found = merge(None, parse_notification(notification(*alerts)), "C0ALERTS").incident
    assert found is not None
    return replace(found, id=42)


def buttons(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    actions = [b for b in found if b["type"] == "actions"]
    return actions[0]["elements"] if actions else []


def test_a_firing_group_shows_what_why_how_bad_and_three_buttons() -> None:
    shown = incident(alert("a:1"))
    assert text(shown) == ":red_circle: [FIRING:1] JeevesServiceDown: jeeves-poster is down"
    rendered = json.dumps(blocks(shown))
    assert "severity `critical`" in rendered
    assert "Prometheus could not scrape" in rendered
    assert "`job=jeeves-poster`" in rendered
    elements = buttons(blocks(shown))
    assert [e["text"]["text"] for e in elements] == ["Silence 1h", "Acknowledge", "Runbook"]
    assert [e["action_id"] for e in elements] == ["alerts:silence", "alerts:ack", "alerts:runbook"]
    assert {e["value"] for e in elements} == {"42"}
    assert elements[2]["url"] == RUNBOOK


def test_a_resolved_group_keeps_only_the_runbook_and_says_who_acted() -> None:
    shown = replace(
        incident(alert("a:1")),
        status="resolved",
        acked_by="U1",
        silenced_by="U2",
        silenced_until="2024-05-01T11:00:00+00:00",
    )
    assert text(shown).startswith(":large_green_circle: [RESOLVED:1]")
    rendered = json.dumps(blocks(shown))
    assert "Acknowledged by <@U1>" in rendered
    assert "Silenced by <@U2> until 11:00 UTC" in rendered
    assert [e["text"]["text"] for e in buttons(blocks(shown))] == ["Runbook"]


def test_alert_text_cannot_ping_or_forge_links() -> None:
    shown = incident(alert("a:1", summary="<!channel> see <http://evil|docs>"))
    rendered = json.dumps(blocks(shown))
    assert "<!channel>" not in rendered
    assert "&lt;!channel&gt;" in rendered


def test_a_large_group_lists_ten_and_counts_the_rest() -> None:
    many = [alert(f"10.0.0.{n}:8080") for n in range(25)]
    shown = replace(incident(*many), truncated=5)
    listing = blocks(shown)[-2]["text"]["text"]
    assert listing.count(":red_circle:") == MAX_LISTED
    assert listing.endswith("… and 20 more")
    assert title(shown) == "[FIRING:25] JeevesServiceDown"
    assert all(len(json.dumps(b)) < 3500 for b in blocks(shown))


def test_the_message_job_is_versioned_and_keyed_by_the_incident() -> None:
    job = message_job(replace(incident(alert("a:1")), version=3))
    assert (job["reply_key"], job["version"], job["channel"]) == ("alert:42", 3, "C0ALERTS")
    assert job["thread_ts"] is None
    assert job["sent_at"] is None  # alert messages stay out of the reply SLO
    assert job["team_id"] is None  # one workspace: the poster's configured token
    assert message_job(incident(alert("a:1")), "T0ACME")["team_id"] == "T0ACME"
