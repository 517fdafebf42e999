"""Tests of the semantic validation in `claims`: keyword and name ownership (oldest wins) and
name rules. Pure; the index is a plain dict standing in for kopf's in-memory index.
"""

from __future__ import annotations

import pytest
from operator_samples import ref_for, sample_spec

from jeeves_operator.claims import Claim, claim_keys, claim_of, find_problem

pytestmark = pytest.mark.unit


def _index(*refs_and_specs: tuple[object, object]) -> dict[str, list[Claim]]:
    index: dict[str, list[Claim]] = {}
    for ref, spec in refs_and_specs:
        for key in claim_keys(spec, ref):  # type: ignore[arg-type]
            index.setdefault(key, []).append(claim_of(ref))  # type: ignore[arg-type]
    return index


def test_no_rival_no_problem() -> None:
    spec, ref = sample_spec("weather"), ref_for("weather")
    assert find_problem(spec, ref, _index((ref, spec))) is None


def test_younger_action_loses_the_keyword() -> None:
    old, old_spec = ref_for("weather", created="2026-01-01T00:00:00Z"), sample_spec("weather")
    new = ref_for("weather2", created="2026-01-02T00:00:00Z")
    new_spec = sample_spec("echo") | {"keywords": ["echo", "forecast"]}
    index = _index((old, old_spec), (new, new_spec))
    problem = find_problem(new_spec, new, index)
    assert problem is not None
    assert problem.reason == "KeywordConflict"
    assert "'forecast'" in problem.message
    assert "default/weather" in problem.message
    assert find_problem(old_spec, old, index) is None


def test_same_name_in_two_namespaces_conflicts() -> None:
    spec = sample_spec("echo")
    first, second = ref_for("echo", "a"), ref_for("echo", "b")
    index = _index((first, spec), (second, spec | {"keywords": ["other"]}))
    problem = find_problem(spec | {"keywords": ["other"]}, second, index)
    assert problem is not None
    assert problem.reason == "NameConflict"


@pytest.mark.parametrize("name", ["9lives", "has.dot", "x" * 50])
def test_names_that_cannot_name_a_service_are_rejected(name: str) -> None:
    spec, ref = sample_spec("echo"), ref_for(name)
    problem = find_problem(spec, ref, {})
    assert problem is not None
    assert problem.reason == "InvalidName"


def _with_secret(secret: str) -> dict[str, object]:
    spec = dict(sample_spec("weather"))
    spec["env"] = [
        {"name": "API_KEY", "valueFrom": {"secretKeyRef": {"name": secret, "key": "key"}}}
    ]
    return spec


def test_a_secret_outside_the_allow_list_is_refused() -> None:
    """Whoever may create a JeevesAction in a namespace must not read that namespace's other
    Secrets through the operator (the Pod it creates would carry them)."""
    ref = ref_for("weather", namespace="team-a")
    spec = _with_secret("jeeves-tokens-keys")
    problem = find_problem(spec, ref, {}, allowed_secrets=frozenset())  # type: ignore[arg-type]
    assert problem is not None
    assert problem.reason == "SecretNotAllowed"
    assert "jeeves-tokens-keys" in problem.message
    assert "JEEVES_ACTION_SECRETS" in problem.message


def test_allowed_secrets_by_name_or_namespace_and_the_actions_own() -> None:
    ref = ref_for("weather", namespace="team-a")
    allowed = frozenset({"weather-api", "team-a/shared-key"})
    for secret in ("weather-api", "shared-key", "jeeves-weather-auth"):
        spec = _with_secret(secret)
        assert find_problem(spec, ref, {}, allowed_secrets=allowed) is None, secret  # type: ignore[arg-type]
    other_namespace = ref_for("weather", namespace="team-b")
    spec = _with_secret("shared-key")
    assert find_problem(spec, other_namespace, {}, allowed_secrets=allowed) is not None  # type: ignore[arg-type]


def test_command_phrases_are_claimed_like_keywords() -> None:
    weather, weather_spec = ref_for("weather"), sample_spec("weather")
    assert "keyword:stop weather alerts" in claim_keys(weather_spec, weather)
    rival = ref_for("alerts", created="2026-02-01T00:00:00Z")
    rival_spec = sample_spec("echo") | {
        "keywords": ["alerts"],
        "commands": [{"format": "stop weather alerts"}],
    }
    problem = find_problem(rival_spec, rival, _index((weather, weather_spec), (rival, rival_spec)))
    assert problem is not None
    assert problem.reason == "KeywordConflict"
    assert problem.message == (
        "phrase 'stop weather alerts' is already claimed by JeevesAction default/weather"
    )


def test_a_keyword_of_several_words_is_claimed_and_named_a_keyword() -> None:
    strava, strava_spec = ref_for("strava"), sample_spec("strava")
    assert "keyword:login strava" in claim_keys(strava_spec, strava)
    rival = ref_for("runner", created="2026-02-01T00:00:00Z")
    rival_spec = sample_spec("echo") | {"keywords": ["login strava"]}
    problem = find_problem(rival_spec, rival, _index((strava, strava_spec), (rival, rival_spec)))
    assert problem is not None
    assert problem.message == (
        "keyword 'login strava' is already claimed by JeevesAction default/strava"
    )


@pytest.mark.parametrize(
    ("change", "reason", "message"),
    [
        (
            {
                "commands": [
                    {
                        "format": "deploy {env=qa}",
                        "params": [{"name": "env", "type": "enum", "choices": ["staging", "prod"]}],
                    }
                ]
            },
            "InvalidCommands",
            "spec.commands[0].format: default `qa` of `env`: `env` must be one of staging, prod",
        ),
        (
            {"policy": {"approvers": {"users": []}}},
            "InvalidPolicy",
            "spec.policy.approvers: names nobody, so no run could ever be approved",
        ),
        (
            {"scheduleTimezone": "Lisbon"},
            "InvalidSchedule",
            "spec.scheduleTimezone: `Lisbon` is not a time zone: use an IANA name like "
            "Europe/Lisbon",
        ),
        (
            {"scheduleChannel": None},
            "InvalidSchedule",
            "spec.scheduleChannel: a schedule needs the Slack channel id it posts to "
            "(like C0123ABCD)",
        ),
        (
            {"scheduleText": "weather every day at noon"},
            "InvalidSchedule",
            "spec.scheduleText: `weather every day at noon` is not a valid call: `time` must be "
            "a time of day like 7:30, 19:05 or 7:30pm",
        ),
    ],
)
def test_a_broken_declaration_is_refused_with_the_field_named(
    change: dict[str, object], reason: str, message: str
) -> None:
    spec, ref = sample_spec("weather") | change, ref_for("weather")  # type: ignore[operator]
    problem = find_problem(spec, ref, _index((ref, spec)))
    assert problem is not None
    assert (problem.reason, problem.message) == (reason, message)


def test_every_sample_declaration_is_valid() -> None:
    for name in ("weather", "memory", "echo", "deploy"):
        spec, ref = sample_spec(name), ref_for(name)
        assert find_problem(spec, ref, _index((ref, spec))) is None, name
