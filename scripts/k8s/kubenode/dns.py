"""Cluster DNS records from the API's Services and Endpoints, as a hosts file. Pure.

CoreDNS is not packaged in Debian 12, so dnsmasq serves the cluster domain from a hosts file the
node agent rewrites whenever these records change. Served: `<svc>.<ns>.svc.<domain>` for every
Service with a cluster IP; for headless Services every ready endpoint address under the
Service's name, and `<hostname>.<svc>.<ns>.svc.<domain>` for endpoints with a hostname
(StatefulSet Pods). Not served: SRV records, ExternalName Services, Pod A records.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kubenode.spec import CLUSTER_DOMAIN

Obj = Mapping[str, Any]


def _key(obj: Obj) -> tuple[str, str]:
    meta = obj.get("metadata", {})
    return str(meta.get("namespace", "")), str(meta.get("name", ""))


def records(
    services: Iterable[Obj], endpoints: Iterable[Obj], domain: str = CLUSTER_DOMAIN
) -> list[tuple[str, str]]:
    """(address, name) pairs, sorted, without duplicates."""
    by_key = {_key(ep): ep for ep in endpoints}
    found: set[tuple[str, str]] = set()
    for service in services:
        namespace, name = _key(service)
        spec = service.get("spec", {})
        if spec.get("type") == "ExternalName":
            continue
        fqdn = f"{name}.{namespace}.svc.{domain}"
        cluster_ip = spec.get("clusterIP")
        if cluster_ip and cluster_ip != "None":
            found.add((str(cluster_ip), fqdn))
            continue
        for subset in by_key.get((namespace, name), {}).get("subsets") or []:
            for address in subset.get("addresses") or []:
                ip = str(address["ip"])
                found.add((ip, fqdn))
                if address.get("hostname"):
                    found.add((ip, f"{address['hostname']}.{fqdn}"))
    return sorted(found)


def hosts_file(pairs: Iterable[tuple[str, str]]) -> str:
    """The hosts-file text dnsmasq reads (`--addn-hosts`)."""
    lines = ["# cluster DNS records written by the jeeves node agent"]
    lines += [f"{address} {name}" for address, name in pairs]
    return "\n".join(lines) + "\n"
