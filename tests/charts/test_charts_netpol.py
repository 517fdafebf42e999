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
from chart_scenarios import EVERYTHING_ON, OPERATOR, SLACK, TEST_CLUSTER, Render

from jeeves_operator.builders import build_deployment
from jeeves_operator.models import ActionRef
from jeeves_operator.settings import OperatorSettings
from support.helm import KubeObject, Values, merge

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


# The surfaces on (EVERYTHING_ON: a distributed app over Socket Mode, the dashboard, the
# Strava action and every emulator): the flows above plus exactly these.
SURFACES = ("dashboard", "socket", "strava", "strava-emulator")
EXPECTED_EVERYTHING_ON = EXPECTED | {
    # Browsers open the dashboard and come back to Strava's callback (no restriction set).
    *((a, b) for a in UNRESTRICTED for b in ("dashboard", "strava", "strava-emulator")),
    # A distributed app: the gateway completes installs with Slack and stores them in data;
    # the poster reads each workspace's token from data; jeeves-socket asks data which
    # workspaces are installed.
    ("gateway", "outside"),
    ("gateway", "slack-emulator"),
    ("gateway", "data"),
    ("poster", "data"),
    # jeeves-socket opens Slack's WebSockets and stores events in the pipeline database.
    *(("socket", b) for b in ("outside", "slack-emulator", "data", "tokens", "postgres", "dns")),
    # The dashboard asks data, dispatcher, poster, Slack (Sign in) and the Kubernetes API.
    *(
        ("dashboard", b)
        for b in (
            "data",
            "dispatcher",
            "poster",
            "outside",
            "slack-emulator",
            "tokens",
            "etcd",
            "postgres",
            "dns",
        )
    ),
    # The Strava action is an action, and also talks to the Strava stand-in.
    ("dispatcher", "strava"),
    *(("strava", b) for b in ("data", "poster", "outside", "weather-emulator", "tokens")),
    *(("strava", b) for b in ("etcd", "dns", "strava-emulator")),
    ("action", "strava-emulator"),
    *(("prometheus", name) for name in ("dashboard", "socket")),
}


def endpoints(
    rendered: Render, scenario: Values = TEST_CLUSTER
) -> tuple[dict[str, Endpoint], list[KubeObject]]:
    extra = [{"namespaceSelector": {"matchLabels": {"name": "monitoring"}}}]
    values = merge(merge(scenario, SLACK), {"networkPolicy": {"extraFrom": extra}})
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
    actions = [a["metadata"]["name"] for a in platform.of_kind("JeevesAction")]
    for action in ("echo", "strava"):
        if action in actions:  # the action Pods as the operator builds them
            pod = build_deployment(
                {"keywords": [action], "image": f"localhost/jeeves-{action}:0.1.0"},
                ActionRef(name=action, namespace="jeeves", uid="u-1"),
                OperatorSettings(),
            )
            found["action" if action == "echo" else action] = pod_of(pod, action)
    found.update(prometheus=PROMETHEUS, dns=DNS, outside=OUTSIDE)
    policies = platform.of_kind("NetworkPolicy") + operator.of_kind("NetworkPolicy")
    return found, policies


def flows(found: dict[str, Endpoint], policies: list[KubeObject]) -> set[tuple[str, str]]:
    """Every (source, destination) pair the policies allow on the destination's port."""
    listens = {**LISTENS, **{name: (8080, "TCP") for name in SURFACES}}
    actual = set()
    for source_name, source in found.items():
        for target_name, target in found.items():
            if source_name == target_name or target_name not in listens:
                continue
            port, protocol = listens[target_name]
            if allowed(policies, source, target, port, protocol):
                actual.add((source_name, target_name))
    return actual


def test_only_the_architectures_flows_are_allowed(rendered: Render) -> None:
    found, policies = endpoints(rendered)
    assert set(found) == set(LISTENS) | {"migrate"}
    actual = flows(found, policies)
    assert sorted(actual - EXPECTED) == [], "allowed but not in the design"
    assert sorted(EXPECTED - actual) == [], "in the design but refused"


def test_the_surfaces_add_exactly_their_flows(rendered: Render) -> None:
    found, policies = endpoints(rendered, EVERYTHING_ON)
    assert set(found) == set(LISTENS) | {"migrate", *SURFACES}
    actual = flows(found, policies)
    assert sorted(actual - EXPECTED_EVERYTHING_ON) == [], "allowed but not in the design"
    assert sorted(EXPECTED_EVERYTHING_ON - actual) == [], "in the design but refused"


def test_the_dashboards_kubernetes_api_egress_follows_its_switch(rendered: Render) -> None:
    """The dashboard reaches the API server (443/6443) only while it reads JeevesActions."""
    api_server = Endpoint("apiserver", ip="10.96.0.1")
    found, policies = endpoints(rendered, EVERYTHING_ON)
    assert allowed(policies, found["dashboard"], api_server, 6443)
    assert not allowed(policies, found["dashboard"], api_server, 10250)  # a kubelet: no
    off = merge(EVERYTHING_ON, {"jeeves-dashboard": {"kubernetes": {"enabled": False}}})
    found, policies = endpoints(rendered, off)
    assert not allowed(policies, found["dashboard"], api_server, 6443)
    assert allowed(policies, found["dashboard"], api_server, 443)  # Slack's API still


def test_the_strava_callback_opens_only_the_strava_pods(rendered: Render) -> None:
    """Browsers may reach the Strava action's Pods, not the other actions', and a peer list
    restricts them."""
    found, policies = endpoints(rendered, EVERYTHING_ON)
    assert allowed(policies, OUTSIDE, found["strava"], 8080)
    assert not allowed(policies, OUTSIDE, found["action"], 8080)
    ingress = [{"ipBlock": {"cidr": "10.0.0.0/8"}}]
    only = merge(EVERYTHING_ON, {"networkPolicy": {"stravaCallbackFrom": ingress}})
    found, policies = endpoints(rendered, only)
    assert not allowed(policies, OUTSIDE, found["strava"], 8080)
    assert allowed(policies, Endpoint("lb", ip="10.1.2.3"), found["strava"], 8080)


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
