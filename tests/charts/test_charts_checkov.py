"""checkov, a static security scanner, over the rendered manifests of both charts.

Real: Helm's engine renders every scenario (and the operator chart, cluster-wide and
namespaced) into files; scripts/tools/checkov.sh (checkov in its own cached venv) scans them
offline. The checks skipped, each with its reason, are in checkov-skips.yaml.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from chart_scenarios import OPERATOR, SCENARIOS, Render

from support.helm import REPO

pytestmark = pytest.mark.charts

SKIPS = Path(__file__).with_name("checkov-skips.yaml")


def checkov(directory: Path, skips: dict[str, str]) -> list[dict[str, Any]]:
    """The failed checks of a checkov run over `directory` (offline, no guideline download)."""
    command = [
        str(REPO / "scripts" / "tools" / "checkov.sh"),
        "--directory", str(directory),
        "--framework", "kubernetes",
        "--skip-download",
        "--quiet",
        "--compact",
        "--output", "json",
    ]  # fmt: skip
    if skips:
        command += ["--skip-check", ",".join(sorted(skips))]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode not in (0, 1) or not done.stdout.strip().startswith(("{", "[")):
        raise RuntimeError(f"checkov did not run: {done.stderr.strip()[-800:]}")
    reports = json.loads(done.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed: list[dict[str, Any]] = []
    for report in reports:
        results = report.get("results", {})
        failed += results.get("failed_checks", [])
    return failed


def write_renderings(rendered: Render, directory: Path) -> int:
    count = 0
    for name, values in SCENARIOS.items():
        (directory / f"jeeves-{name}.yaml").write_text(rendered("jeeves", values).yaml())
        count += 1
    for namespaces in ([], ["team-a"]):
        operator = rendered("jeeves-operator", {**OPERATOR, "watchNamespaces": namespaces})
        (directory / f"operator-{len(namespaces)}.yaml").write_text(operator.yaml())
        count += 1
    return count


def test_checkov_finds_nothing_beyond_the_justified_skips(rendered: Render, tmp_path: Path) -> None:
    """One scan (checkov takes long to start) over every rendering plus a broken copy of the
    gateway (privileged, root): the copy proves the scan can fail, the rest must pass."""
    skips: dict[str, str] = yaml.safe_load(SKIPS.read_text())
    assert all(len(reason) > 20 for reason in skips.values()), "every skip needs its reason"
    assert write_renderings(rendered, tmp_path) == len(SCENARIOS) + 2
    gateway = rendered("jeeves", SCENARIOS["default"]).find("Deployment", "jeeves-gateway")
    broken = yaml.safe_load(yaml.safe_dump(gateway))
    broken["metadata"]["name"] = "broken-gateway"
    spec = broken["spec"]["template"]["spec"]
    spec["securityContext"] = {}
    spec["containers"][0]["securityContext"] = {"privileged": True}
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(broken))
    failed = checkov(tmp_path, skips)
    caught = {f["check_id"] for f in failed if "broken-gateway" in f["resource"]}
    assert {"CKV_K8S_16", "CKV_K8S_20", "CKV_K8S_22"} <= caught  # privileged, escalation, ro root
    rest = [f for f in failed if "broken-gateway" not in f["resource"]]
    assert [f"{f['check_id']} {f['resource']}: {f['check_name']}" for f in rest] == []
