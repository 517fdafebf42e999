"""Smoke tests proving the real API tier works: CRDs with OpenAPI validation, the deployment and
replicaset controllers, and owner-reference garbage collection through a custom resource.

Owns nothing but these checks; JeevesAction tests live beside it and use the same fixture.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from .apiserver_tier import KubeAPIServer

pytestmark = pytest.mark.k8s

GROUP = "smoke.jeeves.dev"
CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"widgets.{GROUP}"},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["size"],
                                "properties": {
                                    "size": {"type": "integer", "minimum": 1, "maximum": 10},
                                    "colour": {"type": "string", "default": "blue"},
                                },
                            }
                        },
                    }
                },
            }
        ],
    },
}


def poll(check: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.25) -> Any:
    """Return the first truthy value of `check()`; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def get(kube: KubeAPIServer, *args: str) -> dict[str, Any] | None:
    """`kubectl get -o json`, or None when the object does not exist."""
    result = kube.kubectl("get", *args, "-o", "json", check=False)
    if result.returncode != 0:
        if "NotFound" in result.stderr:
            return None
        raise AssertionError(f"kubectl get {' '.join(args)}: {result.stderr}")
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


@pytest.fixture(name="widget_crd", scope="module")
def fixture_widget_crd(kube_apiserver: KubeAPIServer) -> str:
    """The Widget CRD, applied and Established."""
    kube_apiserver.kubectl("apply", "-f", "-", input=json.dumps(CRD))
    kube_apiserver.kubectl(
        "wait", "--for=condition=Established", f"crd/widgets.{GROUP}", "--timeout=60s"
    )
    return f"widgets.{GROUP}"


def widget(namespace: str, name: str, spec: dict[str, Any]) -> str:
    return json.dumps(
        {
            "apiVersion": f"{GROUP}/v1",
            "kind": "Widget",
            "metadata": {"name": name, "namespace": namespace},
            "spec": spec,
        }
    )


def deployment_owned_by(namespace: str, owner: dict[str, Any]) -> str:
    labels = {"app": "smoke"}
    return json.dumps(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "smoke",
                "namespace": namespace,
                "ownerReferences": [
                    {
                        "apiVersion": owner["apiVersion"],
                        "kind": owner["kind"],
                        "name": owner["metadata"]["name"],
                        "uid": owner["metadata"]["uid"],
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "app", "image": "example.invalid/smoke:1"}]},
                },
            },
        }
    )


def test_server_answers_with_its_version(kube_apiserver: KubeAPIServer) -> None:
    version = kube_apiserver.get_json("/version")
    assert isinstance(version, dict)
    assert version["gitVersion"].startswith("v1.20.")
    assert kube_apiserver.server.startswith("https://127.0.0.1:")
    assert kube_apiserver.kubeconfig.is_file()


def test_crd_defaults_and_schema_rejection(
    kube_apiserver: KubeAPIServer, widget_crd: str, kube_namespace: str
) -> None:
    kube_apiserver.kubectl("apply", "-f", "-", input=widget(kube_namespace, "ok", {"size": 3}))
    created = get(kube_apiserver, "widget", "ok", "-n", kube_namespace)
    assert created is not None
    assert created["spec"] == {"size": 3, "colour": "blue"}  # the schema default applied

    rejected = kube_apiserver.kubectl(
        "apply", "-f", "-", input=widget(kube_namespace, "bad", {"size": 99}), check=False
    )
    assert rejected.returncode != 0
    assert "spec.size" in rejected.stderr
    assert "should be less than or equal to 10" in rejected.stderr
    missing = kube_apiserver.kubectl(
        "apply", "-f", "-", input=widget(kube_namespace, "bad", {"colour": "red"}), check=False
    )
    assert missing.returncode != 0
    assert "spec.size: Required value" in missing.stderr
    assert get(kube_apiserver, "widget", "bad", "-n", kube_namespace) is None


def test_server_side_apply(kube_apiserver: KubeAPIServer, kube_namespace: str) -> None:
    config_map = json.dumps(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "ssa", "namespace": kube_namespace},
            "data": {"a": "1"},
        }
    )
    kube_apiserver.kubectl(
        "apply", "--server-side", "--field-manager=jeeves-test", "-f", "-", input=config_map
    )
    applied = get(kube_apiserver, "configmap", "ssa", "-n", kube_namespace)
    assert applied is not None
    managers = {entry["manager"] for entry in applied["metadata"]["managedFields"]}
    assert "jeeves-test" in managers


def test_deployment_owned_by_custom_resource_is_garbage_collected(
    kube_apiserver: KubeAPIServer, widget_crd: str, kube_namespace: str
) -> None:
    ns = kube_namespace
    kube_apiserver.kubectl("apply", "-f", "-", input=widget(ns, "owner", {"size": 1}))
    owner = get(kube_apiserver, "widget", "owner", "-n", ns)
    assert owner is not None
    kube_apiserver.kubectl("apply", "-f", "-", input=deployment_owned_by(ns, owner))

    # The deployment controller creates a ReplicaSet owned by the Deployment.
    def replica_set() -> dict[str, Any] | None:
        listed = get(kube_apiserver, "replicasets", "-n", ns, "-l", "app=smoke")
        items = listed["items"] if listed else []
        return items[0] if items else None

    rs = poll(replica_set, timeout=60, what="the ReplicaSet of the Deployment")
    assert rs["metadata"]["ownerReferences"][0]["kind"] == "Deployment"
    # The replicaset controller acted too (no kubelet: the Pod stays Pending, but it exists).
    poll(
        lambda: (get(kube_apiserver, "pods", "-n", ns, "-l", "app=smoke") or {}).get("items"),
        timeout=60,
        what="the Pod created by the ReplicaSet",
    )

    # Deleting the owning custom resource removes the Deployment (and, in turn, its ReplicaSet).
    kube_apiserver.kubectl("delete", "widget", "owner", "-n", ns, "--wait=true")
    poll(
        lambda: get(kube_apiserver, "deployment", "smoke", "-n", ns) is None,
        timeout=90,
        what="garbage collection of the Deployment owned by the deleted Widget",
    )
    poll(lambda: replica_set() is None, timeout=60, what="garbage collection of the ReplicaSet")
