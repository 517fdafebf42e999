"""The emulator itself, driven by the real kubectl: CRD registration, apply/get/patch/delete,
list kinds, selectors, finalizers and owner-reference garbage collection. Only the API server
is faked (kube_emulator); kubectl is real.
"""

from __future__ import annotations

import json

import pytest
from kube_harness import MANIFESTS, Cluster

pytestmark = pytest.mark.k8s


async def test_crd_makes_its_kind_served_with_short_name(cluster: Cluster) -> None:
    await cluster.install()
    await cluster.apply(str(MANIFESTS / "samples" / "echo.yaml"))
    listed = json.loads(await cluster.kubectl("get", "ja", "-A", "-o", "json"))
    assert listed["kind"] == "List" or listed["kind"].endswith("List")
    assert [item["metadata"]["name"] for item in listed["items"]] == ["echo"]
    meta = listed["items"][0]["metadata"]
    assert meta["uid"]
    assert meta["resourceVersion"]
    assert meta["generation"] == 1


async def test_patch_bumps_generation_only_for_spec(cluster: Cluster) -> None:
    await cluster.install()
    await cluster.apply(str(MANIFESTS / "samples" / "echo.yaml"))
    await cluster.kubectl("patch", "ja", "echo", "--type=merge", "-p", '{"spec":{"replicas":3}}')
    await cluster.kubectl("label", "ja", "echo", "tier=test")
    obj = cluster.get("jeeves.dev/v1alpha1/jeevesactions", "default", "echo")
    assert obj is not None
    assert obj["metadata"]["generation"] == 2
    assert obj["metadata"]["labels"] == {"tier": "test"}


def _configmap(name: str, namespace: str = "default", **meta: object) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "data": {"k": "v"},
            "metadata": {"name": name, "namespace": namespace, **meta},
        }
    )


async def test_label_selector_and_namespaces(cluster: Cluster) -> None:
    # kubectl `create <kind>` speaks protobuf for built-in kinds; the emulator only JSON: apply.
    await cluster.apply(
        json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bots"}})
    )
    await cluster.apply(_configmap("a", "bots"))
    await cluster.kubectl("label", "configmap", "a", "-n", "bots", "pick=yes")
    await cluster.apply(_configmap("b", "bots"))
    picked = await cluster.kubectl("get", "cm", "-n", "bots", "-l", "pick=yes", "-o", "name")
    assert picked.split() == ["configmap/a"]
    names = await cluster.kubectl("get", "namespaces", "-o", "name")
    assert "namespace/bots" in names.split()


async def test_delete_waits_for_finalizers_then_collects_dependents(cluster: Cluster) -> None:
    await cluster.apply(_configmap("owner"))
    owner = cluster.get("/v1/configmaps", "default", "owner")
    assert owner is not None
    dependent = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "dependent",
            "namespace": "default",
            "ownerReferences": [
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "name": "owner",
                    "uid": owner["metadata"]["uid"],
                }
            ],
        },
    }
    await cluster.apply(json.dumps(dependent))
    await cluster.kubectl(
        "patch", "cm", "owner", "--type=merge", "-p", '{"metadata":{"finalizers":["test/hold"]}}'
    )
    await cluster.kubectl("delete", "cm", "owner", "--wait=false")
    held = cluster.get("/v1/configmaps", "default", "owner")
    assert held is not None
    assert held["metadata"]["deletionTimestamp"]
    await cluster.kubectl(
        "patch", "cm", "owner", "--type=merge", "-p", '{"metadata":{"finalizers":null}}'
    )
    assert cluster.get("/v1/configmaps", "default", "owner") is None
    assert cluster.get("/v1/configmaps", "default", "dependent") is None
