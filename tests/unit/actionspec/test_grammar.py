"""Command formats and matching: types, defaults, optional words, and the exact complaints.

Pure functions of `jeeves_actionspec`; nothing is faked.
"""

from __future__ import annotations

from typing import Any

import pytest

from jeeves_actionspec import SpecError
from jeeves_actionspec.grammar import (
    MASK,
    Command,
    describe_param,
    masked,
    parse_command,
    parse_commands,
    phrases,
)
from jeeves_actionspec.matching import Matched, Mismatch, match, tokenize

pytestmark = pytest.mark.unit

DEPLOY = {
    "format": "deploy {service} to {env=staging}",
    "description": "Deploy a service",
    "params": [
        {"name": "service", "description": "what to deploy"},
        {"name": "env", "type": "enum", "choices": ["staging", "prod"]},
    ],
}


def command(raw: dict[str, Any]) -> Command:
    return parse_command(raw, "commands[0]")


def matched(commands: list[Command], text: str) -> dict[str, Any]:
    result = match(commands, text)
    assert isinstance(result, Matched), result
    return result.params


def complaint(commands: list[Command], text: str) -> str:
    result = match(commands, text)
    assert isinstance(result, Mismatch), result
    return result.problem


# --- matching ----------------------------------------------------------------------------------


def test_a_default_fills_in_when_the_optional_words_are_left_out() -> None:
    deploy = [command(DEPLOY)]
    assert matched(deploy, "deploy api") == {"service": "api", "env": "staging"}
    assert matched(deploy, "Deploy api TO Prod") == {"service": "api", "env": "prod"}


def test_an_enum_names_its_choices() -> None:
    assert complaint([command(DEPLOY)], "deploy api to qa") == "`env` must be one of staging, prod"


def test_a_missing_required_parameter_is_named() -> None:
    assert complaint([command(DEPLOY)], "deploy") == "`service` is missing"


def test_the_optional_words_commit_once_seen() -> None:
    # "to" opens the optional part: the env must follow, "to" is never taken as the service
    assert complaint([command(DEPLOY)], "deploy api to") == "`env` is missing"


def test_leftover_words_are_an_error_not_dropped() -> None:
    problem = complaint([command(DEPLOY)], "deploy api from prod")
    assert problem == "I did not understand `from prod` at the end"


def test_a_quoted_phrase_is_one_value() -> None:
    assert matched([command(DEPLOY)], 'deploy "my api" to prod')["service"] == "my api"
    assert matched([command(DEPLOY)], "deploy \u201cmy api\u201d")["service"] == "my api"


def test_a_string_that_ends_the_format_takes_the_rest() -> None:
    weather = [command({"format": "weather in {place}"})]
    assert matched(weather, "weather in  New York") == {"place": "New York"}
    assert matched(weather, 'weather in "Rio"') == {"place": "Rio"}


def test_literal_words_ignore_case_and_trailing_punctuation() -> None:
    stop = [command({"format": "stop weather alerts"})]
    assert matched(stop, "Stop weather alerts!") == {}
    assert match(stop, "stop weather reports") is None  # not this command's phrase at all
    remind = [command({"format": "remind {who} tomorrow"})]
    assert complaint(remind, "remind bob today") == (
        "I expected `tomorrow` where you wrote `today`"
    )
    assert complaint(remind, "remind bob") == "I expected `tomorrow` after `bob`"


def test_ints_convert_and_respect_bounds() -> None:
    roll = [
        command(
            {
                "format": "roll {count=2} {sides=6}",
                "params": [
                    {"name": "count", "type": "int", "minimum": 1, "maximum": 10},
                    {"name": "sides", "type": "int", "minimum": 2},
                ],
            }
        )
    ]
    assert matched(roll, "roll") == {"count": 2, "sides": 6}
    assert matched(roll, "roll 3 20") == {"count": 3, "sides": 20}
    assert matched(roll, "roll 3") == {"count": 3, "sides": 6}
    assert complaint(roll, "roll three") == "`count` must be a whole number, not `three`"
    assert complaint(roll, "roll 11") == "`count` must be at most 10, not `11`"
    assert complaint(roll, "roll 1 1") == "`sides` must be at least 2, not `1`"


def test_users_and_channels_become_ids() -> None:
    page = [
        command(
            {
                "format": "page {who} in {where?}",
                "params": [{"name": "who", "type": "user"}, {"name": "where", "type": "channel"}],
            }
        )
    ]
    assert matched(page, "page <@U0ALICE|alice> in <#C0OPS|ops>") == {
        "who": "U0ALICE",
        "where": "C0OPS",
    }
    assert matched(page, "page U0BOB") == {"who": "U0BOB"}  # optional without default: absent
    assert complaint(page, "page alice") == (
        "`who` must be a Slack user: mention them, like @alice"
    )
    assert complaint(page, "page <@U0A> in general") == (
        "`where` must be a channel: link it, like #general"
    )


def test_durations_become_seconds() -> None:
    snooze = [
        command(
            {
                "format": "snooze {alert} for {wait=1h}",
                "params": [{"name": "wait", "type": "duration", "maximum": 86400}],
            }
        )
    ]
    assert matched(snooze, "snooze disk") == {"alert": "disk", "wait": 3600}
    assert matched(snooze, "snooze disk for 1h30m") == {"alert": "disk", "wait": 5400}
    assert matched(snooze, "snooze disk for 45s.") == {"alert": "disk", "wait": 45}
    assert complaint(snooze, "snooze disk for soon") == (
        "`wait` must be a duration like 30s, 5m, 1h30m or 2d"
    )
    assert complaint(snooze, "snooze disk for 2d") == "`wait` must be at most 1d, not `2d`"


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("7:30", "07:30"),
        ("07:30", "07:30"),
        ("19.05", "19:05"),
        ("7am", "07:00"),
        ("7:30pm", "19:30"),
        ("12am", "00:00"),
        ("12:15pm", "12:15"),
    ],
)
def test_times_of_day(typed: str, value: str) -> None:
    alert = [
        command(
            {"format": "weather every day at {time}", "params": [{"name": "time", "type": "time"}]}
        )
    ]
    assert matched(alert, f"weather every day at {typed}") == {"time": value}


@pytest.mark.parametrize("typed", ["7", "24:00", "7:75", "13pm", "noonish"])
def test_what_is_not_a_time_of_day(typed: str) -> None:
    alert = [
        command(
            {"format": "weather every day at {time}", "params": [{"name": "time", "type": "time"}]}
        )
    ]
    assert complaint(alert, f"weather every day at {typed}") == (
        "`time` must be a time of day like 7:30, 19:05 or 7:30pm"
    )


def test_the_longest_phrase_wins_then_declaration_order() -> None:
    commands = list(
        parse_commands(
            [
                DEPLOY,
                {"name": "status", "format": "deploy status {service?}"},
            ]
        )
    )
    assert match(commands, "deploy status api").command.name == "status"  # type: ignore[union-attr]
    assert matched(commands, "deploy status") == {}
    assert match(commands, "deploy web").command.name == "deploy"  # type: ignore[union-attr]


def test_a_message_that_starts_no_command_matches_nothing() -> None:
    commands = list(
        parse_commands(
            [
                {
                    "format": "weather every day at {time}",
                    "params": [{"name": "time", "type": "time"}],
                }
            ]
        )
    )
    assert match(commands, "weather in Lisbon") is None  # free text for the action
    assert match(commands, "weather every day at 25:00") is not None


def test_the_complaint_that_got_furthest_is_reported() -> None:
    commands = list(
        parse_commands(
            [
                {
                    "name": "one",
                    "format": "scale {service} to {count}",
                    "params": [{"name": "count", "type": "int"}],
                },
                {
                    "name": "two",
                    "format": "scale {service} by {count}",
                    "params": [{"name": "count", "type": "int"}],
                },
            ]
        )
    )
    assert complaint(commands, "scale api by many") == "`count` must be a whole number, not `many`"


def test_tokens_keep_slack_mentions_whole() -> None:
    assert [t.value for t in tokenize('page <@U1|Ann Lee> "two words" x')] == [
        "page",
        "<@U1|Ann Lee>",
        "two words",
        "x",
    ]


# --- usage, help, schema, masking --------------------------------------------------------------


def test_usage_and_param_help() -> None:
    deploy = command(DEPLOY)
    assert deploy.usage() == "deploy <service> [to <env>]"
    assert [describe_param(p) for p in deploy.params] == [
        "`service` — what to deploy: text",
        "`env` — one of staging, prod, default staging",
    ]
    assert command({"format": "page {who?}"}).usage() == "page [<who>]"


def test_each_command_exports_a_json_schema() -> None:
    schema = command(DEPLOY).json_schema("deployer")
    assert schema["title"] == "deployer.deploy"
    assert schema["required"] == ["service"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["env"] == {
        "type": "string",
        "enum": ["staging", "prod"],
        "x-jeeves-type": "enum",
        "default": "staging",
    }
    duration = command({"format": "wait {for}", "params": [{"name": "for", "type": "duration"}]})
    assert duration.json_schema()["properties"]["for"]["type"] == "integer"


def test_secrets_are_masked_by_declaration_or_name() -> None:
    login = command(
        {
            "format": "login {user} {pin} {api_key}",
            "params": [{"name": "pin", "secret": True}],
        }
    )
    assert masked(login, {"user": "ann", "pin": "1234", "api_key": "k"}) == {
        "user": "ann",
        "pin": MASK,
        "api_key": MASK,
    }


def test_phrases_are_what_routes_to_the_action() -> None:
    commands = parse_commands([DEPLOY, {"format": "stop weather alerts"}])
    assert phrases(commands) == ["deploy", "stop weather alerts"]
    assert [c.name for c in commands] == ["deploy", "stop-weather-alerts"]


# --- what a declaration may not say ------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "path", "message"),
    [
        (
            {"format": "{service} deploy"},
            "commands[0].format",
            "must start with a literal word (what a message begins with)",
        ),
        (
            {
                "format": "deploy {env=qa}",
                "params": [{"name": "env", "type": "enum", "choices": ["staging", "prod"]}],
            },
            "commands[0].format",
            "default `qa` of `env`: `env` must be one of staging, prod",
        ),
        ({"format": "deploy {a} {a}"}, "commands[0].format", "parameter `a` appears twice"),
        (
            {"format": "deploy {a=1} {b}"},
            "commands[0].format",
            "required `b` follows an optional parameter",
        ),
        (
            {"format": "deploy {a?} now"},
            "commands[0].format",
            "no words may end a format after an optional parameter",
        ),
        (
            {"format": "deploy {x}", "params": [{"name": "y"}]},
            "commands[0].format",
            "declares `y` but the format never uses it",
        ),
        (
            {"format": "deploy {x}", "params": [{"name": "x", "type": "float"}]},
            "commands[0].params[0].type",
            "must be one of string, int, enum, user, channel, duration, time",
        ),
        (
            {"format": "deploy {x}", "params": [{"name": "x", "type": "enum"}]},
            "commands[0].params[0].choices",
            "an enum needs 1 to 50 choices",
        ),
        (
            {"format": "deploy {x}", "params": [{"name": "x", "choices": ["a"]}]},
            "commands[0].params[0].choices",
            "only an enum has choices",
        ),
        (
            {
                "format": "deploy {x}",
                "params": [{"name": "x", "type": "int", "minimum": 5, "maximum": 1}],
            },
            "commands[0].params[0].maximum",
            "must not be below minimum",
        ),
        (
            {"format": "deploy x{y}"},
            "commands[0].format",
            "`x{y}` is not a parameter: write {name} or {name=default}",
        ),
        (
            {"format": "deploy {Bad}"},
            "commands[0].format",
            "parameter `Bad` must be snake_case: a-z, 0-9, '_'",
        ),
        (
            {"format": "deploy {x=}"},
            "commands[0].format",
            "`{x=}` has no default: write {x?} for none",
        ),
        ({"format": "   "}, "commands[0].format", "must be a non-empty string"),
    ],
)
def test_bad_declarations_are_named(raw: dict[str, Any], path: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_commands([raw])
    assert (caught.value.path, caught.value.message) == (path, message)


def test_command_names_are_unique() -> None:
    with pytest.raises(SpecError, match="two commands are named `deploy`"):
        parse_commands([DEPLOY, {"format": "deploy {service} now"}])


def test_each_optional_part_may_be_left_out_on_its_own() -> None:
    freeze = [
        command(
            {
                "format": "deploy freeze {env} for {wait=1h} by {who?}",
                "params": [
                    {"name": "env", "type": "enum", "choices": ["staging", "prod"]},
                    {"name": "wait", "type": "duration"},
                    {"name": "who", "type": "user"},
                ],
            }
        )
    ]
    assert matched(freeze, "deploy freeze prod") == {"env": "prod", "wait": 3600}
    assert matched(freeze, "deploy freeze prod by <@U0ANN>") == {
        "env": "prod",
        "wait": 3600,
        "who": "U0ANN",
    }
    assert matched(freeze, "deploy freeze prod for 2h by U0ANN") == {
        "env": "prod",
        "wait": 7200,
        "who": "U0ANN",
    }
    assert complaint(freeze, "deploy freeze prod by") == "`who` is missing"
