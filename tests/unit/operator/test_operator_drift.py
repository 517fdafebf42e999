"""Tests of `builders.drifted`, the comparison behind drift correction: server-added defaults do
not count as drift; changed, missing or extra managed values do. Pure; nothing faked.
"""

from __future__ import annotations

import copy

import pytest
from operator_samples import ref_for, sample_spec

from jeeves_operator import builders
from jeeves_operator.settings import OperatorSettings

pytestmark = pytest.mark.unit


@pytest.fixture(name="desired")
def fixture_desired(settings: OperatorSettings) -> dict[str, object]:
    return builders.build_deployment(sample_spec("weather"), ref_for("weather"), settings)


def test_identical_is_not_drift(desired: dict[str, object]) -> None:
    assert not builders.drifted(desired, copy.deepcopy(desired))


def test_server_defaults_are_not_drift(desired: dict[str, object]) -> None:
    live = copy.deepcopy(desired)
    live["status"] = {"readyReplicas": 1}
    live["spec"]["progressDeadlineSeconds"] = 600  # type: ignore[index]
    live["spec"]["template"]["spec"]["containers"][0]["terminationMessagePath"] = "/dev/x"  # type: ignore[index]
    assert not builders.drifted(desired, live)


def test_scaled_by_hand_is_drift(desired: dict[str, object]) -> None:
    live = copy.deepcopy(desired)
    live["spec"]["replicas"] = 5  # type: ignore[index]
    assert builders.drifted(desired, live)


def test_removed_container_env_is_drift(desired: dict[str, object]) -> None:
    live = copy.deepcopy(desired)
    live["spec"]["template"]["spec"]["containers"][0]["env"].pop()  # type: ignore[index]
    assert builders.drifted(desired, live)


def test_numbers_and_strings_compare_by_value() -> None:
    assert not builders.drifted({"cpu": 1}, {"cpu": "1"})
    assert builders.drifted({"ready": True}, {"ready": "true"})
