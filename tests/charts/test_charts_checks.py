"""The consistency checks catch real chart bugs: a copy of charts/jeeves with one mistake each
(a wrong Service port, a hook Secret created after the Job that needs it, a container port
that is not where the service listens, a missing Secret) is rendered and reported.

Real: Helm's engine renders the broken copies; chart_checks.py judges. Nothing is faked.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from chart_checks import (
    reference_problems,
    security_problems,
    service_problems,
    wiring_problems,
)
from chart_scenarios import DEFAULT

from support.helm import CHARTS, merge, render

pytestmark = pytest.mark.charts


def broken_chart(tmp_path: Path, template: str, old: str, new: str) -> Path:
    chart = tmp_path / "jeeves"
    shutil.copytree(CHARTS / "jeeves", chart)
    path = chart / "templates" / template
    text = path.read_text()
    assert old in text, f"{template} no longer contains {old!r}: update this test"
    path.write_text(text.replace(old, new, 1))
    return chart


def test_a_wrong_service_port_is_caught(tmp_path: Path) -> None:
    chart = broken_chart(tmp_path, "service.yaml", "targetPort: http", "targetPort: 8081")
    found = service_problems(render(chart, DEFAULT))
    assert (
        "Service jeeves-gateway port http targets 8081, which no container of "
        "Deployment jeeves-gateway exposes" in found
    )
    assert len(found) == 5  # every platform Service


def test_a_service_selecting_nothing_is_caught(tmp_path: Path) -> None:
    chart = broken_chart(
        tmp_path,
        "service.yaml",
        'include "jeeves.selectorLabels" (list $ $name)',
        'include "jeeves.selectorLabels" (list $ "gatewayx")',
    )
    assert "Service jeeves-gateway selects 0 workloads []" in service_problems(
        render(chart, DEFAULT)
    )


def test_a_hook_secret_created_after_its_job_is_caught(tmp_path: Path) -> None:
    chart = broken_chart(
        tmp_path, "secret-database.yaml", 'hook-weight: "-10"', 'hook-weight: "10"'
    )
    found = reference_problems(render(chart, DEFAULT), {})
    assert (
        "Job jeeves-gateway-migrate uses Secret jeeves-migrate-database, which does not exist "
        "before pre-install hooks run"
    ) in found


def test_a_bind_port_other_than_the_container_port_is_caught(tmp_path: Path) -> None:
    chart = broken_chart(
        tmp_path, "deployment.yaml", "containerPort: {{ include", "containerPort: 9{{ include"
    )
    found = wiring_problems(render(chart, DEFAULT))
    assert any("JEEVES_BIND 0.0.0.0:8080 but http port [98080]" in line for line in found)


def test_a_missing_secret_and_a_writable_root_are_caught() -> None:
    rendering = render("jeeves", merge(DEFAULT, {"slack": {"existingSecret": "nowhere"}}))
    assert (
        "Deployment jeeves-gateway uses Secret nowhere, which does not exist"
        in reference_problems(rendering, {})
    )
    assert reference_problems(rendering, {"nowhere": ("signing-secret", "bot-token")}) == []
    assert reference_problems(rendering, {"nowhere": ("signing-secret",)}) == [
        "Deployment jeeves-poster uses key bot-token of Secret nowhere, not provided"
    ]
    gateway = rendering.find("Deployment", "jeeves-gateway")
    gateway["spec"]["template"]["spec"]["containers"][0]["securityContext"][
        "readOnlyRootFilesystem"
    ] = False
    assert (
        "Deployment jeeves-gateway container gateway: readOnlyRootFilesystem is not True"
        in security_problems(rendering)
    )
