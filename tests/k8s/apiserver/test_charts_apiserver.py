"""Both charts installed, upgraded and uninstalled by Helm's engine on the real API server tier.

Real: kube-apiserver + controller-manager 1.20 (`kube_apiserver`), Helm 4 through
helm-python-sdk (tests/support/helm.py, what `scripts/helm` runs). There is no kubelet and no
Job controller here, so a small loop stands in for them: it marks each migration Job Complete
the moment it appears and notes what existed then; that is how hook order is observed. Pods
stay Pending, which the objects, the hooks and the uninstall do not need.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from charts.chart_scenarios import DEFAULT, SLACK
from support.helm import HelmFailure, Releases, merge

from .apiserver_tier import KubeAPIServer

pytestmark = pytest.mark.k8s

PLATFORM_NS = "charts-jeeves"
OPERATOR_NS = "charts-system"
MIGRATED = ("gateway", "dispatcher", "poster", "data")
CLUSTER_SCOPED = ("clusterrole", "clusterrolebinding", "clusterkopfpeering")


@dataclass
class JobCompleter:
    """Stands in for the Job controller and kubelet: completes every Job in `namespace`,
    recording, when it first sees one, which Jobs, Secrets and Deployments exist."""

    kube: KubeAPIServer
    namespace: str
    seen: list[dict[str, Any]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def names(self, path: str) -> list[str]:
        listed: Any = self.kube.get_json(f"{path}")
        return [str(item["metadata"]["name"]) for item in listed["items"]]

    def _complete(self, name: str) -> None:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        status = {
            "status": {
                "startTime": now,
                "completionTime": now,
                "succeeded": 1,
                "conditions": [{"type": "Complete", "status": "True", "lastTransitionTime": now}],
            }
        }
        url = f"{self.kube.server}/apis/batch/v1/namespaces/{self.namespace}/jobs/{name}/status"
        request = urllib.request.Request(
            url,
            data=json.dumps(status).encode(),
            method="PATCH",
            headers={"Content-Type": "application/merge-patch+json"},
        )
        with urllib.request.urlopen(request, timeout=5, context=self.kube.ssl_context()):
            pass

    def _loop(self) -> None:
        done: set[str] = set()
        base = f"/namespaces/{self.namespace}"
        while not self._stop.is_set():
            try:
                jobs = self.names(f"/apis/batch/v1{base}/jobs")
                for name in jobs:
                    if name in done:
                        continue
                    self.seen.append(
                        {
                            "job": name,
                            "jobs": jobs,
                            "secrets": self.names(f"/api/v1{base}/secrets"),
                            "deployments": self.names(f"/apis/apps/v1{base}/deployments"),
                        }
                    )
                    self._complete(name)
                    done.add(name)
            except (urllib.error.URLError, OSError):
                pass  # the namespace may not exist yet
            self._stop.wait(0.1)

    def __enter__(self) -> JobCompleter:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


def remove_leftovers(kube: KubeAPIServer) -> None:
    """Cluster-scoped objects `kubectl apply -f manifests/rbac/` may have left in this session
    (Helm, rightly, will not take over objects it did not create)."""
    for kind in CLUSTER_SCOPED:
        kube.kubectl("delete", kind, "jeeves-operator", "--ignore-not-found", check=False)


@pytest.fixture(name="releases", scope="module")
def fixture_releases(kube_apiserver: KubeAPIServer) -> Iterator[tuple[Releases, Releases]]:
    remove_leftovers(kube_apiserver)
    with (
        Releases(kube_apiserver.kubeconfig, OPERATOR_NS) as operator,
        Releases(kube_apiserver.kubeconfig, PLATFORM_NS) as platform,
    ):
        yield operator, platform
        for releases, name in ((platform, "jeeves"), (operator, "jeeves-operator")):
            with contextlib.suppress(HelmFailure):  # already gone: a test uninstalled it
                releases.uninstall(name)


def existing(kube: KubeAPIServer, namespace: str, kind: str, selector: str = "") -> list[str]:
    args = ["get", kind, "-n", namespace, "-o", "jsonpath={.items[*].metadata.name}"]
    if selector:
        args += ["-l", selector]
    return kube.kubectl(*args).stdout.split()


def secret_value(kube: KubeAPIServer, name: str, key: str) -> str:
    found: Any = kube.get_json(f"/api/v1/namespaces/{PLATFORM_NS}/secrets/{name}")
    return str(found["data"][key])


def test_operator_chart_installs_and_uninstalls(
    kube_apiserver: KubeAPIServer, releases: tuple[Releases, Releases]
) -> None:
    operator, _ = releases
    values = {
        "etcd": {"endpoints": f"jeeves-etcd.{PLATFORM_NS}.svc:2379"},
        "image": {"registry": "localhost"},
    }
    started = time.monotonic()
    result = operator.install("jeeves-operator", "jeeves-operator", values, create_namespace=True)
    took = time.monotonic() - started
    print(f"\ncharts: operator chart installed in {took:.1f}s")
    assert result.status == "deployed"
    assert existing(kube_apiserver, OPERATOR_NS, "deployment") == ["jeeves-operator"]
    role: Any = kube_apiserver.get_json(
        "/apis/rbac.authorization.k8s.io/v1/clusterroles/jeeves-operator"
    )
    assert {
        "apiGroups": ["jeeves.dev"],
        "resources": ["jeevesactions"],
        "verbs": ["get", "list", "watch", "patch"],
    } in role["rules"]
    peering = kube_apiserver.kubectl("get", "clusterkopfpeering", "jeeves-operator", check=False)
    assert peering.returncode == 0, peering.stderr
    operator.uninstall("jeeves-operator")
    for kind in CLUSTER_SCOPED:
        gone = kube_apiserver.kubectl("get", kind, "jeeves-operator", check=False)
        assert "NotFound" in gone.stderr, kind
    crd = kube_apiserver.kubectl("get", "crd", "jeevesactions.jeeves.dev", check=False)
    assert crd.returncode == 0  # Helm never deletes a chart's crds/
    operator.install("jeeves-operator", "jeeves-operator", values)  # for the platform's actions


def test_platform_install_runs_migration_hooks_first_and_in_order(
    kube_apiserver: KubeAPIServer, releases: tuple[Releases, Releases]
) -> None:
    _, platform = releases
    with JobCompleter(kube_apiserver, PLATFORM_NS) as completer:
        started = time.monotonic()
        result = platform.install("jeeves", "jeeves", DEFAULT, create_namespace=True, timeout_s=240)
        print(f"\ncharts: platform installed (4 hook Jobs) in {time.monotonic() - started:.1f}s")
    assert result.status == "deployed"
    order = [seen["job"] for seen in completer.seen]
    assert order == [f"jeeves-{name}-migrate" for name in MIGRATED]
    for seen in completer.seen:
        assert seen["deployments"] == [], f"{seen['job']} ran after Deployments were created"
        assert "jeeves-migrate-database" in seen["secrets"]
        assert "jeeves-database" not in seen["secrets"]  # the release's own: not yet
    assert existing(kube_apiserver, PLATFORM_NS, "job") == []  # hook-succeeded: deleted
    secrets = existing(kube_apiserver, PLATFORM_NS, "secret", "app.kubernetes.io/part-of=jeeves")
    assert "jeeves-migrate-database" not in secrets
    assert {"jeeves-database", "jeeves-slack", "jeeves-data", "jeeves-tokens-key"} <= set(secrets)
    deployments = existing(kube_apiserver, PLATFORM_NS, "deployment")
    assert sorted(deployments) == sorted(
        f"jeeves-{n}" for n in ("gateway", "dispatcher", "poster", "data", "tokens")
    )
    budget: Any = kube_apiserver.get_json(
        f"/apis/policy/v1beta1/namespaces/{PLATFORM_NS}/poddisruptionbudgets/jeeves-gateway"
    )
    assert budget["apiVersion"] == "policy/v1beta1"  # chosen from what 1.20 serves
    actions = existing(kube_apiserver, PLATFORM_NS, "jeevesactions")
    assert sorted(actions) == ["echo", "memory", "weather"]


def test_upgrade_keeps_generated_secrets_and_rolls_the_pods(
    kube_apiserver: KubeAPIServer, releases: tuple[Releases, Releases]
) -> None:
    _, platform = releases
    kept = {
        (name, key): secret_value(kube_apiserver, name, key)
        for name, key in (
            ("jeeves-dispatcher-auth", "client-secret"),
            ("jeeves-tokens-key", "signing-key.pem"),
            ("jeeves-data", "encryption-key"),
        )
    }
    before: Any = kube_apiserver.get_json(
        f"/apis/apps/v1/namespaces/{PLATFORM_NS}/deployments/jeeves-gateway"
    )
    with JobCompleter(kube_apiserver, PLATFORM_NS) as completer:
        result = platform.upgrade(
            "jeeves", "jeeves", merge(DEFAULT, {"logLevel": "debug"}), timeout_s=240
        )
    assert result.revision == 2
    assert [seen["job"] for seen in completer.seen] == [f"jeeves-{n}-migrate" for n in MIGRATED]
    for (name, key), value in kept.items():
        assert secret_value(kube_apiserver, name, key) == value, f"{name} changed on upgrade"
    after: Any = kube_apiserver.get_json(
        f"/apis/apps/v1/namespaces/{PLATFORM_NS}/deployments/jeeves-gateway"
    )
    env = {
        e["name"]: e.get("value") for e in after["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["JEEVES_LOG_LEVEL"] == "debug"
    assert after["metadata"]["generation"] > before["metadata"]["generation"]


# The surfaces turned on by an upgrade: the dashboard (reading JeevesActions), jeeves-socket
# of a distributed app and the Strava action, with the Slack and Strava emulators so that the
# app token and Strava's client secret are generated by the chart.
SURFACES = {
    "slack": {"distributed": True},
    "jeeves-slack-emulator": {"enabled": True},
    "jeeves-strava-emulator": {"enabled": True},
    "jeeves-dashboard": {"enabled": True, "publicUrl": "https://jeeves-admin.example.com"},
    "jeeves-socket": {"enabled": True, "replicas": 1},
    "actions": {"strava": {"install": True}},
}


def can_i(kube: KubeAPIServer, account: str, verb: str, resource: str) -> bool:
    """What the API server's RBAC answers for ServiceAccount `account` of the platform."""
    answer = kube.kubectl(
        "auth", "can-i", verb, resource, "-n", PLATFORM_NS,
        f"--as=system:serviceaccount:{PLATFORM_NS}:{account}", check=False,
    )  # fmt: skip
    return answer.stdout.strip() == "yes"


def test_surfaces_keep_their_generated_secrets_and_the_dashboard_only_reads_actions(
    kube_apiserver: KubeAPIServer, releases: tuple[Releases, Releases]
) -> None:
    _, platform = releases
    values = merge(DEFAULT, SURFACES)
    with JobCompleter(kube_apiserver, PLATFORM_NS) as completer:
        result = platform.upgrade("jeeves", "jeeves", values, timeout_s=240)
    assert result.status == "deployed"
    jobs = [seen["job"] for seen in completer.seen]
    assert jobs == [f"jeeves-{n}-migrate" for n in (*MIGRATED, "dashboard", "socket")]
    generated = (
        ("jeeves-slack", "app-token"),
        ("jeeves-strava", "client-secret"),
        *((f"jeeves-{c}-auth", "client-secret") for c in ("dashboard", "socket", "strava")),
        ("jeeves-dispatcher-auth", "client-secret"),
    )
    kept = {(name, key): secret_value(kube_apiserver, name, key) for name, key in generated}
    with JobCompleter(kube_apiserver, PLATFORM_NS):
        platform.upgrade("jeeves", "jeeves", merge(values, {"logLevel": "debug"}), timeout_s=240)
    for (name, key), value in kept.items():
        assert secret_value(kube_apiserver, name, key) == value, f"{name} changed on upgrade"
    deployments = existing(kube_apiserver, PLATFORM_NS, "deployment")
    assert {"jeeves-dashboard", "jeeves-socket", "jeeves-strava-emulator"} <= set(deployments)
    assert "strava" in existing(kube_apiserver, PLATFORM_NS, "jeevesactions")
    # The dashboard's ServiceAccount, as the API server's RBAC judges it: read JeevesActions
    # of its namespace, nothing else; the other deployables may not even read those.
    assert can_i(kube_apiserver, "jeeves-dashboard", "list", "jeevesactions.jeeves.dev")
    assert can_i(kube_apiserver, "jeeves-dashboard", "get", "jeevesactions.jeeves.dev")
    for verb in ("create", "patch", "delete"):
        assert not can_i(kube_apiserver, "jeeves-dashboard", verb, "jeevesactions.jeeves.dev")
    assert not can_i(kube_apiserver, "jeeves-dashboard", "get", "secrets")
    assert not can_i(kube_apiserver, "jeeves-dashboard", "list", "pods")
    assert not can_i(kube_apiserver, "jeeves-gateway", "list", "jeevesactions.jeeves.dev")


def test_uninstall_leaves_nothing_of_the_release(
    kube_apiserver: KubeAPIServer, releases: tuple[Releases, Releases]
) -> None:
    _, platform = releases
    platform.uninstall("jeeves")
    for kind in (
        "deployment",
        "service",
        "secret",
        "configmap",
        "job",
        "jeevesactions",
        "networkpolicy",
        "serviceaccount",
        "role",
        "rolebinding",
        "ingress",
    ):
        left = existing(kube_apiserver, PLATFORM_NS, kind, "app.kubernetes.io/part-of=jeeves")
        assert left == [], f"{kind} left after uninstall: {left}"


def test_in_chart_database_first_install_migrates_in_plain_jobs(
    kube_apiserver: KubeAPIServer, releases: tuple[Releases, Releases]
) -> None:
    """No hook waits for the in-chart PostgreSQL (it is created with the release): the install
    returns without any Job completing, and its Jobs are the release's own."""
    _, platform = releases
    values = merge(SLACK, {"jeeves-postgres": {"enabled": True}, "jeeves-etcd": {"enabled": True}})
    result = platform.install("jeeves", "jeeves", values, timeout_s=120)
    assert result.status == "deployed"
    jobs = existing(kube_apiserver, PLATFORM_NS, "job")
    assert sorted(jobs) == sorted(f"jeeves-{n}-migrate-install" for n in MIGRATED)
    assert sorted(existing(kube_apiserver, PLATFORM_NS, "statefulset")) == [
        "jeeves-etcd",
        "jeeves-postgres",
    ]
    platform.uninstall("jeeves")
    assert existing(kube_apiserver, PLATFORM_NS, "job") == []
