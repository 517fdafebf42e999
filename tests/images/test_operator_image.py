"""The operator image against a Kubernetes API: it becomes ready (kopf is watching) and turns
an applied JeevesAction into a Deployment, a Service and an etcd registration.

Real: the jeeves-operator image under podman (read-only root fs, UID 10001), kubectl, etcd.
Faked: the Kubernetes API, served in this test process by the kmock tier's KubeEmulator
(tests/k8s/kmock), which the container reaches on loopback. Blocking podman calls run in a
thread so the emulator, on this event loop, keeps answering.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import etcd3aio
import kmock
import pytest
import pytest_asyncio
from containers import Podman, figure, imagestore

from jeeves.localstack.etcd import EtcdServer
from jeeves.localstack.ports import free_port

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "k8s" / "kmock"))
from kube_emulator import KubeEmulator
from kube_harness import MANIFESTS, Cluster, eventually, write_kubeconfig

pytestmark = pytest.mark.images

ENV_NAME = "imagetest"


@pytest_asyncio.fixture(name="cluster")
async def fixture_cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    tmp_path.chmod(0o755)
    async with KubeEmulator() as emulator, kmock.Server(emulator) as server:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", str(server.url).rstrip("/"))
        kubeconfig.chmod(0o644)  # read by the container's user
        yield Cluster(emulator, kubeconfig)


async def test_the_operator_image_reconciles_a_jeevesaction(
    cluster: Cluster, podman: Podman, etcd_server: EtcdServer
) -> None:
    await cluster.install()
    port = free_port()
    env = {
        "KUBECONFIG": "/kube/kubeconfig",
        "JEEVES_ENV": ENV_NAME,
        "JEEVES_ETCD_ENDPOINTS": etcd_server.endpoint,
        "JEEVES_BIND": f"127.0.0.1:{port}",
        "JEEVES_STANDALONE": "1",
        "JEEVES_DRIFT_INTERVAL": "1",
    }
    ref = f"{imagestore.REGISTRY}/jeeves-operator:{imagestore.version()}"
    container = await asyncio.to_thread(
        podman.start,
        ref,
        env=env,
        user=f"{imagestore.UID}:{imagestore.UID}",
        volumes=[f"{cluster.kubeconfig.parent}:/kube:ro"],
        label="operator",
    )
    try:
        ready = await asyncio.to_thread(container.wait_ready, f"http://127.0.0.1:{port}/readyz", 60)
        figure("jeeves-operator", ready_s=ready, probe="/readyz (kopf watching)")
        await cluster.apply(str(MANIFESTS / "samples" / "dice.yaml"))

        async def deployed() -> bool:
            return cluster.get("apps/v1/deployments", "default", "jeeves-dice") is not None

        await eventually(deployed, timeout=30, what="the jeeves-dice Deployment")
        async with etcd3aio.Etcd3Client([etcd_server.endpoint]) as client:

            async def registered() -> dict[str, object] | None:
                response = await client.kv.get(f"/jeeves/{ENV_NAME}/actions/dice", timeout=2)
                return json.loads(response.kvs[0].value) if response.kvs else None

            entry = await eventually(registered, timeout=30, what="dice registered in etcd")
        assert entry["keywords"] == ["roll"]
        deployment = cluster.get("apps/v1/deployments", "default", "jeeves-dice")
        assert deployment is not None
        (pod_container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert pod_container["image"] == f"localhost/jeeves-dice:{imagestore.version()}"
        exit_code = await asyncio.to_thread(container.stop)
        assert exit_code == 0, container.logs()[-2000:]
    finally:
        await asyncio.to_thread(container.remove)
