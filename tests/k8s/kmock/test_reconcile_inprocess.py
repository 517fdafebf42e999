"""The reconcile layer called in-process (no kopf): every branch of `reconcile.reconcile`,
`finalize` and `reflect_deployment` against the emulated API server (kube_emulator, faked) and
the real etcd (`etcd_server`). kopf's part (handlers, retries, status patches) is covered by
test_operator_flow.py with the real process.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from kube_emulator import Gate
from kube_harness import MANIFESTS, Cluster, EtcdView, eventually

from jeeves.localstack.etcd import EtcdServer
from jeeves_operator import reconcile
from jeeves_operator.claims import Claim, claim_keys, claim_of
from jeeves_operator.k8s import Kube, load_configuration
from jeeves_operator.models import ActionRef, ActionSpec
from jeeves_operator.reconcile import Deps
from jeeves_operator.registry import Registry
from jeeves_operator.settings import OperatorSettings

pytestmark = pytest.mark.k8s

DEPLOYMENTS = "apps/v1/deployments"
SERVICES = "/v1/services"
JA = "jeeves.dev/v1alpha1/jeevesactions"


@pytest_asyncio.fixture(name="deps")
async def fixture_deps(
    cluster: Cluster, etcd_server: EtcdServer, env_name: str
) -> AsyncIterator[Deps]:
    settings = OperatorSettings(
        env=env_name, etcd_endpoints=(etcd_server.endpoint,), etcd_timeout=0.5, standalone=True
    )
    kube = Kube(load_configuration(str(cluster.kubeconfig)))
    registry = Registry(settings.etcd_endpoints, settings.etcd_prefix, settings.etcd_timeout)
    try:
        yield Deps(settings=settings, kube=kube, registry=registry)
    finally:
        await kube.close()
        await registry.close()


async def create_action(cluster: Cluster, sample: str) -> tuple[ActionSpec, ActionRef]:
    """Apply a sample and read it back with the CRD's defaults filled in (as the server would)."""
    await cluster.install()
    await cluster.apply(str(MANIFESTS / "samples" / f"{sample}.yaml"))
    obj = cluster.get(JA, "default", sample)
    assert obj is not None
    defaults = {"replicas": 1, "port": 8080, "timeoutSeconds": 10, "enabled": True}
    spec: ActionSpec = {**defaults, **obj["spec"]}  # type: ignore[typeddict-item]
    meta = obj["metadata"]
    ref = ActionRef(
        meta["name"], meta["namespace"], meta["uid"], meta["generation"], meta["creationTimestamp"]
    )
    return spec, ref


def claims_of(*pairs: tuple[ActionSpec, ActionRef]) -> dict[str, list[Claim]]:
    """What kopf's `claims_index` holds for these actions."""
    index: dict[str, list[Claim]] = {}
    for spec, ref in pairs:
        for key in claim_keys(spec, ref):
            index.setdefault(key, []).append(claim_of(ref))
    return index


def reasons(outcome: reconcile.Outcome) -> dict[str, str]:
    return {c["type"]: c["reason"] for c in outcome.status["conditions"]}


async def test_first_reconcile_creates_then_second_changes_nothing(
    cluster: Cluster, deps: Deps, etcd: EtcdView
) -> None:
    spec, ref = await create_action(cluster, "echo")
    first = await reconcile.reconcile(spec, ref, {}, claims_of((spec, ref)), deps)
    assert first.result == "ok"
    assert {n.reason for n in first.notes} == {"Created", "Registered"}
    assert reasons(first)["Registered"] == "Registered"
    second = await reconcile.reconcile(spec, ref, first.status, claims_of((spec, ref)), deps)
    assert second.notes == []
    assert reasons(second)["Registered"] == "UpToDate"
    assert [c["lastTransitionTime"] for c in second.status["conditions"]] == [
        c["lastTransitionTime"] for c in first.status["conditions"]
    ]
    assert await etcd.names() == ["echo"]


async def test_object_owned_by_someone_else_is_not_taken_over(
    cluster: Cluster, deps: Deps, etcd: EtcdView
) -> None:
    spec, ref = await create_action(cluster, "echo")
    helm_made = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "jeeves-echo",
            "namespace": "default",
            "labels": {"app.kubernetes.io/managed-by": "Helm"},
        },
        "spec": {"replicas": 3},
    }
    await cluster.apply(json.dumps(helm_made))
    outcome = await reconcile.reconcile(spec, ref, {}, claims_of((spec, ref)), deps)
    assert outcome.result == "rejected"
    assert reasons(outcome)["Ready"] == "NameTaken"
    deployment = cluster.get(DEPLOYMENTS, "default", "jeeves-echo")
    assert deployment is not None
    assert deployment["spec"] == {"replicas": 3}
    assert await etcd.registration("echo") is None


async def test_keyword_conflict_applies_nothing(
    cluster: Cluster, deps: Deps, etcd: EtcdView
) -> None:
    echo = await create_action(cluster, "echo")
    spec = echo[0]
    younger = ActionRef("parrot", "default", "uid-parrot", 1, "2999-01-01T00:00:00Z")
    parrot: ActionSpec = {**spec, "keywords": ["echo", "parrot"]}
    outcome = await reconcile.reconcile(
        parrot, younger, {}, claims_of(echo, (parrot, younger)), deps
    )
    assert outcome.result == "rejected"
    assert reasons(outcome)["Registered"] == "KeywordConflict"
    assert cluster.emulator.objects(DEPLOYMENTS) == []
    assert cluster.emulator.objects(SERVICES) == []
    assert await etcd.names() == []


async def test_etcd_down_applies_workloads_and_asks_for_a_retry(
    cluster: Cluster, deps: Deps, etcd: EtcdView, etcd_server: EtcdServer
) -> None:
    spec, ref = await create_action(cluster, "echo")
    await asyncio.to_thread(etcd_server.stop)
    try:
        outcome = await reconcile.reconcile(spec, ref, {}, claims_of((spec, ref)), deps)
    finally:
        await asyncio.to_thread(etcd_server.start)
    assert outcome.retry
    assert reasons(outcome)["Registered"] == "EtcdUnavailable"
    assert reasons(outcome)["Ready"] == "Unavailable"
    assert cluster.get(DEPLOYMENTS, "default", "jeeves-echo") is not None

    async def retried() -> bool:  # the client reconnects with backoff once etcd is back
        again = await reconcile.reconcile(spec, ref, outcome.status, claims_of((spec, ref)), deps)
        return again.result == "ok"

    await eventually(retried, what="registered once etcd is back")
    assert await etcd.names() == ["echo"]


async def test_dropping_the_canary_deletes_its_objects_and_entry(
    cluster: Cluster, deps: Deps, etcd: EtcdView
) -> None:
    spec, ref = await create_action(cluster, "memory")
    await reconcile.reconcile(spec, ref, {}, claims_of((spec, ref)), deps)
    assert (await etcd.registration("memory") or {}).get("canary")
    plain: ActionSpec = {k: v for k, v in spec.items() if k != "canary"}  # type: ignore[assignment]
    edited = dataclasses.replace(ref, generation=2)  # what the API server does on a spec change
    outcome = await reconcile.reconcile(plain, edited, {}, claims_of((plain, edited)), deps)
    assert outcome.result == "ok"
    assert cluster.get(DEPLOYMENTS, "default", "jeeves-memory-canary") is None
    assert cluster.get(SERVICES, "default", "jeeves-memory-canary") is None
    assert "canary" not in (await etcd.registration("memory") or {})


async def test_finalize_removes_only_its_own_registration(
    cluster: Cluster, deps: Deps, etcd: EtcdView
) -> None:
    spec, ref = await create_action(cluster, "echo")
    await reconcile.reconcile(spec, ref, {}, claims_of((spec, ref)), deps)
    elsewhere = ActionRef("echo", "other", "uid-other")
    assert await reconcile.finalize(spec, elsewhere, deps) is None
    assert await etcd.names() == ["echo"]
    note = await reconcile.finalize(spec, ref, deps)
    assert note is not None
    assert note.reason == "Unregistered"
    assert await etcd.names() == []


async def test_deployment_readiness_is_copied_into_status(cluster: Cluster, deps: Deps) -> None:
    spec, ref = await create_action(cluster, "echo")
    await reconcile.reconcile(spec, ref, {}, claims_of((spec, ref)), deps)  # writes the status
    deployment = cluster.get(DEPLOYMENTS, "default", "jeeves-echo")
    assert deployment is not None
    deployment["status"] = {"readyReplicas": 1}
    assert not await reconcile.reflect_deployment(deployment, deps, known_ready=1)
    assert await reconcile.reflect_deployment(deployment, deps)
    action = cluster.get(JA, "default", "echo")
    assert action is not None
    assert action["status"]["readyReplicas"] == 1
    ready = next(c for c in action["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True"


async def test_refused_object_is_reported_and_nothing_registered(
    cluster: Cluster, deps: Deps, etcd: EtcdView
) -> None:
    spec, ref = await create_action(cluster, "echo")
    message = "Internal error occurred: failed to allocate a serviceIP: range is full"
    cluster.emulator.faults["PATCH", "/v1/services"] = (500, message)
    outcome = await reconcile.reconcile(spec, ref, {}, claims_of((spec, ref)), deps)
    assert outcome.result == "error"
    ready = next(c for c in outcome.status["conditions"] if c["type"] == "Ready")
    assert ready["reason"] == "ApplyFailed"
    assert "range is full" in ready["message"]
    assert await etcd.registration("echo") is None

    del cluster.emulator.faults["PATCH", "/v1/services"]
    healed = await reconcile.reconcile(spec, ref, outcome.status, claims_of((spec, ref)), deps)
    assert healed.result == "ok"
    assert await etcd.names() == ["echo"]


async def test_a_status_write_never_undoes_a_newer_readiness(cluster: Cluster, deps: Deps) -> None:
    """A reconcile computes the status from what it saw (0 replicas ready); the Deployment
    becomes ready and its event is reflected (1 ready) while that reconcile is still writing.
    Status writes happen under the action's lock, so the stale write lands first and the newer
    readiness after it: the action ends up Ready, never back at 0."""
    spec, ref = await create_action(cluster, "echo")
    first = await reconcile.reconcile(spec, ref, {}, claims_of((spec, ref)), deps)
    held = Gate()
    cluster.emulator.gates["PATCH", JA, "status"] = held
    stale = asyncio.create_task(
        reconcile.reconcile(spec, ref, {}, claims_of((spec, ref)), deps, "drift")
    )
    await held.reached.wait()  # the reconcile is writing its (0 ready) status
    assert first.status["readyReplicas"] == 0
    deployment = cluster.get(DEPLOYMENTS, "default", "jeeves-echo")
    assert deployment is not None
    deployment["status"] = {"readyReplicas": 1}
    cluster.emulator.gates.clear()
    reflect = asyncio.create_task(reconcile.reflect_deployment(deployment, deps))
    done, _ = await asyncio.wait({reflect}, timeout=0.5)
    assert not done, "the readiness write waits for the reconcile holding the lock"
    held.open()
    await stale
    assert await reflect
    action = cluster.get(JA, "default", "echo")
    assert action is not None
    assert action["status"]["readyReplicas"] == 1


async def test_a_secret_not_allowed_is_never_put_into_a_pod(
    cluster: Cluster, deps: Deps, etcd: EtcdView
) -> None:
    spec, ref = await create_action(cluster, "echo")
    leaky: ActionSpec = {
        **spec,
        "env": [{"name": "STOLEN", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}],
    }
    outcome = await reconcile.reconcile(leaky, ref, {}, claims_of((leaky, ref)), deps)
    assert outcome.result == "rejected"
    assert reasons(outcome)["Ready"] == "SecretNotAllowed"
    assert cluster.emulator.objects(DEPLOYMENTS) == []
    assert await etcd.names() == []
