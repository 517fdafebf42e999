"""The built manifests, the CRDs and the RBAC checked against Kubernetes' published OpenAPI
schemas (kubernetes-validate, strict: unknown fields fail) for the oldest and newest versions the
package ships (the 1.20 API server of the real tier checks them in tests/k8s/apiserver).
Offline; nothing is faked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml
from operator_samples import ref_for, sample_spec

from jeeves_operator import builders
from jeeves_operator.settings import OperatorSettings

pytestmark = pytest.mark.unit

MANIFESTS = Path(__file__).parents[3] / "manifests"
VERSIONS = ["1.25.0", kubernetes_validate.latest_version()]  # 1.25: the oldest it ships


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("sample", ["weather", "memory", "echo", "deploy"])
def test_built_objects_are_valid_kubernetes(
    sample: str, version: str, settings: OperatorSettings
) -> None:
    for manifest in builders.build_manifests(sample_spec(sample), ref_for(sample), settings):
        kubernetes_validate.validate(manifest, version, strict=True)


def _documents(folder: str) -> list[dict[str, Any]]:
    return [
        doc
        for path in sorted((MANIFESTS / folder).glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc and doc["apiVersion"] != "kopf.dev/v1"  # the peering object is a custom kind
    ]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("folder", ["crds", "rbac"])
def test_manifests_are_valid_kubernetes(folder: str, version: str) -> None:
    for document in _documents(folder):
        kubernetes_validate.validate(document, version, strict=True)
