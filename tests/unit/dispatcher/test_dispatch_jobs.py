"""Checking `dispatch` payloads, reading button clicks and building reply jobs (pure functions;
nothing faked)."""

from __future__ import annotations

from typing import Any

import pytest

from jeeves.dispatcher.dispatching import Target, reply_job
from jeeves.dispatcher.domain.jobs import interaction_target
from jeeves.dispatcher.domain.protocol import Reply
from jeeves.kit.jobs import parse_dispatch_job

pytestmark = pytest.mark.unit


def payload(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "event_id": "Ev1",
        "kind": "message",
        "team_id": "T1",
        "user_id": "U1",
        "channel": "C1",
        "text": "<@U0JEEVES> help",
        "received_at": 1700000000.25,
    }
    return {**base, **overrides}


def test_a_minimal_payload_gets_its_optional_fields() -> None:
    job = parse_dispatch_job(payload())
    assert (job["ts"], job["thread_ts"]) == (None, None)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"event_id": ""}, "'event_id'"),
        ({"team_id": None}, "'team_id'"),
        ({"kind": "reaction"}, "'kind'"),
        ({"text": 5}, "'text'"),
        ({"thread_ts": 1.5}, "'thread_ts'"),
        ({"blocks": {"type": "rich_text"}}, "'blocks'"),
        ({"received_at": "now"}, "'received_at'"),
        ({"received_at": True}, "'received_at'"),
        ({"interaction": "click"}, "'interaction'"),
    ],
)
def test_a_broken_payload_names_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        parse_dispatch_job(payload(**overrides))


def test_a_click_is_routed_by_its_action_id_prefix() -> None:
    job = parse_dispatch_job(
        payload(
            kind="interaction",
            interaction={"action_id": "memory:forget_all:confirm", "value": "yes"},
        )
    )
    assert interaction_target(job) == ("memory", "yes")


@pytest.mark.parametrize(
    "interaction",
    [None, {}, {"action_id": "plain"}, {"action_id": ":x"}, {"action_id": 3}],
)
def test_clicks_without_an_action_prefix_go_nowhere(interaction: dict[str, Any] | None) -> None:
    job = parse_dispatch_job(payload(kind="interaction", interaction=interaction))
    assert interaction_target(job) is None


def _dispatch(kind: str, response_url: str | None) -> dict[str, Any]:
    return {
        "event_id": f"{kind}:1",
        "kind": kind,
        "team_id": "T1",
        "user_id": "U1",
        "channel": "C1",
        "text": "help",
        "response_url": response_url,
        "received_at": 1.0,
    }


@pytest.mark.parametrize("kind", ["command", "interaction"])
def test_commands_and_clicks_reply_through_their_response_url(kind: str) -> None:
    job = parse_dispatch_job(_dispatch(kind, "https://hooks.slack.com/commands/T1/1/x"))
    out = reply_job(job, Reply("hi"))
    assert out["response_url"] == "https://hooks.slack.com/commands/T1/1/x"
    assert (out["reply_key"], out["channel"]) == (f"reply:{kind}:1", "C1")


def test_messages_and_missing_urls_carry_no_response_url() -> None:
    message = parse_dispatch_job(_dispatch("message", "https://hooks.slack.com/x"))
    assert "response_url" not in reply_job(message, Reply("hi"))
    command = parse_dispatch_job(_dispatch("command", None))
    assert "response_url" not in reply_job(command, Reply("hi"))


def test_a_reply_goes_to_the_jobs_workspace_and_privately_when_ephemeral() -> None:
    job = parse_dispatch_job(payload(team_id="T0OTHER", user_id="U0ASKER"))
    public = reply_job(job, Reply("hi"))
    assert (public["team_id"], "ephemeral_to" in public) == ("T0OTHER", False)
    private = reply_job(job, Reply("your link", ephemeral=True))
    assert private["ephemeral_to"] == "U0ASKER"


def test_one_private_mechanism_for_denials_prompts_and_private_action_replies() -> None:
    """A denial or prompt names its one reader in the target; an action's ephemeral reply to a
    run someone else's click released goes to the requester, not the clicker."""
    click = parse_dispatch_job(payload(kind="interaction", user_id="U0APPROVER"))
    denial = reply_job(click, Reply("no"), Target("C1", None, None, "U0MALLORY"))
    assert denial["ephemeral_to"] == "U0MALLORY"
    thread = Target("C9", "171.1")
    result = reply_job(click, Reply("your link", ephemeral=True), thread, asker="U0REQUESTER")
    assert (result["channel"], result["ephemeral_to"]) == ("C9", "U0REQUESTER")
    assert "ephemeral_to" not in reply_job(click, Reply("done"), thread, asker="U0REQUESTER")


def test_the_bot_user_of_the_jobs_workspace_must_be_a_string() -> None:
    assert parse_dispatch_job(payload(bot_user_id="UB0TWO"))["bot_user_id"] == "UB0TWO"
    with pytest.raises(ValueError, match="'bot_user_id'"):
        parse_dispatch_job(payload(bot_user_id=7))
