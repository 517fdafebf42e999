"""Feature flag parsing and the decision rule (allow-list, kill switch, percent rollout).

Pure functions and in-memory objects; nothing is faked and nothing runs in the background.
"""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from jeeves.kit.flags import FeatureFlags, FlagSpec, decide

pytestmark = pytest.mark.unit
USERS = [f"U{n:07d}" for n in range(10_000)]


def test_parses_a_full_flag_and_round_trips() -> None:
    spec = FlagSpec.from_json("new-help", '{"enabled": true, "percent": 25, "allow": ["U1"]}')
    assert spec == FlagSpec(enabled=True, percent=25.0, allow=frozenset({"U1"}))
    assert FlagSpec.from_json("new-help", spec.to_json()) == spec


def test_percent_defaults_to_everyone() -> None:
    assert FlagSpec.from_json("f", '{"enabled": true}').percent == 100.0


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        ("{not json", "Expecting"),
        ("[1, 2]", "JSON object"),
        ('{"percent": 5}', "'enabled'"),
        ('{"enabled": "yes"}', "'enabled'"),
        (
            '{"enabled": true, "percent": 101}',
            "'percent' input should be less than or equal to 100",
        ),
        ('{"enabled": true, "percent": "10"}', "'percent'"),
        ('{"enabled": true, "percent": true}', "'percent'"),
        ('{"enabled": true, "allow": "U1"}', "'allow'"),
        ('{"enabled": true, "allow": [""]}', "'allow.0'"),
    ],
)
def test_malformed_flags_are_refused_with_a_reason(raw: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        FlagSpec.from_json("f", raw)


def test_the_rule() -> None:
    half = FlagSpec(enabled=True, percent=0, allow=frozenset({"UALLOWED"}))
    assert decide("f", None, "U1").reason == "unknown"
    assert decide("f", None, "U1", default=True).enabled
    assert decide("f", FlagSpec(enabled=False, allow=frozenset({"U1"})), "U1").reason == "disabled"
    assert decide("f", half, "UALLOWED").reason == "allow"
    assert decide("f", half, "U1").reason == "outside"
    assert decide("f", FlagSpec(enabled=True), "U1").reason == "rollout"


def test_a_quarter_rollout_enables_a_quarter_of_ten_thousand_users() -> None:
    spec = FlagSpec(enabled=True, percent=25)
    share = sum(decide("beta", spec, user).enabled for user in USERS) / len(USERS)
    assert 0.235 <= share <= 0.265


def test_raising_the_percentage_only_adds_users() -> None:
    at = {p: {u for u in USERS if decide("beta", FlagSpec(True, p), u).enabled} for p in (5, 25)}
    assert at[5] <= at[25]


def test_flags_split_users_independently() -> None:
    spec = FlagSpec(enabled=True, percent=50)
    a = {u for u in USERS if decide("a", spec, u).enabled}
    b = {u for u in USERS if decide("b", spec, u).enabled}
    assert 0.22 <= len(a & b) / len(USERS) <= 0.28


def test_decisions_are_counted_by_flag_and_variant() -> None:
    registry = CollectorRegistry()
    flags = FeatureFlags(lambda: {"f": FlagSpec(enabled=False)}, registry)
    assert not flags.is_enabled("f", "U1")
    assert flags.is_enabled("g", "U1", default=True)
    labels = {"flag": "f", "variant": "off"}
    assert registry.get_sample_value("jeeves_flag_decisions_total", labels) == 1
    labels = {"flag": "g", "variant": "on"}
    assert registry.get_sample_value("jeeves_flag_decisions_total", labels) == 1
