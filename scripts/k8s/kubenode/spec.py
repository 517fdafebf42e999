"""What identifies one node: its id, addresses, names and the paths of its run directory.

Pure data. Everything a node creates on the host is named after its id (`jeeves-node-<id>`
cgroups, the `jvn<id>` veth), so a tear-down, or a later `down --all`, finds exactly its own
things. Cluster-internal ranges (pods, Services, DNS) are fixed: they live only inside the node's
network namespace, so several nodes on one machine never collide. Only the veth link's /30
is visible on the host, and it is chosen per node.
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass
from pathlib import Path

LINK_POOL = ipaddress.IPv4Network("10.213.0.0/16")
POD_CIDR = ipaddress.IPv4Network("10.244.0.0/24")
SERVICE_CIDR = ipaddress.IPv4Network("10.96.0.0/16")
CLUSTER_DOMAIN = "cluster.local"
NODE_NAME = "jeeves-node"
CGROUP_PREFIX = "jeeves-node-"
VETH_PREFIX = "jvn"
PAUSE_IMAGE = "localhost/jeeves-pause:3.4"
APISERVER_PORT = 6443


def new_node_id() -> str:
    """Six hex digits: short enough for interface names (15 characters at most)."""
    return secrets.token_hex(3)


def link_network(index: int) -> ipaddress.IPv4Network:
    """The `index`-th /30 of the link pool (host end .1, node end .2)."""
    subnets = LINK_POOL.num_addresses // 4
    if not 0 <= index < subnets:
        raise ValueError(f"link index {index} outside 0..{subnets - 1}")
    base = int(LINK_POOL.network_address) + 4 * index
    return ipaddress.IPv4Network((base, 30))


@dataclass(frozen=True)
class NodeSpec:
    """One node's identity and addresses."""

    node_id: str
    link: ipaddress.IPv4Network

    @property
    def cgroup(self) -> str:
        """Name of the node's cgroup in every v1 hierarchy (kubelet's --cgroup-root)."""
        return f"{CGROUP_PREFIX}{self.node_id}"

    @property
    def veth_host(self) -> str:
        return f"{VETH_PREFIX}{self.node_id}"

    @property
    def host_ip(self) -> str:
        return str(self.link.network_address + 1)

    @property
    def node_ip(self) -> str:
        return str(self.link.network_address + 2)

    @property
    def apiserver_service_ip(self) -> str:
        """The `kubernetes` Service: the first address of the Service range."""
        return str(SERVICE_CIDR.network_address + 1)

    @property
    def dns_ip(self) -> str:
        return str(SERVICE_CIDR.network_address + 10)

    @property
    def pod_gateway(self) -> str:
        return str(POD_CIDR.network_address + 1)


@dataclass(frozen=True)
class Layout:
    """Paths inside the node's run directory (kept short: unix sockets allow 107 bytes)."""

    run_dir: Path

    def __truediv__(self, name: str) -> Path:
        return self.run_dir / name

    @property
    def state_file(self) -> Path:
        return self.run_dir / "node.json"

    @property
    def logs(self) -> Path:
        return self.run_dir / "logs"

    @property
    def pki(self) -> Path:
        return self.run_dir / "pki"

    @property
    def kubeconfig(self) -> Path:
        """The admin kubeconfig for the host (server = the relay on 127.0.0.1)."""
        return self.run_dir / "kubeconfig"

    @property
    def containerd_socket(self) -> Path:
        return self.run_dir / "containerd.sock"

    @property
    def cni_conf_dir(self) -> Path:
        return self.run_dir / "cni" / "net.d"

    @property
    def hosts_file(self) -> Path:
        """The cluster DNS records dnsmasq serves (rewritten by the agent)."""
        return self.run_dir / "dns" / "hosts"

    @property
    def volumes(self) -> Path:
        """Where the agent provisions hostPath volumes for PersistentVolumeClaims."""
        return self.run_dir / "volumes"
