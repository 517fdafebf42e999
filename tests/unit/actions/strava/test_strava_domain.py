"""The Strava action's words and the Strava emulator's rules (pure functions; nothing runs).

Activities are Strava's SummaryActivity shapes built by the emulator's own `activity()`.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from jeeves.actions.strava.domain import (
    Command,
    authorize_url,
    command_of,
    granted_can_read,
    summary_text,
)
from jeeves.emulators.strava.domain import Strava, StravaError, activity, seed_athletes

pytestmark = pytest.mark.unit
NOW = 1_700_000_000.0


def test_commands() -> None:
    assert command_of("login strava", "") == Command("login")
    assert command_of("strava", "") == Command("summary", 7)
    assert command_of("runs", "last 30 days") == Command("summary", 30)
    assert command_of("strava", "this month") == Command("summary", 30)
    assert command_of("strava", "999 days") == Command("summary", 90)
    assert command_of("strava", "help") == Command("help")


def test_the_authorize_link_asks_to_read_activities_and_carries_the_state() -> None:
    url = authorize_url("https://www.strava.com/", client_id="42", redirect_uri="https://j/cb",
                        state="s1")  # fmt: skip
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert (parts.netloc, parts.path) == ("www.strava.com", "/oauth/authorize")
    assert query == {
        "client_id": "42",
        "redirect_uri": "https://j/cb",
        "response_type": "code",
        "approval_prompt": "auto",
        "scope": "read,activity:read_all",
        "state": "s1",
    }


def test_reading_needs_an_activity_scope() -> None:
    assert granted_can_read("read,activity:read_all")
    assert granted_can_read("activity:read")
    assert not granted_can_read("read,profile:read_all")


def test_the_summary_groups_by_sport_and_escapes_names() -> None:
    rows = [
        activity(1, 7, name="<!channel> run", sport="Run", distance_m=5000, moving_s=1500,
                 start=NOW - 3600),
        activity(2, 7, name="Ride", sport="Ride", distance_m=20000, moving_s=3600,
                 start=NOW - 86_400),
        activity(3, 7, name="Run 2", sport="Run", distance_m=10000, moving_s=3000,
                 start=NOW - 2 * 86_400),
    ]  # fmt: skip
    text = summary_text(rows, NOW, 7)
    assert text.splitlines() == [
        "*Your last 7 days on Strava*",
        "• 2 runs: 15.0 km in 1h 15m",
        "• 1 ride: 20.0 km in 1h 00m",
        "Latest: _&lt;!channel&gt; run_ — 5.0 km in 25 min, 5:00 /km, today",
    ]
    assert summary_text([], NOW, 30) == "No Strava activities in the last 30 days. Time for a run?"


def test_the_emulator_codes_work_once_and_tokens_need_the_activity_scope() -> None:
    strava = Strava("42", "sec", seed_athletes(NOW), token_ttl_s=100)
    code, scope = strava.authorize("42", 1001, "read", NOW)
    assert scope == "read"
    tokens = strava.exchange("42", "sec", code, NOW)
    assert tokens["athlete"]["id"] == 1001
    with pytest.raises(StravaError) as reused:
        strava.exchange("42", "sec", code, NOW)
    assert reused.value.body["errors"][0]["resource"] == "AuthorizationCode"
    with pytest.raises(StravaError) as narrow:
        strava.activities(tokens["access_token"], NOW)
    assert narrow.value.status == 401
    with pytest.raises(StravaError):
        strava.activities(tokens["access_token"], NOW + 100)  # expired


def test_the_emulator_deauthorize_revokes_every_token_of_the_athlete() -> None:
    strava = Strava("42", "sec", seed_athletes(NOW))
    code, _ = strava.authorize("42", 1001, "activity:read_all", NOW)
    first = strava.exchange("42", "sec", code, NOW)
    second = strava.refresh("42", "sec", first["refresh_token"], NOW)
    assert len(strava.activities(second["access_token"], NOW, after=NOW - 7 * 86_400)) == 3
    strava.deauthorize(first["access_token"], NOW)
    for token in (first["access_token"], second["access_token"]):
        with pytest.raises(StravaError):
            strava.authenticate(token, NOW)
    with pytest.raises(StravaError):
        strava.refresh("42", "sec", first["refresh_token"], NOW)
    assert strava.deauthorized == [{"athlete_id": 1001, "at": NOW}]
