"""The Prometheus and Alertmanager configuration Jeeves generates: accepted by promtool and
amtool, committed examples in step with the code, and the Kubernetes discovery jobs keeping
exactly the platform's Services and the operator's action Pods, with the right job and track.

Real: Debian's promtool and amtool. The relabelling of discovered targets is replayed by a
small evaluator of Prometheus's keep/drop/replace rules (Debian builds Prometheus without
Kubernetes discovery, so a live cluster cannot be discovered here)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from jeeves.monitoring import scrape
from jeeves.monitoring.files import EXAMPLES_DIR, rule_files
from jeeves_operator.builders import build_deployment
from jeeves_operator.models import ActionRef
from jeeves_operator.settings import OperatorSettings

pytestmark = pytest.mark.integration


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} not found: run `make setup` (scripts/setup.d/prometheus.sh)")
    return found


def check(argv: list[str]) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_local_prometheus_and_alertmanager_configs_are_accepted(tmp_path: Path) -> None:
    targets = [scrape.Target("jeeves-echo", "127.0.0.1:1", {"track": "stable"})]
    config = scrape.local_prometheus(
        targets,
        rule_files=rule_files(),
        alertmanager="127.0.0.1:2",
        interval_s=0.5,
        self_address="127.0.0.1:3",
    )
    assert config["global"]["scrape_interval"] == "500ms"
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    check([tool("promtool"), "check", "config", str(tmp_path / "prometheus.yml")])
    alerting = scrape.alertmanager_config("http://127.0.0.1:4", token="t" * 20)
    (tmp_path / "alertmanager.yml").write_text(yaml.safe_dump(alerting))
    check([tool("amtool"), "check-config", str(tmp_path / "alertmanager.yml")])


def test_the_committed_examples_are_what_the_code_generates() -> None:
    assert (EXAMPLES_DIR / "alertmanager.yml").read_text() == scrape.render_alertmanager_example()
    assert (EXAMPLES_DIR / "prometheus-scrape-configs.yml").read_text() == (
        scrape.render_scrape_example()
    )
    check([tool("amtool"), "check-config", str(EXAMPLES_DIR / "alertmanager.yml")])


def test_the_discovery_jobs_relabelling_is_valid_prometheus_config(tmp_path: Path) -> None:
    jobs = scrape.kubernetes_scrape_configs()
    for job in jobs:  # same relabelling, on targets Debian's Prometheus can load
        del job["kubernetes_sd_configs"]
        job["static_configs"] = [{"targets": ["127.0.0.1:1"]}]
    (tmp_path / "p.yml").write_text(yaml.safe_dump({"scrape_configs": jobs}))
    check([tool("promtool"), "check", "config", str(tmp_path / "p.yml")])


def relabel(labels: dict[str, str], rules: list[dict[str, Any]]) -> dict[str, str] | None:
    """Prometheus's relabelling for keep, drop and replace (None: the target is dropped)."""
    out = dict(labels)
    for rule in rules:
        value = rule.get("separator", ";").join(out.get(n, "") for n in rule["source_labels"])
        matched = re.fullmatch(rule.get("regex", "(.*)"), value)
        action = rule.get("action", "replace")
        if action == "keep" and not matched:
            return None
        if action == "drop" and matched:
            return None
        if action == "replace" and matched:
            out[rule["target_label"]] = matched.expand(rule.get("replacement", r"\1"))
    return {k: v for k, v in out.items() if not k.startswith("__meta_")}


def meta(prefix: str, labels: dict[str, str], **extra: str) -> dict[str, str]:
    sane = {re.sub(r"[^A-Za-z0-9_]", "_", k): v for k, v in labels.items()}
    return {**{f"{prefix}{k}": v for k, v in sane.items()}, **extra}


SERVICE_LABELS = {
    "app.kubernetes.io/name": "jeeves-gateway",
    "app.kubernetes.io/component": "gateway",
    "app.kubernetes.io/part-of": "jeeves",
}


@pytest.mark.parametrize(
    ("labels", "port", "job"),
    [
        (SERVICE_LABELS, "http", "jeeves-gateway"),
        (SERVICE_LABELS, "grpc", None),
        ({**SERVICE_LABELS, "app.kubernetes.io/part-of": "other"}, "http", None),
        ({**SERVICE_LABELS, "app.kubernetes.io/component": "action"}, "http", None),
    ],
)
def test_services_of_the_platform_are_scraped_as_their_job(
    labels: dict[str, str], port: str, job: str | None
) -> None:
    services = scrape.kubernetes_scrape_configs("jeeves")[0]
    target = meta(
        "__meta_kubernetes_service_label_",
        labels,
        __meta_kubernetes_endpoint_port_name=port,
        __meta_kubernetes_service_name=labels["app.kubernetes.io/name"],
        __meta_kubernetes_namespace="jeeves",
        __meta_kubernetes_pod_name="jeeves-gateway-abc",
    )
    kept = relabel(target, services["relabel_configs"])
    assert (kept or {}).get("job") == job


def action_pod(track: str, annotated: bool = True) -> dict[str, str]:
    """The discovery labels of a Pod the operator builds for the echo action."""
    spec: dict[str, Any] = {"keywords": ["echo"], "image": "jeeves-echo:1"}
    if track == "canary":
        spec["canary"] = {"image": "jeeves-echo:2", "percent": 10}
    ref = ActionRef(name="echo", namespace="bots", uid="u-1")
    settings = OperatorSettings(etcd_endpoints=("etcd:2379",))
    template = build_deployment(spec, ref, settings, track)["spec"]["template"]  # type: ignore[arg-type]
    annotations = template["metadata"]["annotations"] if annotated else {}
    [port] = template["spec"]["containers"][0]["ports"]
    return {
        **meta("__meta_kubernetes_pod_label_", template["metadata"]["labels"]),
        **meta("__meta_kubernetes_pod_annotation_", annotations),
        "__meta_kubernetes_pod_container_port_name": port["name"],
        "__meta_kubernetes_pod_name": "jeeves-echo-xyz",
        "__meta_kubernetes_namespace": "bots",
    }


@pytest.mark.parametrize("track", ["stable", "canary"])
def test_the_operators_action_pods_are_scraped_with_their_track(track: str) -> None:
    actions = scrape.kubernetes_scrape_configs("bots")[1]
    kept = relabel(action_pod(track), actions["relabel_configs"])
    assert kept is not None
    assert (kept["job"], kept["track"], kept["__metrics_path__"]) == (
        "jeeves-echo",
        track,
        "/metrics",
    )
    assert relabel(action_pod(track, annotated=False), actions["relabel_configs"]) is None
