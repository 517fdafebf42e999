"""Operator throughput: N JeevesActions applied at once → time until every one has its
Deployment, Service and etcd registration; then deleted → time until every registration is gone.

Starts the real API tier (kube-apiserver + kube-controller-manager 1.20 from
`make k8s-apiserver`, via tests/k8s/apiserver/apiserver_tier.py), a separate etcd for the
registrations (jeeves.localstack), and one real `jeeves-operator` process. Prints wall times,
rates, the operator's peak RSS, the API server's RSS and the operator's own reconcile metrics.
Bounded: `--count` actions (default 500), `--timeout` seconds per phase; loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import etcd3aio

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))

from jeeves.localstack.etcd import EtcdServer  # noqa: E402
from k8s.apiserver import apiserver_tier  # noqa: E402
from k8s.apiserver.apiserver_tier import KubeAPIServer, start_tier  # noqa: E402
from k8s.kmock.operator_process import OperatorProcess  # noqa: E402

NAMESPACE = "bench"
SELECTOR = "app.kubernetes.io/managed-by=jeeves-operator"


def actions_manifest(count: int) -> str:
    items = [
        {
            "apiVersion": "jeeves.dev/v1alpha1",
            "kind": "JeevesAction",
            "metadata": {"name": f"act{i:04d}", "namespace": NAMESPACE},
            "spec": {
                "keywords": [f"kw{i:04d}"],
                "image": f"jeeves-act{i:04d}:1",
                "description": f"bench action {i}",
            },
        }
        for i in range(count)
    ]
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items})


def count_objects(kube: KubeAPIServer, path: str) -> int:
    listed = kube.get_json(f"{path}?labelSelector={SELECTOR}", timeout=30)
    assert isinstance(listed, dict)
    return len(listed["items"])


async def count_keys(client: etcd3aio.Etcd3Client, env: str) -> int:
    prefix = f"/jeeves/{env}/actions/"
    assert client.kv is not None
    response = await client.kv.get(prefix, etcd3aio.prefix_range_end(prefix), count_only=True)
    return int(response.count)


async def wait_for(check: Callable[[], Awaitable[bool]], limit: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if await check():
            return time.monotonic() - started
        await asyncio.sleep(0.5)
    raise TimeoutError(f"{what} not reached within {limit:.0f}s")


def metric(text: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", text, re.M)
    return float(found.group(1)) if found else float("nan")


async def run(count: int, limit: float, workdir: Path) -> None:
    print(f"starting the real API tier and etcd (workdir {workdir}) ...", flush=True)
    # The tier's /24 holds 253 Service IPs; every action has a Service (two with a canary).
    apiserver_tier.SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/16"
    kube = start_tier(workdir / "kube", crds=[REPO / "manifests" / "crds"])
    etcd = EtcdServer()
    etcd.start()
    env = f"bench{uuid.uuid4().hex[:6]}"
    operator = OperatorProcess(
        kube.kubeconfig, etcd.endpoint, env, workdir / "operator.log", JEEVES_DRIFT_INTERVAL="30"
    )
    try:
        kube.kubectl("apply", "-f", str(REPO / "manifests" / "rbac"))
        kube.kubectl("create", "namespace", NAMESPACE)
        await operator.start()
        await wait_for(lambda: _ready(operator), 60, "operator /readyz")
        async with etcd3aio.Etcd3Client([etcd.endpoint]) as client:
            await measure(kube, client, operator, env, count, limit)
    finally:
        await operator.stop()
        kube.stop()
        etcd.close()


async def _ready(operator: OperatorProcess) -> bool:
    status, _ = await asyncio.to_thread(operator.get, "/readyz")
    return status == 200


async def measure(
    kube: KubeAPIServer,
    client: etcd3aio.Etcd3Client,
    operator: OperatorProcess,
    env: str,
    count: int,
    limit: float,
) -> None:
    deployments = f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments"
    services = f"/api/v1/namespaces/{NAMESPACE}/services"

    async def all_created() -> bool:
        return (
            await count_keys(client, env) == count
            and await asyncio.to_thread(count_objects, kube, deployments) == count
            and await asyncio.to_thread(count_objects, kube, services) == count
        )

    async def all_unregistered() -> bool:
        return await count_keys(client, env) == 0

    started = time.monotonic()
    kube.kubectl("apply", "-f", "-", input=actions_manifest(count), timeout=limit)
    applied = time.monotonic() - started
    created = await wait_for(all_created, limit, "all created") + applied
    rss_after_create = operator.peak_rss_kib()
    _, metrics = await asyncio.to_thread(operator.get, "/metrics")

    started = time.monotonic()
    kube.kubectl("delete", "ja", "--all", "-n", NAMESPACE, "--wait=false", timeout=limit)
    delete_sent = time.monotonic() - started
    deleted = await wait_for(all_unregistered, limit, "all unregistered") + delete_sent

    reconciles = metric(metrics, 'jeeves_operator_reconciles_total{result="ok"}')
    seconds = metric(metrics, "jeeves_operator_reconcile_duration_seconds_sum")
    apiserver_rss = kube.rss_kib().get("kube-apiserver", 0)
    print(f"actions                         {count}")
    print(f"kubectl apply (client side)     {applied:.1f} s")
    print(
        f"apply → all Deployment+Service+etcd  {created:.1f} s  "
        f"({count / created:.1f} actions/s; {created - applied:.1f} s after kubectl returned)"
    )
    print(f"kubectl delete (client side)    {delete_sent:.1f} s")
    print(
        f"delete → all unregistered       {deleted:.1f} s  ({count / deleted:.1f} actions/s; "
        f"{deleted - delete_sent:.1f} s after kubectl returned)"
    )
    print(
        f"reconciles ok (to create)       {reconciles:.0f}, mean "
        f"{1000 * seconds / max(reconciles, 1):.1f} ms each"
    )
    print(
        f"operator peak RSS               {rss_after_create / 1024:.0f} MiB (after create), "
        f"{operator.peak_rss_kib() / 1024:.0f} MiB (end)"
    )
    print(f"kube-apiserver RSS              {apiserver_rss / 1024:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jeeves-bench-operator-") as workdir:
        asyncio.run(run(args.count, args.timeout, Path(workdir)))


if __name__ == "__main__":
    main()
