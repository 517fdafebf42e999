"""Jeeves installed on the real node from its images and charts: the harness of test_jeeves.py.

Owns what the cluster test does around the product: finding the image archives `make images`
wrote, the values the test installs with (values/*.yaml: in-chart PostgreSQL and etcd, the Slack
and weather emulators in-cluster, images from localhost only), the two releases (through
tests/support/helm.py, the charts' own Helm engine), polling the cluster through kubectl until
workloads are Ready, and the Slack emulator's control API reached through a NodePort relay.
Nothing here reaches into a Pod: everything goes through public interfaces.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kubenode.node import Node
from support.helm import Releases, merge
from support.slack import SlackEmulator

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
NAMESPACE = "jeeves"
OPERATOR_NAMESPACE = "jeeves-system"
# Every image the test needs (the contract: ${JEEVES_CACHE}/images/jeeves-X.tar, `make images`).
IMAGES = (
    "gateway", "dispatcher", "poster", "data", "tokens", "operator", "echo", "memory", "weather",
    "slack-emulator", "weather-emulator", "dice", "postgres", "etcd",
)  # fmt: skip
SERVICES = ("gateway", "dispatcher", "poster", "data", "tokens")
EMULATORS = ("slack-emulator", "weather-emulator")
PLATFORM = (*SERVICES, *EMULATORS)
ACTIONS = ("echo", "memory", "weather")
STATEFUL = ("postgres", "etcd")
MIGRATED = ("gateway", "dispatcher", "poster", "data")


def images_dir() -> Path:
    return Path(os.environ.get("JEEVES_CACHE") or Path.home() / ".cache" / "jeeves") / "images"


def image_archives() -> tuple[list[Path], list[str]]:
    """(every jeeves-*.tar there, names of IMAGES missing): all are imported, IMAGES required."""
    found = sorted(images_dir().glob("jeeves-*.tar"))
    names = {archive.name.removesuffix(".tar").removeprefix("jeeves-") for archive in found}
    return found, [name for name in IMAGES if name not in names]


def values(name: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """values/<name>.yaml with `overrides` merged in as Helm merges values."""
    loaded: dict[str, Any] = yaml.safe_load((HERE / "values" / f"{name}.yaml").read_text())
    return merge(loaded, overrides or {})


def wait_until(
    predicate: Callable[[], Any], *, timeout: float, what: str, every: float = 0.5
) -> Any:
    """Poll `predicate` until it returns something truthy (returned); fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


@dataclass
class Stack:
    """The installed stack: its node, releases, and the Slack emulator's control API."""

    node: Node
    timings: dict[str, float] = field(default_factory=dict)
    slack: SlackEmulator | None = None

    # --- kubectl views -----------------------------------------------------------------------

    def get(self, kind: str, namespace: str = NAMESPACE, *args: str) -> list[dict[str, Any]]:
        out = self.node.kubectl("get", kind, "-n", namespace, "-o", "json", *args).stdout
        return list(json.loads(out)["items"])

    def not_ready(self, namespace: str = NAMESPACE) -> list[str]:
        """What keeps the namespace from being all-Ready (empty when it is)."""
        problems = []
        for deployment in self.get("deployments", namespace):
            spec, status = deployment["spec"], deployment.get("status", {})
            want = spec.get("replicas", 1)
            if status.get("observedGeneration", 0) < deployment["metadata"]["generation"] or (
                status.get("updatedReplicas", 0) < want
                or status.get("availableReplicas", 0) < want
                or status.get("replicas", 0) != want
            ):
                problems.append(f"deployment/{deployment['metadata']['name']}")
        for stateful in self.get("statefulsets", namespace):
            want = stateful["spec"].get("replicas", 1)
            if stateful.get("status", {}).get("readyReplicas", 0) < want:
                problems.append(f"statefulset/{stateful['metadata']['name']}")
        for job in self.get("jobs", namespace):
            if not job_complete(job):
                problems.append(f"job/{job['metadata']['name']}")
        return problems

    def wait_all_ready(self, namespaces: Iterable[str], *, timeout: float) -> None:
        def ready() -> bool:
            return not any(self.not_ready(ns) for ns in namespaces)

        try:
            wait_until(ready, timeout=timeout, what="every workload Ready", every=1.0)
        except AssertionError:
            raise AssertionError(self.diagnose(namespaces)) from None

    def diagnose(self, namespaces: Iterable[str]) -> str:
        """Why workloads are not Ready: what is missing, Pod states and recent events."""
        lines = []
        for ns in namespaces:
            lines.append(f"--- {ns}: not ready: {self.not_ready(ns)}")
            lines.append(
                self.node.kubectl("get", "pods", "-n", ns, "-o", "wide", check=False).stdout
            )
            events = self.node.kubectl(
                "get", "events", "-n", ns, "--sort-by=.lastTimestamp", check=False
            ).stdout
            lines.append("\n".join(events.splitlines()[-25:]))
        return "\n".join(lines)

    def pods(self, namespace: str = NAMESPACE, selector: str = "") -> list[dict[str, Any]]:
        args = ["-l", selector] if selector else []
        return self.get("pods", namespace, *args)

    # --- releases ----------------------------------------------------------------------------

    def releases(self, namespace: str) -> Releases:
        return Releases(self.node.kubeconfig, namespace)

    def install(self) -> None:
        t0 = time.monotonic()
        with self.releases(OPERATOR_NAMESPACE) as operator:
            operator.install(
                "jeeves-operator", "jeeves-operator", values("operator"),
                wait=True, timeout_s=300, create_namespace=True,
            )  # fmt: skip
        with self.releases(NAMESPACE) as platform:
            platform.install(
                "jeeves", "jeeves", values("jeeves"), wait=False, timeout_s=600,
                create_namespace=True,
            )  # fmt: skip
        self.timings["helm install"] = time.monotonic() - t0

    def upgrade(self, overrides: dict[str, Any]) -> None:
        with self.releases(NAMESPACE) as platform:
            platform.upgrade("jeeves", "jeeves", values("jeeves", overrides), wait=True,
                             timeout_s=600)  # fmt: skip

    def uninstall(self) -> None:
        with self.releases(NAMESPACE) as platform:
            platform.uninstall("jeeves", wait=True, timeout_s=300)

    def uninstall_operator(self) -> None:
        with self.releases(OPERATOR_NAMESPACE) as operator:
            operator.uninstall("jeeves-operator", wait=True, timeout_s=300)

    # --- Slack ---------------------------------------------------------------------------------

    def delivery_statuses(self) -> list[Any]:
        """What became of the emulator's deliveries to the gateway (for failure messages)."""
        if self.slack is None:
            return []
        try:
            return [(d["summary"].get("type"), d["statuses"]) for d in self.slack.deliveries()]
        except (OSError, AssertionError) as error:
            return [f"the emulator's control API did not answer: {error}"]

    def connect_slack(self) -> SlackEmulator:
        """The emulator's control API through a relay to its NodePort."""
        [service] = [
            s for s in self.get("services") if s["metadata"]["name"] == "jeeves-slack-emulator"
        ]
        [port] = [p for p in service["spec"]["ports"] if p.get("name") == "http"]
        local = self.node.relay(int(port["nodePort"]), name="slack-emulator")
        self.slack = SlackEmulator(f"http://127.0.0.1:{local}")
        return self.slack


def job_complete(job: dict[str, Any]) -> bool:
    conditions = job.get("status", {}).get("conditions") or []
    return any(c["type"] == "Complete" and c["status"] == "True" for c in conditions)


def pod_ready(pod: dict[str, Any]) -> bool:
    conditions = pod.get("status", {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
