"""The NetworkPolicies allow exactly the architecture's flows: every (source, destination) pair
of Jeeves Pods, the operator, DNS, Prometheus and the outside world, checked against the list
of flows the design has.

Real: both charts rendered by Helm's engine; the action Pod is the operator's own
`build_deployment` output; chart_netpol.py evaluates the policies (Kubernetes semantics, no
cluster — the test cluster's CNI does not enforce policies).
"""

from __future__ import annotations

import pytest
from chart_netpol import Endpoint, allowed, pod_of
from chart_scenarios import OPERATOR, SLACK, TEST_CLUSTER, Render

from jeeves_operator.builders import build_deployment
from jeeves_operator.models import ActionRef
from jeeves_operator.settings import OperatorSettings
from support.helm import KubeObject, merge

pytestmark = pytest.mark.charts

PROMETHEUS = Endpoint("prometheus", "monitoring", {"app.kubernetes.io/name": "prometheus"})
DNS = Endpoint("dns", "kube-system", {"k8s-app": "kube-dns"}, {"dns": 53})
OUTSIDE = Endpoint("outside", ip="203.0.113.7")  # Slack, a browser, an API on the internet
PLATFORM = ("gateway", "dispatcher", "poster", "data", "tokens")
# Where each destination listens: (port, protocol).
LISTENS = {
    **{name: (8080, "TCP") for name in (*PLATFORM, "action", "slack-emulator", "weather-emulator")},
    "postgres": (5432, "TCP"),
    "etcd": (2379, "TCP"),
    "operator": (8080, "TCP"),
    "prometheus": (9090, "TCP"),
    "dns": (53, "UDP"),
    "outside": (443, "TCP"),
}
SERVES_HTTP = (*PLATFORM, "action", "slack-emulator", "weather-emulator")
UNRESTRICTED = ("prometheus", "dns", "outside")

# The design's flows (docs/architecture.md, docs/deploying.md), with the test cluster's
# in-chart datastores and emulators, and Prometheus as an extra peer.
EXPECTED = {
    ("outside", "gateway"),  # Slack's requests
    ("slack-emulator", "gateway"),  # the emulator plays Slack
    ("dispatcher", "action"),
    ("dispatcher", "data"),  # usage records
    ("action", "data"),
    ("action", "poster"),  # answers sent later
    ("poster", "outside"),  # Slack's Web API, response_url
    ("poster", "slack-emulator"),
    ("action", "outside"),  # third-party APIs (Open-Meteo)
    ("action", "weather-emulator"),
    ("operator", "etcd"),  # registrations
    ("operator", "outside"),  # the Kubernetes API server, wherever it is
    *((name, "tokens") for name in ("gateway", "dispatcher", "poster", "data", "action")),
    *((name, "etcd") for name in ("gateway", "dispatcher", "poster", "data", "action")),
    *((name, "postgres") for name in ("gateway", "dispatcher", "poster", "data", "migrate")),
    *((name, "dns") for name in (*PLATFORM, "action", "migrate", "slack-emulator", "operator")),
    *(("prometheus", name) for name in SERVES_HTTP),
    ("prometheus", "operator"),
    # Endpoints no policy restricts reach each other, the gateway (Slack must) and the
    # emulators (a test or a person drives them).
    *(
        (a, b)
        for a in UNRESTRICTED
        for b in (*UNRESTRICTED, "gateway", "slack-emulator", "weather-emulator")
        if a != b
    ),
}


def endpoints(rendered: Render) -> tuple[dict[str, Endpoint], list[KubeObject]]:
    extra = [{"namespaceSelector": {"matchLabels": {"name": "monitoring"}}}]
    values = merge(merge(TEST_CLUSTER, SLACK), {"networkPolicy": {"extraFrom": extra}})
    platform = rendered("jeeves", values)
    operator = rendered(
        "jeeves-operator",
        merge(OPERATOR, {"networkPolicy": {"extraFrom": extra}}),
        is_upgrade=False,
    )
    found: dict[str, Endpoint] = {}
    for obj in platform.of_kind("Deployment") + platform.of_kind("StatefulSet"):
        name = obj["metadata"]["name"].removeprefix("jeeves-")
        found[name] = pod_of(obj, name)
    found["migrate"] = pod_of(platform.of_kind("Job")[0], "migrate")
    found["operator"] = pod_of(operator.find("Deployment", "jeeves-operator"), "operator")
    echo = build_deployment(
        {"keywords": ["echo"], "image": "localhost/jeeves-echo:0.1.0"},
        ActionRef(name="echo", namespace="jeeves", uid="u-1"),
        OperatorSettings(),
    )
    found["action"] = pod_of(echo, "action")
    found.update(prometheus=PROMETHEUS, dns=DNS, outside=OUTSIDE)
    policies = platform.of_kind("NetworkPolicy") + operator.of_kind("NetworkPolicy")
    return found, policies


def test_only_the_architectures_flows_are_allowed(rendered: Render) -> None:
    found, policies = endpoints(rendered)
    assert set(found) == set(LISTENS) | {"migrate"}
    actual = set()
    for source_name, source in found.items():
        for target_name, target in found.items():
            if source_name == target_name or target_name not in LISTENS:
                continue
            port, protocol = LISTENS[target_name]
            if allowed(policies, source, target, port, protocol):
                actual.add((source_name, target_name))
    assert sorted(actual - EXPECTED) == [], "allowed but not in the design"
    assert sorted(EXPECTED - actual) == [], "in the design but refused"


def test_ports_matter_not_only_peers(rendered: Render) -> None:
    found, policies = endpoints(rendered)
    assert allowed(policies, found["dispatcher"], found["data"], 8080)
    assert not allowed(policies, found["dispatcher"], found["data"], 9999)
    assert not allowed(policies, found["action"], found["postgres"], 5432)
    assert not allowed(policies, found["poster"], OUTSIDE, 80)
    assert allowed(policies, found["gateway"], DNS, 53, "TCP")


def test_a_missing_rule_is_noticed(rendered: Render) -> None:
    """The evaluator can refuse: without the dispatcher's egress to actions, nothing routes."""
    found, policies = endpoints(rendered)
    dispatcher = next(p for p in policies if p["metadata"]["name"] == "jeeves-dispatcher")
    trimmed = {
        **dispatcher,
        "spec": {**dispatcher["spec"], "egress": dispatcher["spec"]["egress"][:-1]},
    }
    others = [p for p in policies if p is not dispatcher]
    assert allowed(policies, found["dispatcher"], found["action"], 8080)
    assert not allowed([*others, trimmed], found["dispatcher"], found["action"], 8080)
