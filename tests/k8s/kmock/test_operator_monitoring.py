"""The operator as Prometheus sees it: the operator dashboard's every panel returns real series,
its recording rules evaluate, and the Pods it builds carry what scraping them needs.

Real: the `jeeves-operator` process (kopf run) against the emulated API server (see conftest),
etcd, Prometheus 2.42 scraping the operator every second with the chart's rules, kubectl.
Faked: the Kubernetes API (kmock, extended).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from kube_harness import MANIFESTS, Cluster, EtcdView, Starter, eventually

from jeeves.localstack.prometheus import PrometheusServer
from jeeves.monitoring.dashboards import DASHBOARDS
from jeeves.monitoring.files import rule_files
from jeeves.monitoring.scrape import Target, local_prometheus
from support.prometheus import PrometheusAPI, dashboard_problems

pytestmark = pytest.mark.k8s
DEPLOYMENTS = "apps/v1/deployments"


@pytest.fixture(name="prometheus")
def fixture_prometheus() -> Iterator[PrometheusServer]:
    server = PrometheusServer()
    yield server
    print(f"--- prometheus (tail) ---\n{server.logs()[-3000:]}")  # shown on failure
    server.close()


async def test_the_operator_dashboard_shows_real_series(
    cluster: Cluster, etcd: EtcdView, start_operator: Starter, prometheus: PrometheusServer
) -> None:
    await cluster.install()
    await cluster.apply(str(MANIFESTS / "samples" / "echo.yaml"))
    operator = await start_operator(JEEVES_DRIFT_INTERVAL="1")
    prometheus.write_config(
        local_prometheus(
            [Target("jeeves-operator", f"127.0.0.1:{operator.port}")],
            rule_files=rule_files(),
            alertmanager=None,
            interval_s=1,
            self_address=f"127.0.0.1:{prometheus.port}",
        )
    )
    await asyncio.to_thread(prometheus.start)
    api = PrometheusAPI(prometheus.url)

    async def built() -> bool:
        return cluster.get(DEPLOYMENTS, "default", "jeeves-echo") is not None

    await eventually(built, timeout=60, what="the echo Deployment")
    pod = cluster.get(DEPLOYMENTS, "default", "jeeves-echo")["spec"]["template"]["metadata"]
    assert pod["annotations"]["prometheus.io/scrape"] == "true"
    assert pod["labels"]["app.kubernetes.io/component"] == "action"
    assert pod["labels"]["jeeves.dev/track"] == "stable"
    await asyncio.sleep(3)  # a few scrapes before the hand edit below, so its increase shows
    await cluster.kubectl(
        "patch", "deployment", "jeeves-echo", "--type=merge", "-p", '{"spec":{"replicas":4}}'
    )

    async def corrected() -> bool:
        return bool(
            await asyncio.to_thread(
                api.query, "sum(increase(jeeves_operator_drift_corrections_total[1m])) > 0"
            )
        )

    await eventually(corrected, timeout=30, what="Prometheus to see the drift correction")
    problems = await asyncio.to_thread(
        dashboard_problems, api, DASHBOARDS["jeeves-operator.json"](), "1m"
    )
    assert problems == []
    recorded = await asyncio.to_thread(api.query, "jeeves:operator_drift_corrections:increase1h")
    assert {r["metric"]["kind"] for r in recorded} >= {"Deployment"}
