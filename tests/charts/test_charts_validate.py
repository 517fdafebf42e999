"""Rendered manifests against Kubernetes' own schemas, strict, for 1.20 (the test cluster) and a
current version; JeevesActions against the CRD's schema; `helm lint --strict` of both charts.

Real: Helm's engine renders and lints (helm-python-sdk); kubernetes-validate's schemas (1.20's
fetched once into the cache, see chart_schemas.py) and jsonschema judge. Nothing is faked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from chart_scenarios import (
    DEFAULT,
    DISCOVERY_120,
    DISCOVERY_CURRENT,
    KUBE_120,
    KUBE_CURRENT,
    OPERATOR,
    SCENARIOS,
    Render,
)
from chart_schemas import problems

from support.helm import REPO, failures, lint, merge

pytestmark = pytest.mark.charts

VERSIONS = {KUBE_120: DISCOVERY_120, KUBE_CURRENT: DISCOVERY_CURRENT}
CRD = REPO / "manifests" / "crds" / "jeevesactions.yaml"


def crd_schema() -> dict[str, Any]:
    crd = yaml.safe_load(CRD.read_text())
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def custom(obj: dict[str, Any]) -> bool:
    return str(obj["apiVersion"]).startswith(("jeeves.dev/", "kopf.dev/"))


@pytest.mark.parametrize("kube", sorted(VERSIONS))
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_platform_manifests_are_valid_kubernetes(
    rendered: Render, scenario: str, kube: str
) -> None:
    """As `helm install` renders against that cluster (its API versions discovered)."""
    rendering = rendered(
        "jeeves", SCENARIOS[scenario], kube_version=kube, api_versions=VERSIONS[kube]
    )
    found = [p for o in rendering.objects if not custom(o) for p in problems(o, kube)]
    assert found == []
    validator = jsonschema.Draft7Validator(crd_schema())
    for action in rendering.of_kind("JeevesAction"):
        errors = [e.message for e in validator.iter_errors(action)]
        assert errors == [], f"JeevesAction {action['metadata']['name']}: {errors}"


@pytest.mark.parametrize("kube", sorted(VERSIONS))
@pytest.mark.parametrize("namespaces", [[], ["team-a", "team-b"]])
def test_operator_manifests_are_valid_kubernetes(
    rendered: Render, kube: str, namespaces: list[str]
) -> None:
    rendering = rendered(
        "jeeves-operator", {**OPERATOR, "watchNamespaces": namespaces}, kube_version=kube
    )
    found = [p for o in rendering.objects if not custom(o) for p in problems(o, kube)]
    assert found == []
    crds = [
        crd
        for path in sorted((REPO / "manifests" / "crds").glob("*.yaml"))
        for crd in yaml.safe_load_all(path.read_text())
    ]
    assert len(crds) == 3
    assert [p for crd in crds for p in problems(crd, kube)] == []


def test_the_validator_catches_what_a_cluster_would_refuse(rendered: Render) -> None:
    """The check can fail: an API version 1.20 does not serve, a misspelt field, a bad type."""
    current = rendered("jeeves", DEFAULT, kube_version=KUBE_CURRENT)
    budget = current.find("PodDisruptionBudget", "jeeves-gateway")
    assert problems(budget, KUBE_120) == [
        "PodDisruptionBudget jeeves-gateway (policy/v1): not served by this Kubernetes version "
        "(no schema poddisruptionbudget-policy-v1.json)"
    ]
    old = rendered("jeeves", DEFAULT, kube_version=KUBE_120)
    assert problems(old.find("PodDisruptionBudget", "jeeves-gateway"), KUBE_CURRENT) != []
    deployment = yaml.safe_load(yaml.safe_dump(old.find("Deployment", "jeeves-gateway")))
    deployment["spec"]["replica"] = 2
    deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "8080"
    for kube in VERSIONS:
        assert problems(deployment, kube), kube


@pytest.mark.parametrize("kube", [KUBE_120, KUBE_CURRENT])
@pytest.mark.parametrize(
    ("chart", "values"),
    [("jeeves", {}), ("jeeves", SCENARIOS["emulators-on"]), ("jeeves-operator", OPERATOR)],
)
def test_helm_lint_strict_is_clean(chart: str, values: dict[str, Any], kube: str) -> None:
    found = lint(chart, values, strict=True, kube_version=kube)
    assert failures(found) == []
    assert all(m.severity == "INFO" and "icon is recommended" in m.text for m in found)


def test_helm_lint_reports_a_broken_chart(tmp_path: Path) -> None:
    """Lint can fail: a template that does not parse."""
    import shutil

    from support.helm import CHARTS

    broken = tmp_path / "jeeves"
    shutil.copytree(CHARTS / "jeeves", broken)
    (broken / "templates" / "service.yaml").write_text("{{- if }}\n")
    assert [m for m in failures(lint(broken, merge(DEFAULT, {}))) if "service.yaml" in m.text]
