"""Golden-file tests of the pure builders: Deployment, Service, registration and status for the
sample JeevesActions. Nothing is faked because nothing is called: the builders do no I/O.
"""

from __future__ import annotations

import pytest
from operator_samples import assert_golden, ref_for, sample_spec

from jeeves_operator import builders
from jeeves_operator.models import Observation, Problem
from jeeves_operator.settings import OperatorSettings

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("sample", ["weather", "memory", "echo", "deploy"])
def test_manifests_match_golden(sample: str, settings: OperatorSettings) -> None:
    manifests = builders.build_manifests(sample_spec(sample), ref_for(sample), settings)
    assert_golden(f"{sample}-manifests", manifests)


@pytest.mark.parametrize("sample", ["weather", "memory", "echo", "deploy"])
def test_registration_matches_golden(sample: str, settings: OperatorSettings) -> None:
    registration = builders.build_registration(sample_spec(sample), ref_for(sample), settings)
    assert_golden(f"{sample}-registration", registration)


def test_url_is_service_dns_name_and_port(settings: OperatorSettings) -> None:
    spec = sample_spec("echo") | {"port": 9000}
    registration = builders.build_registration(spec, ref_for("echo", "bots"), settings)
    assert registration["url"] == "http://jeeves-echo.bots.svc:9000"


def test_canary_gets_its_own_deployment_service_and_entry(settings: OperatorSettings) -> None:
    spec, ref = sample_spec("memory"), ref_for("memory")
    names = [m["metadata"]["name"] for m in builders.build_manifests(spec, ref, settings)]
    assert names == ["jeeves-memory", "jeeves-memory-canary"] * 2
    canary = builders.build_registration(spec, ref, settings).get("canary")
    assert canary == {"url": "http://jeeves-memory-canary.default.svc:8080", "percent": 10}


def test_selectors_use_name_and_instance_only(settings: OperatorSettings) -> None:
    deployment = builders.build_deployment(sample_spec("weather"), ref_for("weather"), settings)
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert set(selector) == {"app.kubernetes.io/name", "app.kubernetes.io/instance"}
    template_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert selector.items() <= template_labels.items()


def test_stable_and_canary_selectors_do_not_overlap(settings: OperatorSettings) -> None:
    spec, ref = sample_spec("memory"), ref_for("memory")
    stable = builders.build_service(spec, ref, settings)["spec"]["selector"]
    canary = builders.build_service(spec, ref, settings, "canary")["spec"]["selector"]
    assert stable != canary


def test_platform_env_cannot_be_overridden(settings: OperatorSettings) -> None:
    spec = sample_spec("echo") | {
        "env": [{"name": "JEEVES_ENV", "value": "prod"}, {"name": "GREETING", "value": "hi"}]
    }
    env = builders.build_env(spec, ref_for("echo"), settings, "stable")
    jeeves_env = [e for e in env if e["name"] == "JEEVES_ENV"]
    assert jeeves_env == [{"name": "JEEVES_ENV", "value": "test"}]
    assert env[-1] == {"name": "GREETING", "value": "hi"}


def test_owner_reference_points_at_the_action(settings: OperatorSettings) -> None:
    service = builders.build_service(sample_spec("echo"), ref_for("echo"), settings)
    (owner,) = service["metadata"]["ownerReferences"]
    assert owner == {
        "apiVersion": "jeeves.dev/v1alpha1",
        "kind": "JeevesAction",
        "name": "echo",
        "uid": "uid-default-echo",
        "controller": True,
        "blockOwnerDeletion": True,
    }


@pytest.mark.parametrize(
    ("image", "version"),
    [
        ("jeeves-weather", "latest"),
        ("jeeves-weather:0.1.0", "0.1.0"),
        ("registry.local:5000/jeeves/weather:1.2", "1.2"),
        ("jeeves-weather@sha256:" + "ab" * 32, "abababababab"),
    ],
)
def test_image_version_label(image: str, version: str) -> None:
    assert builders.image_version(image) == version


def _observation(**overrides: object) -> Observation:
    fields: dict[str, object] = {
        "generation": 3,
        "url": "http://jeeves-echo.default.svc:8080",
        "desired_replicas": 2,
        "ready_replicas": 2,
        "registered": True,
        "registry_reason": "Registered",
        "registry_message": "registered at /jeeves/test/actions/echo",
    }
    return Observation(**(fields | overrides))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("case", "observation"),
    [
        ("ready", _observation()),
        ("rolling-out", _observation(ready_replicas=1)),
        (
            "etcd-down",
            _observation(
                registered=False,
                registry_reason="EtcdUnavailable",
                registry_message="etcd unreachable; retrying",
            ),
        ),
        (
            "conflict",
            _observation(
                problem=Problem("KeywordConflict", "keyword 'echo' taken"),
                registered=False,
                ready_replicas=0,
            ),
        ),
    ],
)
def test_status_matches_golden(case: str, observation: Observation) -> None:
    status = builders.build_status(observation, [], now="2026-01-01T00:00:00Z")
    assert_golden(f"status-{case}", status)


def test_transition_time_kept_while_status_holds() -> None:
    first = builders.build_status(_observation(), [], now="2026-01-01T00:00:00Z")
    later = builders.build_status(_observation(), first["conditions"], now="2026-01-02T00:00:00Z")
    assert [c["lastTransitionTime"] for c in later["conditions"]] == ["2026-01-01T00:00:00Z"] * 3
    flipped = builders.build_status(
        _observation(ready_replicas=0), first["conditions"], now="2026-01-03T00:00:00Z"
    )
    ready = next(c for c in flipped["conditions"] if c["type"] == "Ready")
    assert ready["lastTransitionTime"] == "2026-01-03T00:00:00Z"


def test_with_a_dealer_the_action_verifies_its_audience_and_gets_an_optional_secret() -> None:
    ref = ref_for("weather", namespace="bots")
    env = {item["name"]: item for item in builders.build_auth_env(ref, "http://tokens:8080")}
    assert env["JEEVES_AUTH_AUDIENCE"]["value"] == "weather"
    assert env["JEEVES_AUTH_CLIENT_ID"]["value"] == "weather"
    assert env["JEEVES_AUTH_CLIENT_SECRET"]["valueFrom"] == {
        "secretKeyRef": {"name": "jeeves-weather-auth", "key": "client-secret", "optional": True}
    }
