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
SAMPLES = ("weather", "memory", "echo", "dice", "strava")
WORKLOADS = (
    "jeeves-weather",
    "jeeves-memory",
    "jeeves-memory-canary",
    "jeeves-echo",
    "jeeves-dice",
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


def drift_ticks(operator: OperatorProcess, name: str) -> int:
    """How many drift checks of JeevesAction `name` the operator has finished."""
    count = 0
    for line in operator.logs().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        obj = record.get("object") or {}
        if record.get("message") == "Timer 'drift' succeeded." and obj.get("name") == name:
            count += 1
    return count


def operator_write(obj: dict[str, Any]) -> list[tuple[str, str]]:
    """(operation, time) of the operator's managedFields entries: they move when it writes."""
    return [
        (str(e.get("operation")), str(e.get("time")))
        for e in obj["metadata"].get("managedFields") or []
        if e.get("manager") == "jeeves-operator"
    ]


def events_of(kube: KubeAPIServer, name: str, reason: str) -> list[str]:
    items = get_json(
        kube, "events", "-n", "default", "--field-selector", f"involvedObject.name={name}"
    )["items"]
    return [str(e.get("message")) for e in items if e.get("reason") == reason]


def test_normalised_quantities_are_not_drift(
    operator: OperatorProcess, installed: KubeAPIServer
) -> None:
    """The API server stores `cpu: 1000m` as `1`: that is the same value, not a hand edit.
    Server-side apply compares what the server compares, so nothing is re-applied, no
    DriftCorrected Event is posted and the operator's field-manager entry is never rewritten
    (the Deployment's resourceVersion moves on its own: the controller-manager writes status)."""
    manifest = {
        "apiVersion": "jeeves.dev/v1alpha1",
        "kind": "JeevesAction",
        "metadata": {"name": "quant", "namespace": "default"},
        "spec": {
            "keywords": ["quant"],
            "image": "jeeves-echo:0.1.0",
            "resources": {"requests": {"cpu": "1000m", "memory": "65536Ki"}},
        },
    }
    installed.kubectl("apply", "-f", "-", input=json.dumps(manifest))
    try:
        wait_until(partial(registered, installed, "quant"), what="quant registered")
        deployment = get_json(installed, "deployment", "jeeves-quant", "-n", "default")
        requests = deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]
        assert requests == {"cpu": "1", "memory": "64Mi"}  # as the server normalised them
        first = drift_ticks(operator, "quant")
        wait_until(lambda: drift_ticks(operator, "quant") >= first + 3, what="three drift checks")
        after = get_json(installed, "deployment", "jeeves-quant", "-n", "default")
        assert operator_write(after) == operator_write(deployment)
        assert events_of(installed, "quant", "DriftCorrected") == []
    finally:
        installed.kubectl("delete", "ja", "quant", "-n", "default", "--wait=false", check=False)


def test_keys_added_by_hand_are_removed(
    operator: OperatorProcess, installed: KubeAPIServer
) -> None:
    """Someone adds an env var and a label to an action's Deployment by hand (kubectl patch: a
    field manager of its own). The operator owns the whole object, so both are removed."""
    wait_until(partial(registered, installed, "echo"), what="echo registered")
    edit = [
        {"op": "add", "path": "/metadata/labels/added-by", "value": "hand"},
        {
            "op": "add",
            "path": "/spec/template/spec/containers/0/env/-",
            "value": {"name": "DEBUG_BACKDOOR", "value": "1"},
        },
    ]
    installed.kubectl(
        "patch", "deployment", "jeeves-echo", "-n", "default", "--type=json", "-p", json.dumps(edit)
    )

    def hand_edits_left() -> list[str]:
        deployment = get_json(installed, "deployment", "jeeves-echo", "-n", "default")
        env = deployment["spec"]["template"]["spec"]["containers"][0].get("env", [])
        left = [e["name"] for e in env if e["name"] == "DEBUG_BACKDOOR"]
        return left + [k for k in deployment["metadata"]["labels"] if k == "added-by"]

    assert hand_edits_left() == ["DEBUG_BACKDOOR", "added-by"]
    wait_until(lambda: not hand_edits_left(), timeout=30, what="the hand-added keys removed")
    assert any("put back to spec" in m for m in events_of(installed, "echo", "DriftCorrected"))


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
