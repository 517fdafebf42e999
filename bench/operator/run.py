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
from dataclasses import dataclass
from pathlib import Path

import aiohttp
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
    return json.dumps(
        {"apiVersion": "v1", "kind": "List", "items": [action(i) for i in range(count)]}
    )


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


async def run(count: int, limit: float, hows: list[str], workdir: Path) -> None:
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
        await asyncio.sleep(3)  # the start-up gate (leadership.py) opens ~2 s after start
        async with etcd3aio.Etcd3Client([etcd.endpoint]) as client:
            rounds = [await measure(kube, client, env, count, limit, how, operator) for how in hows]
        report(count, rounds, operator, kube)
    finally:
        await operator.stop()
        kube.stop()
        etcd.close()


async def _ready(operator: OperatorProcess) -> bool:
    status, _ = await asyncio.to_thread(operator.get, "/readyz")
    return status == 200


def action(i: int) -> dict[str, object]:
    return {
        "apiVersion": "jeeves.dev/v1alpha1",
        "kind": "JeevesAction",
        "metadata": {"name": f"act{i:04d}", "namespace": NAMESPACE},
        "spec": {
            "keywords": [f"kw{i:04d}"],
            "image": f"jeeves-act{i:04d}:1",
            "description": f"bench action {i}",
        },
    }


async def burst(kube: KubeAPIServer, method: str, count: int, concurrency: int = 32) -> None:
    """POST (or DELETE) the actions straight to the API server, `concurrency` at a time."""
    base = f"{kube.server}/apis/jeeves.dev/v1alpha1/namespaces/{NAMESPACE}/jeevesactions"
    gate = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(ssl=kube.ssl_context(), limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(i: int) -> None:
            async with gate:
                if method == "POST":
                    request = session.post(base, json=action(i))
                else:
                    request = session.delete(f"{base}/act{i:04d}")
                async with request as response:
                    if response.status >= 300:
                        raise RuntimeError(f"{method} act{i:04d}: {response.status}")

        await asyncio.gather(*(one(i) for i in range(count)))


@dataclass
class Round:
    """One create-then-delete round and what it measured (seconds)."""

    how: str
    sent: float = 0.0
    created: float = 0.0
    delete_sent: float = 0.0
    unregistered: float = 0.0
    collected: float = 0.0
    reconcile_ms: float = 0.0


async def measure(
    kube: KubeAPIServer,
    client: etcd3aio.Etcd3Client,
    env: str,
    count: int,
    limit: float,
    how: str,
    operator: OperatorProcess,
) -> Round:
    deployments = f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments"
    services = f"/api/v1/namespaces/{NAMESPACE}/services"

    async def objects() -> tuple[int, int]:
        return (
            await asyncio.to_thread(count_objects, kube, deployments),
            await asyncio.to_thread(count_objects, kube, services),
        )

    async def all_created() -> bool:
        return await count_keys(client, env) == count and await objects() == (count, count)

    async def all_unregistered() -> bool:
        return await count_keys(client, env) == 0

    async def all_collected() -> bool:
        return await objects() == (0, 0)

    result = Round(how)
    before = _reconcile_totals(await asyncio.to_thread(operator.get, "/metrics"))
    started = time.monotonic()
    if how == "kubectl":
        kube.kubectl("apply", "-f", "-", input=actions_manifest(count), timeout=limit)
    else:
        await burst(kube, "POST", count)
    result.sent = time.monotonic() - started
    await wait_for(all_created, limit, "all created")
    result.created = time.monotonic() - started
    after = _reconcile_totals(await asyncio.to_thread(operator.get, "/metrics"))
    result.reconcile_ms = 1000 * (after[1] - before[1]) / max(after[0] - before[0], 1)

    started = time.monotonic()
    if how == "kubectl":
        kube.kubectl("delete", "ja", "--all", "-n", NAMESPACE, "--wait=false", timeout=limit)
    else:
        await burst(kube, "DELETE", count)
    result.delete_sent = time.monotonic() - started
    await wait_for(all_unregistered, limit, "all unregistered")
    result.unregistered = time.monotonic() - started
    await wait_for(all_collected, limit, "all garbage-collected")
    result.collected = time.monotonic() - started
    return result


def _reconcile_totals(response: tuple[int, str]) -> tuple[float, float]:
    text = response[1]
    count = sum(
        float(n)
        for n in re.findall(r"^jeeves_operator_reconciles_total\{[^}]*\} (\S+)$", text, re.M)
    )
    return count, metric(text, "jeeves_operator_reconcile_duration_seconds_sum")


def report(count: int, rounds: list[Round], operator: OperatorProcess, kube: KubeAPIServer) -> None:
    print(
        f"\n{count} JeevesActions, one operator replica, real kube-apiserver 1.20 (2 CPUs shared)"
    )
    for r in rounds:
        print(
            f"  [{r.how}] create sent in {r.sent:.1f} s; all Deployment+Service+etcd after "
            f"{r.created:.1f} s ({count / r.created:.1f} actions/s, "
            f"{r.created - r.sent:.1f} s after the last create); mean reconcile "
            f"{r.reconcile_ms:.0f} ms"
        )
        print(
            f"  [{r.how}] delete sent in {r.delete_sent:.1f} s; all unregistered after "
            f"{r.unregistered:.1f} s; all garbage-collected after {r.collected:.1f} s"
        )
    apiserver = kube.rss_kib().get("kube-apiserver", 0)
    print(
        f"  operator peak RSS {operator.peak_rss_kib() / 1024:.0f} MiB; "
        f"kube-apiserver RSS {apiserver / 1024:.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument(
        "--how",
        action="append",
        choices=["kubectl", "burst"],
        help="kubectl apply/delete (what people run), or 32 concurrent "
        "requests (what the operator can keep up with); default: both",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jeeves-bench-operator-") as workdir:
        asyncio.run(run(args.count, args.timeout, args.how or ["kubectl", "burst"], Path(workdir)))


if __name__ == "__main__":
    main()
