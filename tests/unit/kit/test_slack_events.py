"""What both Slack ingresses make of Slack's payloads as dicts (Socket Mode hands them decoded):
uninstall events, the bot's user id per workspace, slash commands and clicks as objects.

Nothing runs: pure functions of dicts and a clock value.
"""

from __future__ import annotations

from typing import Any

import pytest

from jeeves.kit.errors import APIError
from jeeves.kit.slack.events import (
    Accept,
    Ignore,
    Uninstall,
    classify_event,
    command_outcome,
    interaction_outcome,
)

pytestmark = pytest.mark.unit
NOW = 1_700_000_000.0


def callback(event: dict[str, Any], **envelope: Any) -> dict[str, Any]:
    return {
        "type": "event_callback",
        "team_id": "T2",
        "event_id": "Ev9",
        "event": event,
        **envelope,
    }


MENTION = {"type": "app_mention", "user": "U1", "text": "<@UB2> hi", "ts": "1.1", "channel": "C1"}


def test_app_uninstalled_forgets_the_team() -> None:
    outcome = classify_event(callback({"type": "app_uninstalled"}), "", NOW)
    assert outcome == Uninstall("T2", "app_uninstalled")


def test_revoked_bot_tokens_forget_the_team_but_user_tokens_alone_do_not() -> None:
    bots = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UB2"]}}
    users = {"type": "tokens_revoked", "tokens": {"oauth": ["U1"], "bot": []}}
    assert classify_event(callback(bots), "", NOW) == Uninstall("T2", "tokens_revoked")
    assert isinstance(classify_event(callback(users), "", NOW), Ignore)


def test_an_uninstall_without_a_team_is_malformed() -> None:
    body = callback({"type": "app_uninstalled"})
    del body["team_id"]
    with pytest.raises(APIError) as caught:
        classify_event(body, "", NOW)
    assert caught.value.status == 400


def test_the_bot_user_of_the_events_own_team_travels_with_the_job() -> None:
    authorizations = [
        {"team_id": "T1", "user_id": "UB1", "is_bot": True},
        {"team_id": "T2", "user_id": "UB2", "is_bot": True},
    ]
    outcome = classify_event(callback(MENTION, authorizations=authorizations), "UCONF", NOW)
    assert isinstance(outcome, Accept)
    assert outcome.job["bot_user_id"] == "UB2"


def test_without_authorizations_the_configured_bot_user_is_used() -> None:
    outcome = classify_event(callback(MENTION), "UCONF", NOW)
    assert isinstance(outcome, Accept)
    assert outcome.job["bot_user_id"] == "UCONF"


def test_a_slash_command_payload_object_becomes_a_command_job() -> None:
    form = {
        "team_id": "T2",
        "user_id": "U1",
        "channel_id": "C1",
        "trigger_id": "123.456.abc",
        "text": "help",
        "response_url": "https://hooks.slack.com/commands/x",
        "is_enterprise_install": "false",
    }
    outcome = command_outcome(form, NOW)
    assert outcome.job["event_id"] == "command:123.456.abc"
    assert (outcome.job["team_id"], outcome.job["text"]) == ("T2", "help")


def test_a_click_payload_object_becomes_an_interaction_job() -> None:
    payload = {
        "type": "block_actions",
        "team": {"id": "T2"},
        "user": {"id": "U1"},
        "channel": {"id": "C1"},
        "trigger_id": "t-1",
        "actions": [{"action_id": "echo:again", "value": "v", "block_id": "b"}],
    }
    outcome = interaction_outcome(payload, NOW)
    assert isinstance(outcome, Accept)
    assert outcome.job["event_id"] == "interaction:t-1"
