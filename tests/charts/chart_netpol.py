"""A small NetworkPolicy evaluator: may endpoint A open a connection to endpoint B on a port?

Implements the Kubernetes semantics the charts use: a Pod selected by no policy of a type is
open in that direction; otherwise some rule must match (peers by podSelector,
namespaceSelector, both, or ipBlock; ports by number or by the destination's port name; a rule
without peers or ports matches any). Traffic needs the source's egress AND the destination's
ingress. ipBlock peers match only endpoints outside the cluster (as Pod IPs are not stable,
the Kubernetes docs say to use selectors for them). Pure: it reads rendered objects only.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

KubeObject = dict[str, Any]


@dataclass(frozen=True)
class Endpoint:
    """A Pod (namespace + labels + named ports) or, with `ip`, something outside the cluster."""

    name: str
    namespace: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    ports: Mapping[str, int] = field(default_factory=dict)
    ip: str = ""

    @property
    def is_pod(self) -> bool:
        return not self.ip


def namespace_labels(namespace: str) -> dict[str, str]:
    return {"kubernetes.io/metadata.name": namespace, "name": namespace}


def selects(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A LabelSelector; an empty one selects everything."""
    selector = selector or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values")
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def _peer_matches(peer: Mapping[str, Any], policy_namespace: str, other: Endpoint) -> bool:
    if "ipBlock" in peer:
        if other.is_pod:
            return False
        block = peer["ipBlock"]
        address = ipaddress.ip_address(other.ip)
        if address not in ipaddress.ip_network(block["cidr"]):
            return False
        return not any(address in ipaddress.ip_network(e) for e in block.get("except") or [])
    if not other.is_pod:
        return False
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], namespace_labels(other.namespace)):
            return False
    elif other.namespace != policy_namespace:
        return False
    return "podSelector" not in peer or selects(peer["podSelector"], other.labels)


def _port_matches(
    ports: Sequence[Mapping[str, Any]] | None, target: Endpoint, port: int, protocol: str
) -> bool:
    if not ports:
        return True
    for item in ports:
        if item.get("protocol", "TCP") != protocol:
            continue
        wanted = item.get("port")
        if wanted is None:
            return True
        if isinstance(wanted, str) and not wanted.isdigit():
            if target.ports.get(wanted) == port:
                return True
        elif int(wanted) == port:
            return True
    return False


def _applies(policy: KubeObject, pod: Endpoint, kind: str) -> bool:
    spec = policy["spec"]
    types = spec.get("policyTypes") or (["Ingress", "Egress"] if "egress" in spec else ["Ingress"])
    return (
        pod.is_pod
        and kind in types
        and policy["metadata"]["namespace"] == pod.namespace
        and selects(spec.get("podSelector"), pod.labels)
    )


def _direction_allows(
    policies: Iterable[KubeObject],
    pod: Endpoint,
    other: Endpoint,
    target: Endpoint,
    port: int,
    protocol: str,
    kind: str,
) -> bool:
    relevant = [p for p in policies if _applies(p, pod, kind)]
    if not relevant:
        return True
    field_name, peers_name = ("ingress", "from") if kind == "Ingress" else ("egress", "to")
    for policy in relevant:
        namespace = policy["metadata"]["namespace"]
        for rule in policy["spec"].get(field_name) or []:
            peers = rule.get(peers_name)
            if peers and not any(_peer_matches(p, namespace, other) for p in peers):
                continue
            if _port_matches(rule.get("ports"), target, port, protocol):
                return True
    return False


def allowed(
    policies: Sequence[KubeObject],
    source: Endpoint,
    destination: Endpoint,
    port: int,
    protocol: str = "TCP",
) -> bool:
    """Whether `source` may connect to `destination` on `port`."""
    out = _direction_allows(policies, source, destination, destination, port, protocol, "Egress")
    into = _direction_allows(policies, destination, source, destination, port, protocol, "Ingress")
    return out and into


def pod_of(obj: KubeObject, name: str | None = None) -> Endpoint:
    """The Pod a Deployment, StatefulSet or Job would run."""
    template = obj["spec"]["template"]
    ports = {
        p["name"]: p["containerPort"]
        for c in template["spec"]["containers"]
        for p in c.get("ports") or []
        if "name" in p
    }
    return Endpoint(
        name=name or obj["metadata"]["name"],
        namespace=obj["metadata"]["namespace"],
        labels=dict(template["metadata"]["labels"]),
        ports=ports,
    )
