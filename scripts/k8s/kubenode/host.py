"""What the node changes on the host, and how it is undone: cgroups, namespaces, veth, mounts.

Owns every host-side effect of a node, so that tear-down and the leftover check live next to
the code that creates them:

- one cgroup named `jeeves-node-<id>` in every v1 hierarchy: the node's own processes join it in
  the `pids` hierarchy and kubelet puts every Pod under it (`--cgroup-root`), so killing what is
  in that tree kills the whole node, container shims and containers included;
- a "holder" process (`unshare --mount --net`) owning the node's private mount and network
  namespaces; components join them with `nsenter` (not `ip netns exec`, which remounts /sys and
  hides the cgroup tree). Mounts made inside (tmpfs on /run, container rootfs, Pod volumes,
  netns bind mounts) vanish with the namespace, whatever happened before;
- a veth pair, `jvn<id>` on the host and `eth0` in the node: the only link between the two;
- nothing in the host's iptables: kube-proxy's and CNI's rules live in the node's netns.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from kubenode.spec import POD_CIDR, SERVICE_CIDR, Layout, NodeSpec

CGROUP_ROOT = Path("/sys/fs/cgroup")
MEMBERSHIP_HIERARCHY = "pids"


class HostError(RuntimeError):
    """A host command failed."""


def run(argv: Sequence[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise HostError(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr.strip()}")
    return result


# --- cgroups ---------------------------------------------------------------------------------


def cgroup_mounts() -> list[Path]:
    """Mount points of every cgroup hierarchy (v1 controllers, named ones and v2)."""
    found: list[Path] = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[2] in ("cgroup", "cgroup2"):
            found.append(Path(fields[1]))
    return found


def membership_dir(name: str) -> Path:
    return CGROUP_ROOT / MEMBERSHIP_HIERARCHY / name


def make_cgroup(name: str, cpu_shares: int) -> None:
    """Create `/<name>` in every v1 hierarchy (kubelet insists its cgroup root exists in all).

    `cpu_shares` weighs the node's Pods against the host's processes: a cgroup at the root
    competes as ONE task against every busy task in the root cgroup, so with the default 1024 a
    loaded host starves all Pods together (seen: 1% CPU, liveness probes failing)."""
    for mount in cgroup_mounts():
        if not (mount / "cgroup.procs").exists() or (mount / "cgroup.controllers").exists():
            continue  # v2 (kubelet 1.20 on a hybrid host uses v1 only)
        path = mount / name
        path.mkdir(exist_ok=True)
        for knob in ("cpuset.cpus", "cpuset.mems"):  # an empty cpuset admits no task
            if (path / knob).exists() and not (path / knob).read_text().strip():
                (path / knob).write_text((mount / knob).read_text())
        if (path / "cpu.shares").exists():
            (path / "cpu.shares").write_text(str(cpu_shares))
    (membership_dir(name) / "node").mkdir(exist_ok=True)


def joiner(name: str) -> Callable[[], None]:
    """A `preexec_fn` putting the child (and so all it starts) into the node's cgroup."""
    procs = membership_dir(name) / "node" / "cgroup.procs"

    def join() -> None:  # pragma: no cover - runs between fork and exec
        procs.write_text(str(os.getpid()))

    return join


def cgroup_pids(name: str) -> set[int]:
    """Every process in the node's cgroup tree (node processes, shims, containers)."""
    pids: set[int] = set()
    top = membership_dir(name)
    if not top.exists():
        return pids
    for procs in top.rglob("cgroup.procs"):
        with contextlib.suppress(OSError):
            pids.update(int(p) for p in procs.read_text().split())
    return pids


def kill_cgroup(name: str, *, timeout: float = 30.0) -> None:
    """SIGKILL everything in the node's cgroup tree until it is empty (new forks included)."""
    deadline = time.monotonic() + timeout
    while pids := cgroup_pids(name):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if time.monotonic() > deadline:
            raise HostError(f"processes of cgroup {name} survive SIGKILL: {sorted(pids)}")
        time.sleep(0.05)


def remove_cgroup(name: str, *, timeout: float = 10.0) -> None:
    """rmdir the node's cgroup, deepest first, in every hierarchy."""
    deadline = time.monotonic() + timeout
    for mount in cgroup_mounts():
        top = mount / name
        if not top.is_dir():
            continue
        dirs = sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts))
        for path in [*dirs, top]:
            while True:
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    # A just-killed task can take a moment to leave the cgroup.
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)


def cgroup_dirs(name: str) -> list[Path]:
    return [mount / name for mount in cgroup_mounts() if (mount / name).exists()]


# --- namespaces ------------------------------------------------------------------------------


def holder_argv() -> list[str]:
    """A process owning a fresh mount + network namespace (mounts private to it)."""
    return ["unshare", "--mount", "--net", "--propagation", "private", "--", "sleep", "infinity"]


def nsenter(holder_pid: int) -> list[str]:
    """The prefix that runs a command inside the node's namespaces."""
    return ["nsenter", f"--net=/proc/{holder_pid}/ns/net", f"--mount=/proc/{holder_pid}/ns/mnt"]


def netns_inode(pid: int) -> int:
    return os.stat(f"/proc/{pid}/ns/net").st_ino


MOUNT_POINTS = ("/var/lib/kubelet", "/var/lib/cni")
STORE_SIZE = "6g"  # an upper bound, not a reservation: tmpfs uses what it holds


def setup_mounts(holder_pid: int, layout: Layout) -> None:
    """Inside the node's mount namespace: a private /run, and the fixed paths kubelet 1.20 and
    libcni write to (/var/log/pods, /var/lib/kubelet/device-plugins, /var/lib/cni) redirected
    into the run dir. On the host this leaves at most two empty directories, MOUNT_POINTS."""
    targets = {
        "/var/log": layout / "log",
        "/var/lib/kubelet": layout / "kubelet",
        "/var/lib/cni": layout / "cni" / "cache",
    }
    for source in targets.values():
        source.mkdir(parents=True, exist_ok=True)
    for point in MOUNT_POINTS:
        Path(point).mkdir(parents=True, exist_ok=True)
    inside = nsenter(holder_pid)
    run([*inside, "mount", "-t", "tmpfs", "-o", "mode=0755,size=64m", "jeeves-node-run", "/run"])
    for target, source in targets.items():
        run([*inside, "mount", "--bind", str(source), target])
    # containerd's store (image blobs, unpacked layers, container root filesystems) and etcd's
    # data in memory: imports and etcd writes skip the shared, busy disk, and tear-down frees
    # them with the namespace instead of deleting ~1 GB of small files (measured 60-70 s).
    for directory in (layout / "containerd", layout / "etcd"):
        directory.mkdir(parents=True, exist_ok=True)
        run([*inside, "mount", "-t", "tmpfs", "-o", f"mode=0700,size={STORE_SIZE}",
             "jeeves-node-store", str(directory)])  # fmt: skip


def used_networks() -> list[str]:
    """Every IPv4 route and address on the host (to choose a free link /30)."""
    routes = run(["ip", "-4", "-o", "route", "show", "table", "all"], check=False).stdout
    return re.findall(r"\b\d+\.\d+\.\d+\.\d+(?:/\d+)?\b", routes)


def setup_network(holder_pid: int, spec: NodeSpec) -> None:
    """The veth link (host .1, node .2), loopback, no way out, forwarding inside."""
    prefix = spec.link.prefixlen
    run(["ip", "link", "add", spec.veth_host, "type", "veth",
         "peer", "name", "eth0", "netns", str(holder_pid)])  # fmt: skip
    run(["ip", "addr", "add", f"{spec.host_ip}/{prefix}", "dev", spec.veth_host])
    run(["ip", "link", "set", spec.veth_host, "up"])
    inside = nsenter(holder_pid)
    run([*inside, "ip", "link", "set", "lo", "up"])
    run([*inside, "ip", "addr", "add", f"{spec.node_ip}/{prefix}", "dev", "eth0"])
    run([*inside, "ip", "link", "set", "eth0", "up"])
    # Nothing leaves the node: an unreachable default route makes every outside lookup (cloud
    # metadata probes of kubelet and cAdvisor, the host's DNS server) fail at once instead of
    # timing out. Pods reach Services through DNAT before routing; the relay uses the link.
    run([*inside, "ip", "route", "add", "unreachable", "default"])
    run([*inside, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1",
         "net.bridge.bridge-nf-call-iptables=1", "net.ipv4.conf.all.route_localnet=1"])  # fmt: skip


def delete_veth(name: str) -> None:
    run(["ip", "link", "del", name], check=False)


def veth_exists(name: str) -> bool:
    return run(["ip", "link", "show", name], check=False).returncode == 0


# --- processes -------------------------------------------------------------------------------


def start(
    argv: Sequence[str],
    *,
    log: Path,
    cgroup: str,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start a detached process in its own session, inside the node's cgroup, logging to `log`."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=joiner(cgroup),
            env=dict(env) if env is not None else None,
        )


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def rss_mib(pid: int) -> float:
    """Resident set size of `pid` in MiB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cgroup_memory_mib(name: str, child: str) -> float:
    """Memory charged to `/<name>/<child>` in the memory hierarchy (page cache included)."""
    try:
        usage = (CGROUP_ROOT / "memory" / name / child / "memory.usage_in_bytes").read_text()
    except OSError:
        return 0.0
    return int(usage) / 2**20


# --- leftovers -------------------------------------------------------------------------------


def _ancestors() -> set[int]:
    """This process and its ancestors (whose command lines may well name the run dir)."""
    pids, pid = set(), os.getpid()
    while pid > 1:
        pids.add(pid)
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            break
    return pids


def processes_mentioning(text: str) -> list[int]:
    """PIDs whose command line contains `text` (e.g. the run dir), but for our own ancestry."""
    found = []
    mine = _ancestors()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in mine:
            continue
        with contextlib.suppress(OSError):
            if text.encode() in (entry / "cmdline").read_bytes() and alive(int(entry.name)):
                found.append(int(entry.name))
    return found


def processes_in_netns(inode: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if os.stat(entry / "ns" / "net").st_ino == inode:
                    found.append(int(entry.name))
    return found


def host_mounts_under(path: Path) -> list[str]:
    """Mount points in the host's mount namespace at or below `path`."""
    prefix = str(path)
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4]
        if point == prefix or point.startswith(prefix + "/"):
            points.append(point)
    return points


def host_iptables_mentions(needles: Iterable[str]) -> list[str]:
    """Host iptables rules (every table) naming a node chain or range: kube-proxy/CNI leaks."""
    dump = run(["iptables-save"], check=False).stdout
    wanted = tuple(needles)
    return [line for line in dump.splitlines() if any(n in line for n in wanted)]


def node_signatures(spec: NodeSpec) -> list[str]:
    """Strings that only the node's own iptables rules contain."""
    return ["KUBE-", str(POD_CIDR), str(SERVICE_CIDR), spec.node_ip, "cni0"]
