"""Fixtures of the real Kubernetes API tier (tests/k8s/apiserver).

Owns `kube_apiserver`: one etcd + kube-apiserver + kube-controller-manager per test session,
built by `make k8s-apiserver` and started by `apiserver_tier.start_tier`. Missing binaries FAIL
the tests (never skip), so a green run always means the real tier ran. See
docs/testing-kubernetes.md.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .apiserver_tier import (
    KubeAPIServer,
    MissingBinariesError,
    StartupError,
    find_binaries,
    start_tier,
)

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
# Applied before the controller-manager starts (see start_tier): the product's CRDs (source of
# truth) and the test-only ones of this folder.
PRELOADED_CRDS = (REPO / "manifests" / "crds", HERE / "crds")
_namespace_numbers = itertools.count(1)


@pytest.fixture(name="kube_apiserver", scope="session")
def fixture_kube_apiserver() -> Iterator[KubeAPIServer]:
    """A running real API tier; yields `.kubeconfig` (admin) and `.server` (https URL).

    The CRDs in manifests/crds/ and tests/k8s/apiserver/crds/ are already Established.

    Set JEEVES_K8S_KEEP_WORKDIR=1 to keep the temporary directory (logs, PKI) after the run.
    """
    problem: str | None = None
    try:
        find_binaries()
    except MissingBinariesError as error:
        problem = str(error)
    if problem is not None:  # fail outside the except block: one clean message, never a skip
        pytest.fail(problem, pytrace=False)
    workdir = Path(tempfile.mkdtemp(prefix="jeeves-kube-"))
    keep = os.environ.get("JEEVES_K8S_KEEP_WORKDIR") == "1"
    tier: KubeAPIServer | None = None
    try:
        for attempt in (1, 2):
            try:
                tier = start_tier(workdir / f"attempt-{attempt}", crds=PRELOADED_CRDS)
                break
            except StartupError as error:
                # A free port can be taken between choosing it and binding it: retry once.
                if attempt == 2 or "address already in use" not in str(error):
                    raise
        assert tier is not None
        yield tier
    finally:
        if tier is not None:
            tier.stop()
        if keep:
            print(f"\nkube_apiserver: kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(name="kube_namespace")
def fixture_kube_namespace(
    kube_apiserver: KubeAPIServer, request: pytest.FixtureRequest
) -> Iterator[str]:
    """A fresh namespace per test (deleted afterwards, without waiting for it to go)."""
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower().removeprefix("test_"))
    name = f"t{next(_namespace_numbers)}-{slug}"[:63].strip("-")
    kube_apiserver.kubectl("create", "namespace", name)
    try:
        yield name
    finally:
        kube_apiserver.kubectl("delete", "namespace", name, "--wait=false", check=False)
