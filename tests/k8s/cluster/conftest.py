"""Fixtures of the real one-node cluster tier (tests/k8s/cluster, marker `cluster`).

Owns `node`: ONE real Kubernetes node per test session (scripts/k8s/kubenode: kubelet,
containerd, runc, CNI, kube-proxy, dnsmasq in a network namespace of their own), brought up
before the first cluster test and torn down after the last, with a check that nothing of it is
left on the host — a leftover fails the session. Progress and timings are printed live, and
summed up at the end. Nothing is faked; missing binaries FAIL the tests (never skip).
JEEVES_NODE_KEEP=1 leaves the node running after the session, to look at what failed.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable, Iterator

import pytest

from kubenode import node as kubenode
from kubenode.node import Node

TIMINGS: dict[str, float] = {}


def _reporter(config: pytest.Config) -> Callable[[str], None]:
    """Print a line live, even while pytest captures output."""
    capture = config.pluginmanager.get_plugin("capturemanager")

    def say(line: str) -> None:
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            print(line, flush=True)

    return say


@pytest.fixture(name="say", scope="session")
def fixture_say(pytestconfig: pytest.Config) -> Callable[[str], None]:
    return _reporter(pytestconfig)


@pytest.fixture(name="timings", scope="session")
def fixture_timings() -> dict[str, float]:
    """Figures the tier reports at the end of the session (name -> seconds)."""
    return TIMINGS


@pytest.fixture(name="node", scope="session")
def fixture_node(say: Callable[[str], None], timings: dict[str, float]) -> Iterator[Node]:
    """A running node; `.kubeconfig` (admin, via the 127.0.0.1 relay) and `.kubectl()`."""
    problem: str | None = None
    try:
        kubenode.find_binaries()
    except kubenode.NodeError as error:
        problem = str(error)
    if problem is not None:  # fail outside the except block: one clean message, never a skip
        pytest.fail(problem, pytrace=False)
    started = kubenode.up(log=say)
    timings["cluster up"] = started.timings["up_s"]
    try:
        yield started
    finally:
        if os.environ.get("JEEVES_NODE_KEEP") == "1":
            say(f"node kept: KUBECONFIG={started.kubeconfig}; later: python -m kubenode down "
                f"--run-dir {started.layout.run_dir}")  # fmt: skip
        else:
            t0 = time.monotonic()
            report = kubenode.down(started.layout.run_dir, log=say)
            timings["cluster down"] = time.monotonic() - t0
            say("timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))
            assert report["leftovers"] == []


@pytest.fixture(name="namespace")
def fixture_namespace(node: Node, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace per test, deleted afterwards (without waiting)."""
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower().removeprefix("test_"))
    name = f"t-{slug}"[:50].strip("-")
    node.kubectl("create", "namespace", name)
    try:
        yield name
    finally:
        node.kubectl("delete", "namespace", name, "--wait=false", check=False)
