"""Helpers for the operator's unit tests: sample specs (from manifests/samples, with the CRD's
defaults), identities, and golden-file comparison. Nothing runs; nothing is faked.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from jeeves_operator.models import ActionRef, ActionSpec

GOLDEN = Path(__file__).parent / "golden"
SAMPLES = Path(__file__).parents[3] / "manifests" / "samples"


def sample_spec(name: str) -> ActionSpec:
    """A sample's spec with the CRD's defaults filled in (as the API server would)."""
    document: dict[str, Any] = yaml.safe_load((SAMPLES / f"{name}.yaml").read_text())
    spec: ActionSpec = {"replicas": 1, "port": 8080, "timeoutSeconds": 10, "enabled": True}
    spec.update(document["spec"])
    return spec


def ref_for(
    name: str, namespace: str = "default", created: str = "2026-01-01T00:00:00Z"
) -> ActionRef:
    return ActionRef(
        name=name, namespace=namespace, uid=f"uid-{namespace}-{name}", generation=3, created=created
    )


def assert_golden(name: str, data: object) -> None:
    """Compare `data` with golden/<name>.yaml; JEEVES_UPDATE_GOLDEN=1 rewrites the file."""
    path = GOLDEN / f"{name}.yaml"
    rendered = yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
    if os.environ.get("JEEVES_UPDATE_GOLDEN") == "1" or not path.exists():
        path.write_text(rendered)
    assert rendered == path.read_text(), f"{path} differs; rerun with JEEVES_UPDATE_GOLDEN=1"
