"""Validating rendered objects against Kubernetes' own JSON schemas, strict (unknown fields
refused), for 1.20 (the test cluster) and a current version.

Current versions: kubernetes-validate (a dev dependency) itself. Its release no longer carries
1.20's schemas, so `schemas_120` fetches kubernetes-validate 1.24.0's source archive from PyPI
once (pip download, checked against a pinned SHA-256), keeps only its `v1.20.0-local-strict`
directory under $JEEVES_CACHE/charts, and `problems` validates against it the same way.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
from referencing import Registry
from referencing.jsonschema import DRAFT7

OLD_RELEASE = "kubernetes-validate==1.24.0"
OLD_ARCHIVE = "kubernetes-validate-1.24.0.tar.gz"
OLD_SHA256 = "c4121729c9e60ed216d8335b0da787141f6f5827e26483c777de3b27f4eb3d98"
DIR_120 = "v1.20.0-local-strict"


def cache_root() -> Path:
    return Path(os.environ.get("JEEVES_CACHE", Path.home() / ".cache" / "jeeves")) / "charts"


def schemas_120() -> Path:
    """1.20's strict schemas, fetched once into the cache (safe under parallel sessions)."""
    target = cache_root() / "kubernetes-json-schema" / DIR_120
    if (target / "_definitions.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / "_definitions.json").is_file():
            _fetch_120(target)
    return target


def _fetch_120(target: Path) -> None:
    print(f"charts: fetching Kubernetes 1.20 schemas ({OLD_RELEASE}, once)", file=sys.stderr)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        command = [
            "python3", "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
            OLD_RELEASE, "--dest", tmp,
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        archive = Path(tmp) / OLD_ARCHIVE
        if done.returncode != 0 or not archive.is_file():
            raise RuntimeError(f"pip download {OLD_RELEASE} failed: {done.stderr.strip()[-500:]}")
        digest = hashlib.sha256(archive.read_bytes()).hexdigest()
        if digest != OLD_SHA256:
            raise RuntimeError(f"{OLD_ARCHIVE}: sha256 {digest}, expected {OLD_SHA256}")
        staging = Path(tmp) / DIR_120
        staging.mkdir()
        marker = f"/kubernetes-json-schema/{DIR_120}/"
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                if marker in member.name and member.isfile() and member.name.endswith(".json"):
                    name = Path(member.name).name
                    source = tar.extractfile(member)
                    assert source is not None
                    (staging / name).write_bytes(source.read())
        if not (staging / "_definitions.json").is_file():
            raise RuntimeError(f"{OLD_ARCHIVE} has no {DIR_120} schemas")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)


def schema_file(obj: dict[str, Any]) -> str:
    """kubernetes-validate's file name: rbac.authorization.k8s.io/v1 Role -> role-rbac-v1.json."""
    api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", obj["apiVersion"])
    return f"{obj['kind'].lower()}-{api}.json"


def problems(obj: dict[str, Any], version: str) -> list[str]:
    """Every schema violation of `obj` in Kubernetes `version` (empty: valid); a kind or API
    version that Kubernetes does not serve is one."""
    where = f"{obj.get('kind')} {obj.get('metadata', {}).get('name')} ({obj.get('apiVersion')})"
    if version.startswith("1.20."):
        return _problems_in(obj, schemas_120(), where)
    try:
        kubernetes_validate.validate(obj, version, strict=True)
    except kubernetes_validate.ValidationError as error:
        path = ".".join(str(p) for p in error.path) or "(top)"
        return [f"{where}: {path}: {error.message}"]
    except kubernetes_validate.SchemaNotFoundError:
        return [f"{where}: not served by Kubernetes {version}"]
    return []


def _problems_in(obj: dict[str, Any], schemas: Path, where: str) -> list[str]:
    name = schema_file(obj)
    if not (schemas / name).is_file():
        return [f"{where}: not served by this Kubernetes version (no schema {name})"]
    base = schemas.resolve().as_uri() + "/"
    registry: Registry[Any] = Registry().with_resources(
        (base + file, DRAFT7.create_resource(json.loads((schemas / file).read_text())))
        for file in ("_definitions.json", name)
    )
    validator = jsonschema.Draft7Validator({"$ref": base + name}, registry=registry)
    return [
        f"{where}: {'.'.join(str(p) for p in error.absolute_path) or '(top)'}: {error.message}"
        for error in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.path)))
    ]
