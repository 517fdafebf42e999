"""Policy decisions: who may run an action where, deny by default for side effects, who may
approve. Pure functions of `jeeves_actionspec.policy`; nothing is faked.
"""

from __future__ import annotations

from typing import Any

import pytest

from jeeves_actionspec import SpecError
from jeeves_actionspec.policy import (
    Allowed,
    Denied,
    decide,
    describe,
    may_approve,
    parse_policy,
)

pytestmark = pytest.mark.unit

ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"
OPS, LEADS = "S0OPS", "S0LEADS"
GENERAL, DEPLOYS = "C0GENERAL", "C0DEPLOYS"


def verdict(
    raw: dict[str, Any] | None,
    user: str,
    channel: str = GENERAL,
    groups: frozenset[str] = frozenset(),
) -> Allowed | Denied:
    return decide(parse_policy(raw), "deploy", user, channel, groups)


def test_read_only_actions_are_open_to_everyone_by_default() -> None:
    assert verdict(None, ALICE) == Allowed()
    assert verdict({}, ALICE) == Allowed()
    assert parse_policy(None).open_to_all


def test_side_effects_are_denied_until_someone_is_allowed() -> None:
    denied = verdict({"sideEffects": True}, ALICE)
    assert isinstance(denied, Denied)
    assert denied.code == "side_effects"
    assert "nobody may run it" in denied.text
    assert verdict({"sideEffects": True, "allow": {"users": [ALICE]}}, ALICE) == Allowed()
    assert isinstance(verdict({"sideEffects": True, "allow": {}}, ALICE), Denied)


def test_users_and_groups_say_who() -> None:
    policy = {"allow": {"users": [ALICE], "userGroups": [OPS]}}
    assert verdict(policy, ALICE) == Allowed()
    assert verdict(policy, BOB, groups=frozenset({OPS})) == Allowed()
    denied = verdict(policy, BOB)
    assert isinstance(denied, Denied)
    assert denied.code == "user"
    assert denied.text == (
        f"Sorry, you are not allowed to run `deploy`. It is for <@{ALICE}>, <!subteam^{OPS}>."
    )


def test_channels_say_where_and_both_must_hold() -> None:
    where = {"allow": {"channels": [DEPLOYS]}}
    assert verdict(where, BOB, DEPLOYS) == Allowed()
    denied = verdict(where, BOB, GENERAL)
    assert isinstance(denied, Denied)
    assert denied.code == "channel"
    assert denied.text == f"`deploy` can only be run in <#{DEPLOYS}>."
    both = {"allow": {"users": [ALICE], "channels": [DEPLOYS]}}
    assert verdict(both, ALICE, DEPLOYS) == Allowed()
    assert isinstance(verdict(both, ALICE, GENERAL), Denied)
    assert isinstance(verdict(both, BOB, DEPLOYS), Denied)


def test_confirm_and_approval_are_steps_of_an_allowed_run() -> None:
    policy = {"confirm": True, "approvers": {"userGroups": [LEADS]}}
    assert verdict(policy, ALICE) == Allowed(confirm=True, approval=True)


def test_approval_needs_a_second_listed_person() -> None:
    policy = parse_policy({"approvers": {"users": [BOB], "userGroups": [LEADS]}})
    assert may_approve(policy, "deploy", BOB, ALICE, frozenset()) is None
    assert may_approve(policy, "deploy", CAROL, ALICE, frozenset({LEADS})) is None
    assert may_approve(policy, "deploy", CAROL, ALICE, frozenset()) == (
        f"Only <@{BOB}>, <!subteam^{LEADS}> may approve `deploy`."
    )
    assert may_approve(policy, "deploy", BOB, BOB, frozenset()) == (
        "You asked for this `deploy` run, so someone else has to approve it."
    )


def test_groups_to_resolve_are_those_the_policy_names() -> None:
    policy = parse_policy({"allow": {"userGroups": [OPS]}, "approvers": {"userGroups": [LEADS]}})
    assert policy.groups == {OPS, LEADS}


def test_help_describes_the_policy() -> None:
    assert describe(parse_policy(None)) == ""
    assert describe(parse_policy({"sideEffects": True})) == "not enabled for anyone yet"
    assert describe(
        parse_policy(
            {
                "allow": {"users": [ALICE], "channels": [DEPLOYS]},
                "confirm": True,
                "approvers": {"users": [BOB]},
            }
        )
    ) == (f"for <@{ALICE}>; in <#{DEPLOYS}>; asks you to confirm; needs approval by <@{BOB}>")


@pytest.mark.parametrize(
    ("raw", "path", "message"),
    [
        (
            {"allow": {"users": ["alice"]}},
            "policy.allow.users[0]",
            "must be a Slack user id like U0123ABCD",
        ),
        (
            {"allow": {"userGroups": ["U0X"]}},
            "policy.allow.userGroups[0]",
            "must be a Slack user group id like S0123ABCD",
        ),
        (
            {"allow": {"channels": ["#general"]}},
            "policy.allow.channels[0]",
            "must be a Slack channel id like C0123ABCD",
        ),
        ({"approvers": {}}, "policy.approvers", "names nobody, so no run could ever be approved"),
        (
            {"approvers": {"channels": [GENERAL]}},
            "policy.approvers.channels",
            "approvers are people: name users or userGroups",
        ),
        (
            {"confirmTimeoutSeconds": 5},
            "policy.confirmTimeoutSeconds",
            "must be a whole number of seconds from 10 to 3600",
        ),
        ({"confirm": "yes"}, "policy.confirm", "must be true or false"),
    ],
)
def test_bad_policies_are_named(raw: dict[str, Any], path: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_policy(raw)
    assert (caught.value.path, caught.value.message) == (path, message)
