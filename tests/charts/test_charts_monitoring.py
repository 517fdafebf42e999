"""monitoring.enabled of charts/jeeves and charts/jeeves-operator (issue 11's scraping): off,
nothing; on, one ServiceMonitor per deployable the chart runs, selecting exactly its Service's
port http (job jeeves-<X>), a PodMonitor that selects the action Pods the real operator code
builds (job jeeves-<action>, label track), the operator's own ServiceMonitor — all valid for
the Prometheus Operator's CRD models.

Real: Helm's engine renders (helm-python-sdk); the operator's own builder makes the action Pod;
cloudcoil's prometheus-operator models judge the monitors. Nothing faked.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from chart_scenarios import DEFAULT, EMULATORS_ON, OPERATOR, Render

from jeeves_operator.builders import build_deployment
from jeeves_operator.models import ActionRef
from jeeves_operator.settings import OperatorSettings
from support.helm import HelmFailure, merge, render
from support.prometheus_crds import crd_problems

pytestmark = pytest.mark.charts
LABELS = {"release": "kube-prometheus-stack"}
ON: dict[str, Any] = {"monitoring": {"enabled": True, "labels": LABELS}}
KINDS = ("ServiceMonitor", "PodMonitor")


def monitors(objects: Any) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] in KINDS]


def test_no_monitor_unless_enabled(rendered: Render) -> None:
    assert monitors(rendered("jeeves", EMULATORS_ON).objects) == []
    assert monitors(rendered("jeeves-operator", OPERATOR).objects) == []


@pytest.mark.parametrize("base", [DEFAULT, EMULATORS_ON], ids=["default", "emulators-on"])
def test_one_service_monitor_per_deployable_selecting_its_service(
    rendered: Render, base: dict[str, Any]
) -> None:
    rendering = rendered("jeeves", merge(base, ON))
    deployables = set(rendering.names("Deployment"))
    assert {"jeeves-gateway", "jeeves-poster", "jeeves-tokens"} <= deployables
    assert set(rendering.names("ServiceMonitor")) == deployables
    for name in deployables:
        monitor = rendering.find("ServiceMonitor", name)
        service = rendering.find("Service", name)
        spec = monitor["spec"]
        selected = [
            s
            for s in rendering.of_kind("Service")
            if spec["selector"]["matchLabels"].items() <= s["metadata"]["labels"].items()
        ]
        assert selected == [service], name
        assert [e["port"] for e in spec["endpoints"]] == ["http"]
        assert "http" in [p["name"] for p in service["spec"]["ports"]]
        assert service["metadata"]["labels"][spec["jobLabel"]] == name  # job = jeeves-<X>
        assert spec["namespaceSelector"] == {"matchNames": ["jeeves"]}
        assert monitor["metadata"]["labels"].items() >= LABELS.items()
        assert crd_problems(monitor) == [], name


def test_the_pod_monitor_selects_the_action_pods_the_operator_builds(rendered: Render) -> None:
    rendering = rendered("jeeves", merge(DEFAULT, ON))
    monitor = rendering.find("PodMonitor", "jeeves-actions")
    assert crd_problems(monitor) == []
    spec = monitor["spec"]
    ref = ActionRef(name="echo", namespace="jeeves", uid="u-1")
    settings = OperatorSettings(etcd_endpoints=("etcd:2379",))
    pod = build_deployment({"keywords": ["echo"], "image": "jeeves-echo:1"}, ref, settings)
    template = pod["spec"]["template"]
    labels = template["metadata"]["labels"]
    assert spec["selector"]["matchLabels"].items() <= labels.items()
    assert labels[spec["jobLabel"]] == "jeeves-echo"
    ports = {p["name"] for c in template["spec"]["containers"] for p in c["ports"]}
    [endpoint] = spec["podMetricsEndpoints"]
    assert endpoint["port"] in ports
    [track] = endpoint["relabelings"]
    assert track == {
        "sourceLabels": ["__meta_kubernetes_pod_label_jeeves_dev_track"],
        "targetLabel": "track",
    }
    assert labels["jeeves.dev/track"] == "stable"
    # The platform's own Pods are not action Pods: the PodMonitor never scrapes them twice.
    for deployment in rendering.of_kind("Deployment"):
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert not spec["selector"]["matchLabels"].items() <= pod_labels.items()


def test_action_namespaces_and_no_pod_monitor(rendered: Render) -> None:
    watched = merge(ON, {"monitoring": {"actionNamespaces": ["team-a", "team-b"]}})
    monitor = rendered("jeeves", merge(DEFAULT, watched)).find("PodMonitor", "jeeves-actions")
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["team-a", "team-b"]}
    off = rendered("jeeves", merge(DEFAULT, merge(ON, {"monitoring": {"actions": False}})))
    assert off.names("PodMonitor") == []


def test_the_operator_service_monitor_selects_its_service(rendered: Render) -> None:
    rendering = rendered("jeeves-operator", merge(OPERATOR, ON))
    [monitor] = monitors(rendering.objects)
    service = rendering.find("Service", "jeeves-operator")
    labels = service["metadata"]["labels"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert labels[monitor["spec"]["jobLabel"]] == "jeeves-operator"
    assert monitor["spec"]["endpoints"][0]["port"] == "http"
    assert crd_problems(monitor) == []


def test_the_crd_check_catches_a_misspelt_field(rendered: Render) -> None:
    monitor = copy.deepcopy(rendered("jeeves", merge(DEFAULT, ON)).of_kind("ServiceMonitor")[0])
    monitor["spec"]["endpoints"][0]["intervall"] = "30s"
    assert crd_problems(monitor) == ["/spec/endpoints[0]/intervall"]


@pytest.mark.parametrize("chart", ["jeeves", "jeeves-operator"])
def test_a_wrong_interval_is_refused(chart: str) -> None:
    values = merge(DEFAULT if chart == "jeeves" else OPERATOR, ON)
    with pytest.raises(HelmFailure) as refused:
        render(chart, merge(values, {"monitoring": {"interval": "half a minute"}}))
    assert "/monitoring/interval'" in str(refused.value)
