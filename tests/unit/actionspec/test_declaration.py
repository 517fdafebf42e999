"""A JeevesAction's commands, policy and schedule read as the operator sees them (the CRD spec)
and as the dispatcher does (the registry entry the operator writes): one set of rules, paths
named in the form the reader wrote. Pure functions; nothing is faked.
"""

from __future__ import annotations

from typing import Any

import pytest

from jeeves_actionspec import SpecError
from jeeves_actionspec.declaration import from_registry, from_resource, registry_fields

pytestmark = pytest.mark.unit

SPEC: dict[str, Any] = {
    "keywords": ["deploy"],
    "image": "deployer:1",
    "commands": [
        {
            "format": "deploy {service} to {env=staging}",
            "params": [{"name": "env", "type": "enum", "choices": ["staging", "prod"]}],
        }
    ],
    "policy": {"sideEffects": True, "allow": {"userGroups": ["S0OPS"]}, "confirm": True},
    "schedule": "0 6 * * 1-5",
    "scheduleTimezone": "Europe/Lisbon",
    "scheduleChannel": "C0DEPLOYS",
    "scheduleText": "deploy nightly-report to prod",
}


def test_the_registry_entry_carries_what_the_resource_declared() -> None:
    fields = registry_fields(SPEC)
    assert fields["schedule"] == {
        "cron": "0 6 * * 1-5",
        "timezone": "Europe/Lisbon",
        "channel": "C0DEPLOYS",
        "text": "deploy nightly-report to prod",
    }
    assert fields["commands"] == SPEC["commands"]
    assert from_registry(fields, ("deploy",)) == from_resource(SPEC)


def test_a_plain_action_declares_nothing() -> None:
    spec = {"keywords": ["echo"], "image": "echo:1"}
    assert registry_fields(spec) == {}
    declaration = from_resource(spec)
    assert declaration.commands == ()
    assert declaration.schedule is None
    assert declaration.policy.open_to_all


def test_errors_name_the_resource_field() -> None:
    with pytest.raises(SpecError) as caught:
        from_resource({**SPEC, "scheduleTimezone": "Lisbon"})
    assert caught.value.path == "spec.scheduleTimezone"
    with pytest.raises(SpecError) as caught:
        from_resource({**SPEC, "policy": {"allow": {"users": ["bob"]}}})
    assert caught.value.path == "spec.policy.allow.users[0]"
    with pytest.raises(SpecError) as caught:
        from_resource({**SPEC, "commands": [{"format": "deploy {x=}"}]})
    assert caught.value.path == "spec.commands[0].format"


def test_a_schedule_text_must_be_a_valid_call() -> None:
    with pytest.raises(SpecError) as caught:
        from_resource({**SPEC, "scheduleText": "deploy report to qa"})
    assert caught.value.path == "spec.scheduleText"
    assert caught.value.message == (
        "`deploy report to qa` is not a valid call: `env` must be one of staging, prod"
    )


def test_the_default_schedule_text_is_the_first_keyword() -> None:
    spec = {**SPEC, "scheduleText": None}
    with pytest.raises(SpecError, match="`service` is missing"):
        from_resource(spec)  # "deploy" alone is not a valid call of `deploy {service}`


def test_a_schedule_needs_its_channel() -> None:
    with pytest.raises(SpecError) as caught:
        from_resource({**SPEC, "scheduleChannel": None})
    assert caught.value.path == "spec.scheduleChannel"


def test_the_registry_form_names_its_own_fields() -> None:
    with pytest.raises(SpecError) as caught:
        from_registry({"schedule": {"cron": "bad", "channel": "C0X1"}})
    assert caught.value.path == "schedule.cron"
