"""The JeevesAction flow on the real API tier: kube-apiserver + kube-controller-manager 1.20
(`kube_apiserver`), the real `jeeves-operator` process (kopf run) authenticated as its own
ServiceAccount with the RBAC from manifests/rbac (so least privilege is exercised), and a real
etcd for registrations (`etcd_server`). Nothing is faked; there is no kubelet, so Pods stay
Pending and the actions report Ready=False/Unavailable.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import etcd3aio
import pytest
import pytest_asyncio

from jeeves.localstack.etcd import EtcdServer
from k8s.kmock.operator_process import OperatorProcess

from .apiserver_tier import KubeAPIServer

pytestmark = pytest.mark.k8s

REPO = Path(__file__).resolve().parents[3]
MANIFESTS = REPO / "manifests"
SAMPLES = ("weather", "memory", "echo", "dice", "deploy", "strava")
WORKLOADS = (
    "jeeves-weather",
    "jeeves-memory",
    "jeeves-memory-canary",
    "jeeves-echo",
    "jeeves-dice",
    "jeeves-deploy",
    "jeeves-strava",
)


def wait_until(check: Callable[[], Any], *, timeout: float = 60, what: str) -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")


def get_json(kube: KubeAPIServer, *args: str) -> dict[str, Any]:
    return dict(json.loads(kube.kubectl("get", *args, "-o", "json").stdout))


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    for item in (obj.get("status") or {}).get("conditions") or []:
        if item["type"] == kind:
            return dict(item)
    return {}


def service_account_kubeconfig(kube: KubeAPIServer, path: Path) -> Path:
    """A kubeconfig holding the jeeves-operator ServiceAccount's token (1.20 token Secret)."""

    def secret_name() -> str:
        account = get_json(kube, "serviceaccount", "jeeves-operator", "-n", "jeeves-system")
        return str((account.get("secrets") or [{}])[0].get("name", ""))

    name = wait_until(secret_name, what="the ServiceAccount's token Secret")
    secret = get_json(kube, "secret", name, "-n", "jeeves-system")
    token = base64.b64decode(secret["data"]["token"]).decode()
    ca = base64.b64encode(kube.pki.ca_cert.read_bytes()).decode()
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "operator",
                "clusters": [
                    {
                        "name": "real",
                        "cluster": {"server": kube.server, "certificate-authority-data": ca},
                    }
                ],
                "users": [{"name": "operator", "user": {"token": token}}],
                "contexts": [
                    {"name": "operator", "context": {"cluster": "real", "user": "operator"}}
                ],
            }
        )
    )
    return path


@pytest.fixture(name="installed", scope="module")
def fixture_installed(kube_apiserver: KubeAPIServer) -> Iterator[KubeAPIServer]:
    """CRDs, RBAC and the samples, applied with the one command the docs give."""
    command = (
        "apply",
        "-f",
        f"{MANIFESTS}/crds/",
        "-f",
        f"{MANIFESTS}/rbac/",
        "-f",
        f"{MANIFESTS}/samples/",
    )
    kube_apiserver.kubectl(*command)
    try:
        yield kube_apiserver
    finally:
        kube_apiserver.kubectl(
            "delete", "ja", "--all", "-n", "default", "--wait=false", check=False
        )


@pytest.fixture(name="env_name", scope="module")
def fixture_env_name() -> str:
    return f"real{uuid.uuid4().hex[:8]}"


@pytest_asyncio.fixture(name="operator", scope="module")
async def fixture_operator(
    installed: KubeAPIServer,
    etcd_server: EtcdServer,
    env_name: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[OperatorProcess]:
    workdir = tmp_path_factory.mktemp("operator")
    kubeconfig = service_account_kubeconfig(installed, workdir / "kubeconfig")
    process = OperatorProcess(
        kubeconfig,
        etcd_server.endpoint,
        env_name,
        workdir / "operator.log",
        JEEVES_DRIFT_INTERVAL="2",
        # The Strava sample reads its client secret from jeeves-strava (the chart's default).
        JEEVES_ACTION_SECRETS="jeeves-strava",
    )
    await process.start()
    try:
        yield process
    finally:
        await process.stop()
        print(f"--- operator log (tail) ---\n{process.logs()[-6000:]}")


@pytest_asyncio.fixture(name="registry", scope="module")
async def fixture_registry(etcd_server: EtcdServer) -> AsyncIterator[Any]:
    async with etcd3aio.Etcd3Client([etcd_server.endpoint]) as client:
        yield client


async def registration(client: Any, env: str, name: str) -> dict[str, Any] | None:
    response = await client.kv.get(f"/jeeves/{env}/actions/{name}", timeout=2)
    return json.loads(response.kvs[0].value) if response.kvs else None


def registered(kube: KubeAPIServer, name: str) -> bool:
    action = get_json(kube, "ja", name, "-n", "default")
    return condition(action, "Registered").get("status") == "True"


async def test_applied_samples_run_and_register(
    operator: OperatorProcess, installed: KubeAPIServer, registry: Any, env_name: str
) -> None:
    for name in SAMPLES:
        wait_until(partial(registered, installed, name), what=f"{name} registered")
    actions = {
        a["metadata"]["name"]: a for a in get_json(installed, "ja", "-n", "default")["items"]
    }
    deployments = {
        d["metadata"]["name"]: d
        for d in get_json(
            installed,
            "deployments",
            "-n",
            "default",
            "-l",
            "app.kubernetes.io/managed-by=jeeves-operator",
        )["items"]
    }
    services = {
        s["metadata"]["name"]: s
        for s in get_json(
            installed,
            "services",
            "-n",
            "default",
            "-l",
            "app.kubernetes.io/managed-by=jeeves-operator",
        )["items"]
    }
    assert sorted(deployments) == sorted(WORKLOADS)
    assert sorted(services) == sorted(WORKLOADS)
    for name, obj in [*deployments.items(), *services.items()]:
        (owner,) = obj["metadata"]["ownerReferences"]
        action = actions[obj["metadata"]["labels"]["jeeves.dev/action"]]
        assert owner["uid"] == action["metadata"]["uid"], name

    # Defaults come from the CRD schema, applied by the API server.
    echo = actions["echo"]
    assert echo["spec"]["replicas"] == 1
    assert echo["spec"]["port"] == 8080
    assert echo["spec"]["timeoutSeconds"] == 10
    assert echo["spec"]["enabled"] is True
    assert echo["status"]["url"] == "http://jeeves-echo.default.svc:8080"
    assert echo["status"]["observedGeneration"] == echo["metadata"]["generation"]
    assert condition(echo, "Ready")["reason"] == "Unavailable"  # no kubelet, Pods stay Pending

    def replicasets() -> list[str]:
        items = get_json(installed, "replicasets", "-n", "default")["items"]
        return sorted(
            i["metadata"]["ownerReferences"][0]["name"]
            for i in items
            if i["metadata"].get("ownerReferences")
        )

    owners = wait_until(
        lambda: set(WORKLOADS) <= set(replicasets()) and replicasets(),
        what="ReplicaSets from the controller-manager",
    )
    assert set(WORKLOADS) <= set(owners)

    for name in SAMPLES:
        entry = await registration(registry, env_name, name)
        assert entry is not None, name
        assert entry["url"] == f"http://jeeves-{name}.default.svc:8080"
    memory = await registration(registry, env_name, "memory")
    assert memory is not None
    assert memory["canary"] == {
        "url": "http://jeeves-memory-canary.default.svc:8080",
        "percent": 10,
    }
    # Commands, policy and schedule travel to the dispatcher through the registry entry.
    deploy = await registration(registry, env_name, "deploy")
    assert deploy is not None
    assert [c["name"] for c in deploy["commands"]] == ["deploy", "rollback", "freeze"]
    assert deploy["policy"]["approvers"] == {"userGroups": ["S0LEADS"]}
    weather = await registration(registry, env_name, "weather")
    assert weather is not None
    assert weather["schedule"] == {
        "cron": "0 8 * * 1-5",
        "timezone": "Europe/Lisbon",
        "channel": "C0TEAMROOM",
        "text": "weather in Lisbon",
    }


async def test_a_declaration_the_dispatcher_could_not_use_is_refused(
    operator: OperatorProcess,
    installed: KubeAPIServer,
    kube_namespace: str,
    registry: Any,
    env_name: str,
) -> None:
    """Past the schema, the operator's semantic check: a clear condition, nothing applied."""
    manifest = {
        "apiVersion": "jeeves.dev/v1alpha1",
        "kind": "JeevesAction",
        "metadata": {"name": "nightly", "namespace": kube_namespace},
        "spec": {
            "keywords": ["nightly"],
            "image": "jeeves-echo:1",
            "schedule": "0 3 * * *",
            "scheduleTimezone": "Europe/Lisboa",
            "scheduleChannel": "C0NIGHT",
        },
    }
    installed.kubectl("apply", "-f", "-", input=json.dumps(manifest))

    def refused() -> dict[str, Any]:
        action = get_json(installed, "ja", "nightly", "-n", kube_namespace)
        ready = condition(action, "Ready")
        return ready if ready.get("reason") == "InvalidSchedule" else {}

    ready = wait_until(refused, what="Ready=False/InvalidSchedule")
    assert ready["status"] == "False"
    assert ready["message"] == (
        "spec.scheduleTimezone: `Europe/Lisboa` is not a time zone: use an IANA name like "
        "Europe/Lisbon"
    )
    deployments = get_json(installed, "deployments", "-n", kube_namespace)["items"]
    assert [d["metadata"]["name"] for d in deployments] == []
    assert await registration(registry, env_name, "nightly") is None


def test_kubectl_get_ja_shows_printer_columns(
    operator: OperatorProcess, installed: KubeAPIServer
) -> None:
    wait_until(lambda: registered(installed, "weather"), what="weather registered")
    table = installed.kubectl("get", "ja", "-n", "default").stdout.splitlines()
    assert table[0].split() == ["NAME", "KEYWORDS", "READY", "URL", "AGE"]
    weather = next(line for line in table if line.startswith("weather "))
    assert '["weather","forecast"]' in weather
    assert "http://jeeves-weather.default.svc:8080" in weather
    assert " False " in weather


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"keywords": ["ok"]}, "spec.image: Required value"),
        (
            {"keywords": ["Two  Words"], "image": "jeeves-x:1"},
            # 1.20 names the array, not the item; newer servers say spec.keywords[0].
            'Invalid value: "Two  Words": spec.keywords',
        ),
        ({"keywords": [], "image": "jeeves-x:1"}, "spec.keywords in body should have at least 1"),
        ({"keywords": ["x"], "image": "Not An Image"}, "spec.image in body should match"),
        (
            {
                "keywords": ["x"],
                "image": "jeeves-x:1",
                "canary": {"image": "jeeves-x:2", "percent": 150},
            },
            "spec.canary.percent in body should be less than or equal to 100",
        ),
        (
            {
                "keywords": ["x"],
                "image": "jeeves-x:1",
                "commands": [{"format": "x {a}", "params": [{"name": "a", "type": "float"}]}],
            },
            'Unsupported value: "float"',
        ),
        (
            {"keywords": ["x"], "image": "jeeves-x:1", "policy": {"allow": {"users": ["bob"]}}},
            "spec.policy.allow.users",
        ),
        (
            {"keywords": ["x"], "image": "jeeves-x:1", "schedule": "every day"},
            "spec.schedule in body should match",
        ),
    ],
)
def test_invalid_actions_are_rejected_with_the_schema_message(
    installed: KubeAPIServer, kube_namespace: str, spec: dict[str, Any], message: str
) -> None:
    manifest = {
        "apiVersion": "jeeves.dev/v1alpha1",
        "kind": "JeevesAction",
        "metadata": {"name": "bad", "namespace": kube_namespace},
        "spec": spec,
    }
    # --validate=false: the API server itself must refuse, whatever the client checks.
    result = installed.kubectl(
        "apply", "--validate=false", "-f", "-", input=json.dumps(manifest), check=False
    )
    assert result.returncode != 0
    assert "is invalid" in result.stderr
    assert message in result.stderr
    client_side = installed.kubectl("apply", "-f", "-", input=json.dumps(manifest), check=False)
    assert client_side.returncode != 0


def test_scaled_by_hand_is_put_back(operator: OperatorProcess, installed: KubeAPIServer) -> None:
    wait_until(partial(registered, installed, "echo"), what="echo registered")
    installed.kubectl("scale", "deployment", "jeeves-echo", "-n", "default", "--replicas=4")

    def replicas() -> int:
        return int(
            get_json(installed, "deployment", "jeeves-echo", "-n", "default")["spec"]["replicas"]
        )

    wait_until(lambda: replicas() == 1, timeout=30, what="replicas back to 1 (drift interval 2 s)")


async def test_delete_removes_everything_and_unregisters(
    operator: OperatorProcess, installed: KubeAPIServer, registry: Any, env_name: str
) -> None:
    for name in SAMPLES:
        wait_until(partial(registered, installed, name), what=f"{name} registered")
    installed.kubectl("delete", "-f", f"{MANIFESTS}/samples/", "--wait=true", timeout=120)

    def leftovers() -> list[str]:
        names = []
        for kind in ("ja", "deployments", "services", "replicasets"):
            items = get_json(
                installed,
                kind,
                "-n",
                "default",
                "-l" if kind != "ja" else "-A",
                *(["app.kubernetes.io/managed-by=jeeves-operator"] if kind != "ja" else []),
            )["items"]
            names += [
                f"{kind}/{i['metadata']['name']}"
                for i in items
                if kind != "ja" or i["metadata"]["namespace"] == "default"
            ]
        return names

    wait_until(lambda: not leftovers(), timeout=90, what="everything garbage-collected")
    for name in SAMPLES:
        assert await registration(registry, env_name, name) is None
