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
# Widget (tests/k8s/apiserver/crds/) is preloaded by the fixture. Gadget is applied mid-session,
# as a test or an operator installing its CRD would.
GADGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"gadgets.{GROUP}"},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
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
                                "required": ["keywords"],
                                "properties": {
                                    "keywords": {
                                        "type": "array",
                                        "minItems": 1,
                                        "items": {"type": "string"},
                                    },
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
    """The preloaded Widget CRD (Established before the controller-manager started)."""
    crd = get(kube_apiserver, "crd", f"widgets.{GROUP}")
    assert crd is not None, "the fixture should have applied tests/k8s/apiserver/crds/"
    return str(crd["metadata"]["name"])


def custom(kind: str, namespace: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def widget(namespace: str, name: str, spec: dict[str, Any]) -> str:
    return json.dumps(custom("Widget", namespace, name, spec))


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

    # --validate=false: the apiserver (not kubectl's client-side check) must reject these.
    rejected = kube_apiserver.kubectl(
        "apply",
        "--validate=false",
        "-f",
        "-",
        input=widget(kube_namespace, "bad", {"size": 99}),
        check=False,
    )
    assert rejected.returncode != 0
    assert "spec.size" in rejected.stderr
    assert "should be less than or equal to 10" in rejected.stderr
    missing = kube_apiserver.kubectl(
        "apply",
        "--validate=false",
        "-f",
        "-",
        input=widget(kube_namespace, "bad", {"colour": "red"}),
        check=False,
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
    # kubectl hides managedFields unless asked.
    applied = get(kube_apiserver, "configmap", "ssa", "-n", kube_namespace, "--show-managed-fields")
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

    # Standing in for the kubelet makes the Deployment Available.
    assert kube_apiserver.mark_pods_ready(ns, "app=smoke")
    kube_apiserver.kubectl(
        "wait", "deployment/smoke", "-n", ns, "--for=condition=Available", "--timeout=30s"
    )

    # Deleting the owning custom resource removes the Deployment (and, in turn, its ReplicaSet).
    kube_apiserver.kubectl("delete", "widget", "owner", "-n", ns, "--wait=true")
    poll(
        lambda: get(kube_apiserver, "deployment", "smoke", "-n", ns) is None,
        timeout=30,
        what="garbage collection of the Deployment owned by the deleted Widget",
    )
    poll(lambda: replica_set() is None, timeout=30, what="garbage collection of the ReplicaSet")


def test_crd_applied_mid_session(kube_apiserver: KubeAPIServer, kube_namespace: str) -> None:
    """A CRD applied while the tier runs is served, validated, and (once the garbage collector
    has rediscovered the API, which `wait_for_garbage_collector` waits for) garbage-collected."""
    ns = kube_namespace
    kube_apiserver.kubectl("apply", "-f", "-", input=json.dumps(GADGET_CRD))
    kube_apiserver.kubectl(
        "wait", "--for=condition=Established", f"crd/gadgets.{GROUP}", "--timeout=60s"
    )
    empty = kube_apiserver.kubectl(
        "create",
        "--validate=false",
        "-f",
        "-",
        input=json.dumps(custom("Gadget", ns, "empty", {"keywords": []})),
        check=False,
    )
    assert empty.returncode != 0
    assert "spec.keywords" in empty.stderr
    assert "should have at least 1 items" in empty.stderr

    took = kube_apiserver.wait_for_garbage_collector(
        custom("Gadget", ns, "probe", {"keywords": ["weather"]})
    )
    assert took < 120
    # From now on, dependents of Gadgets go as soon as their owner does.
    owner_manifest = custom("Gadget", ns, "owner", {"keywords": ["memory"]})
    owner = json.loads(
        kube_apiserver.kubectl(
            "create", "-o", "json", "-f", "-", input=json.dumps(owner_manifest)
        ).stdout
    )
    kube_apiserver.kubectl("apply", "-f", "-", input=deployment_owned_by(ns, owner))
    kube_apiserver.kubectl("delete", "gadget", "owner", "-n", ns)
    poll(
        lambda: get(kube_apiserver, "deployment", "smoke", "-n", ns) is None,
        timeout=30,
        what="garbage collection of the Deployment owned by the deleted Gadget",
    )
