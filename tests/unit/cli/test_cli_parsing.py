"""The `jeeves` CLI's pure parts: argument parsing, tables, flag edits, value validation.

Nothing touches etcd: only the parser, the renderers and the pure helpers run.
"""

from __future__ import annotations

import pytest

from jeeves.cli import (
    MALFORMED,
    CliError,
    Context,
    build_parser,
    flag_row,
    render_table,
    updated_flag,
    validate_config_value,
)
from jeeves.kit.flags import FlagSpec

pytestmark = pytest.mark.unit


def test_global_options_work_before_and_after_the_command() -> None:
    before = build_parser().parse_args(["--env", "prod", "-o", "json", "flags", "list"])
    after = build_parser().parse_args(["flags", "list", "--env", "prod", "-o", "json"])
    for args in (before, after):
        assert (args.env, args.output) == ("prod", "json")


def test_defaults_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JEEVES_ENV", "staging")
    monkeypatch.setenv("JEEVES_ETCD_ENDPOINTS", "10.0.0.1:2379")
    args = build_parser().parse_args(["actions", "list"])
    assert (args.env, args.etcd, args.output) == ("staging", "10.0.0.1:2379", "table")


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["flags"],
        ["flags", "rollout", "beta"],
        ["flags", "rollout", "beta", "lots"],
        ["flags", "set", "beta", "--on", "--off"],
        ["actions", "put", "echo"],
        ["-o", "yaml", "flags", "list"],
    ],
)
def test_usage_errors_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        build_parser().parse_args(argv)
    assert raised.value.code == 2


def test_render_table_aligns_columns() -> None:
    text = render_table(["flag", "percent"], [["beta", 25], ["a-longer-name", 5]])
    assert text.splitlines() == [
        "FLAG           PERCENT",
        "beta           25",
        "a-longer-name  5",
    ]


def test_flag_set_keeps_unspecified_fields() -> None:
    current = FlagSpec(enabled=True, percent=10, allow=frozenset({"U1"}))
    args = build_parser().parse_args(["flags", "set", "beta", "--percent", "30"])
    assert updated_flag(current, args) == FlagSpec(True, 30, frozenset({"U1"}))
    args = build_parser().parse_args(["flags", "set", "beta", "--off", "--allow"])
    assert updated_flag(current, args) == FlagSpec(False, 10, frozenset())
    args = build_parser().parse_args(["flags", "set", "new", "--allow", "U9"])
    assert updated_flag(None, args) == FlagSpec(False, 100, frozenset({"U9"}))


def test_flag_set_refuses_a_bad_percentage() -> None:
    args = build_parser().parse_args(["flags", "set", "beta", "--percent", "140"])
    with pytest.raises(CliError) as raised:
        updated_flag(None, args)
    assert raised.value.status == MALFORMED


def test_config_put_validates_actions_and_flags_only() -> None:
    validate_config_value("services/poster/url", "anything")
    validate_config_value("flags/beta", '{"enabled": false}')
    for key, value in [("flags/beta", "{"), ("actions/echo", '{"keywords": ["e"]}')]:
        with pytest.raises(CliError, match="malformed"):
            validate_config_value(key, value)


def test_a_malformed_stored_flag_is_listed_as_invalid() -> None:
    data, row = flag_row("beta", b"{nope")
    assert "error" in data
    assert row[1] == "INVALID"


def test_keys_are_relative_to_the_env_unless_absolute() -> None:
    ctx = Context(etcd="x:1", env="dev", output="table", out=None)  # type: ignore[arg-type]
    assert ctx.key("flags/beta") == "/jeeves/dev/flags/beta"
    assert ctx.key("/other/key") == "/other/key"
