"""Routing alert groups to channels, and reading button clicks (pure; nothing faked)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jeeves.alerts.domain.clicks import (
    Button,
    Click,
    ClickError,
    parse_click,
    silence_body,
    silence_text,
)
from jeeves.alerts.domain.routing import channel_for, parse_routes

pytestmark = pytest.mark.unit
ROUTES = parse_routes(
    '[{"match": {"team": "payments"}, "channel": "C0PAY"},'
    ' {"match": {"severity": "critical", "env": "prod"}, "channel": "C0ONCALL"}]'
)


def test_the_first_route_whose_labels_all_match_wins() -> None:
    assert channel_for({"team": "payments", "severity": "critical"}, ROUTES, "C0DEF") == "C0PAY"
    assert channel_for({"severity": "critical", "env": "prod"}, ROUTES, "C0DEF") == "C0ONCALL"
    assert channel_for({"severity": "critical", "env": "dev"}, ROUTES, "C0DEF") == "C0DEF"
    assert parse_routes("") == ()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{", "is not JSON"),
        ("{}", "must be a JSON list"),
        ('[{"channel": "C0A1"}]', "route 0: match"),
        ('[{"match": {"a": 1}, "channel": "C0A1"}]', "route 0: match must map"),
        ('[{"match": {"a": "1"}, "channel": "#alerts"}]', "Slack channel id"),
    ],
)
def test_bad_routes_are_refused_with_a_reason(raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_routes(raw)


def test_clicks_name_the_button_and_the_incident() -> None:
    def click(action_id: str, value: str) -> Click | None:
        return parse_click({"interaction": {"action_id": action_id, "value": value}})

    assert click("alerts:silence", "7") == Click(Button.SILENCE, 7)
    assert click("alerts:ack", "7") == Click(Button.ACK, 7)
    assert parse_click({"keyword": "alerts"}) is None  # typed, not clicked
    with pytest.raises(ClickError):
        click("alerts:delete", "7")
    with pytest.raises(ClickError):
        click("alerts:ack", "7; drop table")


def test_a_silence_lasts_its_duration_and_says_who_asked() -> None:
    now = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    matchers = [{"name": "alertname", "value": "X", "isRegex": False, "isEqual": True}]
    body = silence_body(matchers, "U1", now, timedelta(hours=1), "[FIRING:1] X")
    assert body["startsAt"] == "2024-05-01T10:00:00Z"
    assert body["endsAt"] == "2024-05-01T11:00:00Z"
    assert body["createdBy"] == "slack:U1 (via Jeeves)"
    assert "for 1 h" in body["comment"]
    said = silence_text("U1", "2024-05-01T11:00:00+00:00", "abc", matchers)
    assert said == '<@U1> silenced this alert until 11:00 UTC (silence `abc` on `alertname="X"`).'
