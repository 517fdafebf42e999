"""hostPath PersistentVolumes for the claims of the node's default StorageClass. Pure.

A one-node test cluster has no storage provisioner; the node agent plays one for the
`jeeves-node-local` class: each pending claim gets a PersistentVolume pre-bound to it (the
controller-manager's volume binder completes the binding), backed by a directory under the
run dir that anyone may write (hostPath volumes get no fsGroup ownership). Released volumes of
the class are deleted, as `reclaimPolicy: Delete` promises.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from kubenode.render import PROVISIONER, storage_class

Obj = Mapping[str, Any]
CLASS_NAME = str(storage_class()["metadata"]["name"])


def volume_name(claim: Obj) -> str:
    return f"pvc-{claim['metadata']['uid']}"


def wants_volume(claim: Obj, existing: set[str]) -> bool:
    """A pending, unbound claim of our class that has no volume of ours yet."""
    spec = claim.get("spec", {})
    return (
        spec.get("storageClassName") == CLASS_NAME
        and not spec.get("volumeName")
        and claim.get("status", {}).get("phase", "Pending") == "Pending"
        and volume_name(claim) not in existing
    )


def volume_dir(root: Path, claim: Obj) -> Path:
    meta = claim["metadata"]
    return root / f"{meta['namespace']}-{meta['name']}-{str(meta['uid'])[:8]}"


def volume_for(claim: Obj, root: Path) -> dict[str, Any]:
    """The PersistentVolume that satisfies `claim`."""
    meta = claim["metadata"]
    spec = claim["spec"]
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": volume_name(claim),
            "annotations": {"pv.kubernetes.io/provisioned-by": PROVISIONER},
        },
        "spec": {
            "capacity": {"storage": spec["resources"]["requests"]["storage"]},
            "accessModes": list(spec.get("accessModes") or ["ReadWriteOnce"]),
            "persistentVolumeReclaimPolicy": "Delete",
            "storageClassName": CLASS_NAME,
            "volumeMode": spec.get("volumeMode", "Filesystem"),
            "hostPath": {"path": str(volume_dir(root, claim)), "type": "DirectoryOrCreate"},
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": meta["namespace"],
                "name": meta["name"],
                "uid": meta["uid"],
            },
        },
    }


def to_create(claims: Iterable[Obj], volumes: Iterable[Obj], root: Path) -> list[dict[str, Any]]:
    existing = {str(v["metadata"]["name"]) for v in volumes}
    return [volume_for(claim, root) for claim in claims if wants_volume(claim, existing)]


def to_delete(volumes: Iterable[Obj]) -> list[str]:
    """Names of our volumes whose claim is gone (phase Released)."""
    return sorted(
        str(v["metadata"]["name"])
        for v in volumes
        if v.get("metadata", {}).get("annotations", {}).get("pv.kubernetes.io/provisioned-by")
        == PROVISIONER
        and v.get("status", {}).get("phase") == "Released"
    )
