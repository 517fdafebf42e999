"""The JeevesAction flow end to end on the fast tier: a real `jeeves-operator` process (kopf run)
and a real etcd, against the emulated API server (kube_emulator). Covers every reconcile path:
create, update, canary on/off, readiness, delete, keyword conflicts, drift, etcd outages,
restarts mid-reconcile, two replicas, and the operator's own endpoints.
"""

from __future__ import annotations

import asyncio
import json
import re
from functools import partial
from typing import Any

import pytest
from kube_harness import MANIFESTS, Cluster, EtcdView, Starter, eventually

pytestmark = pytest.mark.k8s

JA = "jeeves.dev/v1alpha1/jeevesactions"
DEPLOYMENTS = "apps/v1/deployments"
SERVICES = "/v1/services"
SAMPLES = MANIFESTS / "samples"


def condition(obj: dict[str, Any] | None, kind: str) -> dict[str, Any]:
    for item in ((obj or {}).get("status") or {}).get("conditions") or []:
        if item["type"] == kind:
            return dict(item)
    return {}


def action(name: str, keywords: list[str], namespace: str = "default", **spec: Any) -> str:
    return json.dumps(
        {
            "apiVersion": "jeeves.dev/v1alpha1",
            "kind": "JeevesAction",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "keywords": keywords,
                "image": f"jeeves-{name}:1",
                "replicas": 1,
                "port": 8080,
                "timeoutSeconds": 10,
                "enabled": True,
                **spec,
            },
        }
    )


async def registered(cluster: Cluster, name: str, namespace: str = "default") -> bool:
    return condition(cluster.get(JA, namespace, name), "Registered").get("status") == "True"


async def test_samples_become_running_registered_actions(
    cluster: Cluster, etcd: EtcdView, start_operator: Starter
) -> None:
    await cluster.install()
    await cluster.apply(str(SAMPLES))
    await start_operator()
    for name in ("weather", "memory", "echo"):
        await eventually(partial(registered, cluster, name), what=f"{name} registered")

    weather = cluster.get(JA, "default", "weather")
    assert weather is not None
    deployment = cluster.get(DEPLOYMENTS, "default", "jeeves-weather")
    service = cluster.get(SERVICES, "default", "jeeves-weather")
    assert deployment is not None
    assert service is not None
    for obj in (deployment, service):
        (owner,) = obj["metadata"]["ownerReferences"]
        assert owner["uid"] == weather["metadata"]["uid"]
        assert owner["controller"] is True
    assert deployment["spec"]["replicas"] == 2
    assert weather["status"]["url"] == "http://jeeves-weather.default.svc:8080"
    assert weather["status"]["observedGeneration"] == weather["metadata"]["generation"]
    assert condition(weather, "Ready")["reason"] == "Unavailable"  # no Pods in the emulator

    entry = await etcd.registration("weather")
    assert entry is not None
    assert {k: v for k, v in entry.items() if k not in ("commands", "schedule")} == {
        "keywords": ["weather", "forecast"],
        "url": "http://jeeves-weather.default.svc:8080",
        "description": "Current weather and a short forecast for a place.",
        "usage": "@jeeves weather in Lisbon",
        "timeout_s": 10,
        "enabled": True,
    }
    assert [c["format"] for c in entry["commands"]] == [
        "weather every day at {time}",
        "stop weather alerts",
    ]
    assert entry["schedule"]["timezone"] == "Europe/Lisbon"
    memory = await etcd.registration("memory")
    assert memory is not None
    assert memory["canary"] == {
        "url": "http://jeeves-memory-canary.default.svc:8080",
        "percent": 10,
    }
    assert cluster.get(DEPLOYMENTS, "default", "jeeves-memory-canary") is not None
    assert cluster.get(SERVICES, "default", "jeeves-memory-canary") is not None
    for reason in ("Created", "Registered"):
        await eventually(partial(_event_posted, cluster, reason), what=f"a {reason} event")


async def test_deployment_readiness_reaches_status(
    cluster: Cluster, etcd: EtcdView, start_operator: Starter
) -> None:
    await cluster.install()
    await cluster.apply(str(SAMPLES / "echo.yaml"))
    await start_operator()
    await eventually(lambda: registered(cluster, "echo"), what="echo registered")
    # The emulator has no deployment controller: play its part.
    await cluster.kubectl(
        "patch",
        "deployment",
        "jeeves-echo",
        "--subresource=status",
        "--type=merge",
        "-p",
        '{"status":{"readyReplicas":1,"replicas":1}}',
    )

    async def ready() -> bool:
        obj = cluster.get(JA, "default", "echo")
        return condition(obj, "Ready").get("status") == "True" and bool(
            obj and obj["status"]["readyReplicas"] == 1
        )

    await eventually(ready, what="Ready=True with readyReplicas=1")
    listed = await cluster.kubectl("get", "ja", "echo", "-o", "json")
    assert condition(json.loads(listed), "Progressing")["reason"] == "Complete"


async def test_spec_update_canary_on_and_off(
    cluster: Cluster, etcd: EtcdView, start_operator: Starter
) -> None:
    await cluster.install()
    await cluster.apply(str(SAMPLES / "memory.yaml"))
    await start_operator()
    await eventually(lambda: registered(cluster, "memory"), what="memory registered")

    patch = {"spec": {"image": "jeeves-memory:0.3.0", "keywords": ["remember"], "canary": None}}
    await cluster.kubectl("patch", "ja", "memory", "--type=merge", "-p", json.dumps(patch))

    async def rolled() -> bool:
        deployment = cluster.get(DEPLOYMENTS, "default", "jeeves-memory")
        image = deployment and deployment["spec"]["template"]["spec"]["containers"][0]["image"]
        entry = await etcd.registration("memory")
        return (
            image == "jeeves-memory:0.3.0"
            and entry == {**(entry or {}), "keywords": ["remember"]}
            and "canary" not in (entry or {})
        )

    await eventually(rolled, what="new image, keywords and no canary")
    await eventually(lambda: _absent(cluster, "jeeves-memory-canary"), what="canary removed")
    obj = cluster.get(JA, "default", "memory")
    assert obj is not None
    assert obj["status"]["observedGeneration"] == obj["metadata"]["generation"] == 2


async def _absent(cluster: Cluster, name: str, namespace: str = "default") -> bool:
    return (
        cluster.get(DEPLOYMENTS, namespace, name) is None
        and cluster.get(SERVICES, namespace, name) is None
    )


async def test_delete_unregisters_and_removes_everything(
    cluster: Cluster, etcd: EtcdView, start_operator: Starter
) -> None:
    await cluster.install()
    await cluster.apply(str(SAMPLES / "memory.yaml"))
    await start_operator()
    await eventually(lambda: registered(cluster, "memory"), what="memory registered")
    assert (cluster.get(JA, "default", "memory") or {})["metadata"]["finalizers"] == [
        "jeeves.dev/registration"
    ]

    await cluster.kubectl("delete", "ja", "memory", "--wait=false")

    async def gone() -> bool:
        return (
            cluster.get(JA, "default", "memory") is None
            and await etcd.registration("memory") is None
            and await _absent(cluster, "jeeves-memory")
            and await _absent(cluster, "jeeves-memory-canary")
        )

    await eventually(gone, what="action, workloads and registration gone")


async def test_keyword_claimed_by_another_action_is_rejected_whole(
    cluster: Cluster, etcd: EtcdView, start_operator: Starter
) -> None:
    await cluster.install()
    await cluster.apply(str(SAMPLES / "echo.yaml"))
    await start_operator()
    await eventually(lambda: registered(cluster, "echo"), what="echo registered")
    await cluster.apply(action("parrot", ["parrot", "echo"]))

    async def rejected() -> dict[str, Any]:
        ready = condition(cluster.get(JA, "default", "parrot"), "Ready")
        return ready if ready.get("reason") == "KeywordConflict" else {}

    ready = await eventually(rejected, what="parrot rejected")
    assert ready["status"] == "False"
    assert "'echo'" in ready["message"]
    assert "default/echo" in ready["message"]
    assert await _absent(cluster, "jeeves-parrot")
    assert await etcd.registration("parrot") is None
    assert (await etcd.registration("echo") or {})["keywords"] == ["echo"]

    # Once the older claimant goes, the younger one is applied (on its next drift check).
    await cluster.kubectl("delete", "ja", "echo", "--wait=false")
    await eventually(lambda: registered(cluster, "parrot"), what="parrot registered")
    assert cluster.get(DEPLOYMENTS, "default", "jeeves-parrot") is not None


async def test_hand_edits_are_corrected_within_the_drift_interval(
    cluster: Cluster, etcd: EtcdView, start_operator: Starter
) -> None:
    await cluster.install()
    await cluster.apply(str(SAMPLES / "echo.yaml"))
    await start_operator(JEEVES_DRIFT_INTERVAL="1")
    await eventually(lambda: registered(cluster, "echo"), what="echo registered")

    await cluster.kubectl(
        "patch", "deployment", "jeeves-echo", "--type=merge", "-p", '{"spec":{"replicas":5}}'
    )
    await cluster.kubectl("delete", "service", "jeeves-echo", "--wait=false")

    async def restored() -> bool:
        deployment = cluster.get(DEPLOYMENTS, "default", "jeeves-echo")
        service = cluster.get(SERVICES, "default", "jeeves-echo")
        return bool(deployment and deployment["spec"]["replicas"] == 1 and service)

    await eventually(restored, timeout=10, what="replicas and Service restored")
    await eventually(lambda: _event_posted(cluster, "DriftCorrected"), what="DriftCorrected event")


async def _event_posted(cluster: Cluster, reason: str) -> bool:
    """kopf posts Events from a queue of its own: they may trail the change they report."""
    return any(e.get("reason") == reason for e in cluster.emulator.objects("/v1/events"))


async def test_etcd_down_during_create_then_registered_when_back(
    cluster: Cluster, etcd: EtcdView, start_operator: Starter, etcd_server: Any
) -> None:
    await cluster.install()
    await start_operator()
    await asyncio.to_thread(etcd_server.stop)
    try:
        await cluster.apply(str(SAMPLES / "echo.yaml"))

        async def unregistered() -> dict[str, Any]:
            cond = condition(cluster.get(JA, "default", "echo"), "Registered")
            return cond if cond.get("reason") == "EtcdUnavailable" else {}

        cond = await eventually(unregistered, what="Registered=False/EtcdUnavailable")
        assert cond["status"] == "False"
        assert cluster.get(DEPLOYMENTS, "default", "jeeves-echo") is not None
    finally:
        await asyncio.to_thread(etcd_server.start)
    await eventually(lambda: registered(cluster, "echo"), what="echo registered after etcd")
    assert (await etcd.registration("echo") or {}).get("url") == (
        "http://jeeves-echo.default.svc:8080"
    )


async def test_restart_mid_reconcile_converges_without_duplicates(
    cluster: Cluster, etcd: EtcdView, start_operator: Starter
) -> None:
    await cluster.install()
    names = [f"act{i:02d}" for i in range(20)]
    await cluster.apply("\n---\n".join(action(n, [n]) for n in names))
    first = await start_operator(JEEVES_PRIORITY="10")
    await eventually(lambda: _any_deployment(cluster), what="the first Deployment")
    await first.kill()  # mid-reconcile: some actions done, some half-done, some untouched
    # A higher priority than the dead replica's, so it does not wait for that peer to expire.
    await start_operator(JEEVES_PRIORITY="20")

    async def converged() -> bool:
        return all([await registered(cluster, n) for n in names])

    await eventually(converged, timeout=30, what="all 20 registered")
    deployments = cluster.emulator.objects(DEPLOYMENTS, "default")
    services = cluster.emulator.objects(SERVICES, "default")
    assert sorted(d["metadata"]["name"] for d in deployments) == [f"jeeves-{n}" for n in names]
    assert sorted(s["metadata"]["name"] for s in services) == [f"jeeves-{n}" for n in names]
    assert await etcd.names() == names


async def _any_deployment(cluster: Cluster) -> bool:
    return bool(cluster.emulator.objects(DEPLOYMENTS, "default"))


async def test_two_replicas_one_acts_and_the_standby_takes_over(
    cluster: Cluster, etcd: EtcdView, start_operator: Starter
) -> None:
    await cluster.install()
    peering = {"JEEVES_PEERING_LIFETIME": "3"}
    low = await start_operator(JEEVES_PRIORITY="10", **peering)
    high = await start_operator(JEEVES_PRIORITY="20", **peering)
    await cluster.apply(str(SAMPLES / "echo.yaml"))
    await eventually(lambda: registered(cluster, "echo"), what="echo registered")
    assert "Handler 'create' succeeded" in high.logs()
    assert "Handler 'create' succeeded" not in low.logs()

    await high.kill()  # no goodbye: the standby must notice the heartbeat stop
    await cluster.apply(str(SAMPLES / "weather.yaml"))
    await eventually(lambda: registered(cluster, "weather"), what="weather registered by low")
    assert "Handler 'create' succeeded" in low.logs()


async def test_health_and_metrics_endpoints(
    cluster: Cluster, etcd: EtcdView, start_operator: Starter
) -> None:
    await cluster.install()
    await cluster.apply(str(SAMPLES / "echo.yaml"))
    operator = await start_operator()
    await eventually(lambda: registered(cluster, "echo"), what="echo registered")
    status, _ = await asyncio.to_thread(operator.get, "/healthz")
    assert status == 200
    status, _ = await asyncio.to_thread(operator.get, "/readyz")
    assert status == 200
    status, text = await asyncio.to_thread(operator.get, "/metrics")
    assert status == 200
    ok = re.search(r'^jeeves_operator_reconciles_total\{result="ok"\} (\d+)', text, re.M)
    assert ok is not None
    assert float(ok.group(1)) >= 1
    assert "jeeves_operator_reconcile_duration_seconds_bucket" in text


@pytest.mark.parametrize("standalone", [True, False], ids=["standalone", "peering"])
async def test_namespaced_mode_only_touches_its_namespaces(
    cluster: Cluster, etcd: EtcdView, start_operator: Starter, standalone: bool
) -> None:
    await cluster.install()
    for namespace in ("bots", "elsewhere"):
        await cluster.apply(
            json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        )
        await cluster.apply(action(f"{namespace}-echo", [namespace], namespace=namespace))
    if not standalone:  # namespaced peering: one KopfPeering per watched namespace
        peering = {
            "apiVersion": "kopf.dev/v1",
            "kind": "KopfPeering",
            "metadata": {"name": "jeeves-operator", "namespace": "bots"},
        }
        await cluster.apply(json.dumps(peering))
    await start_operator(JEEVES_NAMESPACES="bots", JEEVES_STANDALONE=str(standalone).lower())
    await eventually(lambda: registered(cluster, "bots-echo", "bots"), what="bots-echo registered")
    assert cluster.get(DEPLOYMENTS, "bots", "jeeves-bots-echo") is not None
    assert cluster.get(DEPLOYMENTS, "elsewhere", "jeeves-elsewhere-echo") is None
    assert await etcd.names() == ["bots-echo"]


async def test_a_missing_peering_object_is_said_once_and_in_readyz(
    cluster: Cluster, etcd: EtcdView, start_operator: Starter
) -> None:
    """As a new user would: only the CRDs applied, then the operator started. It must say why
    it does nothing, in one clear log line and in /readyz — and carry on once the object is
    there."""
    await cluster.kubectl("apply", "--validate=false", "-f", str(MANIFESTS / "crds"))
    await cluster.apply(str(SAMPLES / "echo.yaml"))
    operator = await start_operator()

    async def said() -> bool:
        return "peering object ClusterKopfPeering jeeves-operator is missing" in operator.logs()

    await eventually(said, what="the missing peering object to be named in the log")
    status, body = await asyncio.to_thread(operator.get, "/readyz")
    assert status == 503
    assert "ClusterKopfPeering jeeves-operator is missing" in body
    assert "JEEVES_STANDALONE" in body
    await cluster.kubectl("apply", "--validate=false", "-f", str(MANIFESTS / "rbac"))
    await eventually(
        lambda: registered(cluster, "echo"), what="echo registered once peering is there"
    )

    async def ready() -> bool:
        return (await asyncio.to_thread(operator.get, "/readyz"))[0] == 200

    await eventually(ready, what="/readyz once the peering object exists")
    lines = [line for line in operator.logs().splitlines() if "peering object" in line]
    assert len([line for line in lines if "is missing" in line]) == 1, "said once, not every loop"
