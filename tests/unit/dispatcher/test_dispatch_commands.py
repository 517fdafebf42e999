"""Typed commands in the dispatcher: routing by a command's phrase, the call an action receives,
the complaint for a broken command, help generated from the declaration, mention ids kept.

Pure functions over `ActionSpec`s parsed from registry JSON; nothing is faked.
"""

from __future__ import annotations

from typing import Any

import pytest

from jeeves.dispatcher.domain.calls import BadCall, Call, plan_call, summary
from jeeves.dispatcher.domain.replies import bad_call_text, help_text
from jeeves.dispatcher.domain.routing import Invoke, route
from jeeves.dispatcher.domain.text import extract_text
from jeeves.kit.actions import ActionSpec

pytestmark = pytest.mark.unit

DEPLOY: dict[str, Any] = {
    "keywords": ["deploy"],
    "url": "http://deploy:8080",
    "description": "Deploys a service",
    "commands": [
        {
            "format": "deploy {service} to {env=staging}",
            "description": "Roll out a service",
            "params": [
                {"name": "env", "type": "enum", "choices": ["staging", "prod"]},
            ],
        },
        {
            "name": "login",
            "format": "deploy login {user} {password}",
            "params": [{"name": "password", "secret": True}],
        },
    ],
    "policy": {"sideEffects": True, "allow": {"users": ["U0ALICE"]}, "confirm": True},
}
WEATHER: dict[str, Any] = {
    "keywords": ["weather", "forecast"],
    "url": "http://weather:8080",
    "commands": [
        {
            "name": "subscribe",
            "format": "weather every day at {time}",
            "params": [{"name": "time", "type": "time"}],
        },
        {"name": "unsubscribe", "format": "stop weather alerts"},
    ],
    "schedule": {
        "cron": "0 8 * * 1-5",
        "timezone": "Europe/Lisbon",
        "channel": "C0TEAM",
        "text": "weather in Lisbon",
    },
}


def actions() -> dict[str, ActionSpec]:
    return {
        "deploy": ActionSpec.from_json("deploy", DEPLOY),
        "weather": ActionSpec.from_json("weather", WEATHER),
    }


def planned(text: str) -> Call | BadCall:
    routed = route(text, actions())
    assert isinstance(routed, Invoke), routed
    return plan_call(routed.spec, routed.keyword, routed.args, text, text)


def test_a_command_phrase_routes_like_a_keyword() -> None:
    routed = route("stop weather alerts", actions())
    assert isinstance(routed, Invoke)
    assert (routed.spec.name, routed.keyword) == ("weather", "stop weather alerts")


def test_a_typed_call_carries_command_and_params() -> None:
    call = planned("deploy api to prod")
    assert isinstance(call, Call)
    assert call.args() == {
        "keyword": "deploy",
        "message": "deploy api to prod",
        "command": "deploy",
        "params": {"service": "api", "env": "prod"},
    }
    assert call.text == "api to prod"  # the protocol's `text` is unchanged


def test_free_text_stays_free_text() -> None:
    call = planned("weather in Porto tomorrow")
    assert isinstance(call, Call)
    assert call.args() == {"keyword": "weather", "message": "weather in Porto tomorrow"}


def test_a_broken_command_is_answered_with_the_problem_and_usage() -> None:
    # mrkdwn: `<` is sent as `&lt;` (Slack shows `<service>`; unescaped it would be a link)
    bad = planned("deploy api to qa")
    assert isinstance(bad, BadCall)
    spec = actions()["deploy"]
    assert bad_call_text(spec, bad.command, bad.problem) == "\n".join(
        [
            "Sorry, `env` must be one of staging, prod. Usage:",
            "• `deploy &lt;service&gt; [to &lt;env&gt;]` — Roll out a service",
            "    `service` — text",
            "    `env` — one of staging, prod, default staging",
        ]
    )


def test_user_text_in_a_complaint_cannot_ping() -> None:
    bad = planned("deploy api to <!channel>")
    assert isinstance(bad, BadCall)
    text = bad_call_text(actions()["deploy"], bad.command, bad.problem)
    assert "<!channel>" not in text


def test_prompts_show_typed_params_with_secrets_masked() -> None:
    spec = actions()["deploy"]
    call = planned("deploy login ann hunter2")
    assert isinstance(call, Call)
    assert summary(spec, call) == "`login` user=ann password=••••"


def test_mentions_keep_their_ids_for_typed_params() -> None:
    raw = "<@UBOT> page <@U0ANN|ann> in <#C0OPS|ops>"
    assert extract_text(raw, None, "UBOT") == "page @ann in #ops"
    assert extract_text(raw, None, "UBOT", ids=True) == "page <@U0ANN> in <#C0OPS>"
    blocks = [
        {
            "type": "rich_text",
            "elements": [
                {
                    "type": "rich_text_section",
                    "elements": [
                        {"type": "user", "user_id": "UBOT"},
                        {"type": "text", "text": " page "},
                        {"type": "user", "user_id": "U0ANN"},
                    ],
                }
            ],
        }
    ]
    assert extract_text(raw, blocks, "UBOT", ids=True) == "page <@U0ANN>"


def test_help_lists_commands_policy_and_schedule() -> None:
    listing = help_text(actions())
    assert (
        "• *deploy* — Deploys a service · usage: `deploy &lt;service&gt; [to &lt;env&gt;]` "
        "_(restricted)_" in (listing)
    )
    details = help_text(actions(), "deploy").splitlines()
    assert details[1:3] == [
        "• `deploy &lt;service&gt; [to &lt;env&gt;]` — Roll out a service",
        "    `service` — text",
    ]
    assert details[-1] == "Who may run it: for <@U0ALICE>; asks you to confirm"
    weather = help_text(actions(), "stop weather alerts")
    assert weather.splitlines()[-1] == (
        "Runs by itself: `0 8 * * 1-5` (Europe/Lisbon) in <#C0TEAM>"
    )


def test_a_registry_entry_with_a_broken_declaration_is_refused() -> None:
    with pytest.raises(ValueError, match=r"action deploy: commands\[0\]\.format"):
        ActionSpec.from_json("deploy", {**DEPLOY, "commands": [{"format": "{x} deploy"}]})


def test_the_declaration_round_trips_through_the_registry_json() -> None:
    spec = actions()["weather"]
    again = ActionSpec.from_json("weather", spec.to_json())
    assert again.declaration == spec.declaration
