"""A kit app with the live registry as a real process: outage, degraded `/readyz`, recovery.

A configuration loaded once keeps the app ready (200, check `degraded`) while etcd is away; an
app that never loaded one is not ready (503) until etcd answers.

Real: a private etcd 3.5, the app (`registry_app`, the kit's `install_registry`,
`install_flags` and `service_url`) served by Hypercorn in its own process, HTTP on loopback.
Nothing is faked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from jeeves.kit.actions import ActionSpec
from jeeves.kit.etcd import make_client, seed_actions, service_key, write_key
from jeeves.localstack.etcd import EtcdServer
from jeeves.localstack.ports import wait_until
from support.services import ServiceProcess, http_json

pytestmark = pytest.mark.integration
HERE = Path(__file__).parent
ENV = "proc"


def action(name: str, keyword: str) -> ActionSpec:
    return ActionSpec(name=name, keywords=(keyword,), url=f"http://127.0.0.1:9/{name}")


@pytest.fixture(name="app_process")
def fixture_app_process(private_etcd: EtcdServer) -> Iterator[ServiceProcess]:
    asyncio.run(seed_actions(private_etcd.endpoint, ENV, [action("echo", "echo")]))
    env = {
        "PYTHONPATH": f"{HERE}:{HERE.parent.parent}",
        "JEEVES_ENV": ENV,
        "JEEVES_ETCD_ENDPOINTS": private_etcd.endpoint,
    }
    service = ServiceProcess("-m registry_app", env)
    try:
        yield service.start()
    finally:
        service.close()


def metric(url: str, name: str) -> float | None:
    status, text = http_json("GET", f"{url}/metrics")
    assert status == 200
    for line in str(text).splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def config_check(url: str) -> tuple[int, dict[str, object]]:
    status, body = http_json("GET", f"{url}/readyz")
    return status, next(c for c in body["checks"] if c["name"] == "config")


def test_outage_keeps_routing_reports_degraded_and_recovers(
    private_etcd: EtcdServer, app_process: ServiceProcess
) -> None:
    url = app_process.url
    assert http_json("GET", f"{url}/route/echo")[1]["action"] == "echo"
    assert metric(url, "jeeves_etcd_up") == 1
    assert metric(url, "jeeves_registry_actions") == 1
    assert (metric(url, "jeeves_config_last_update_timestamp_seconds") or 0) > 0

    private_etcd.stop()
    wait_until(
        lambda: config_check(url)[1]["state"] == "degraded", timeout=15, what="/readyz to degrade"
    )
    status, check = config_check(url)
    assert status == 200, "a loaded configuration keeps the service ready while etcd is away"
    assert "last-known" in str(check["detail"])
    assert metric(url, "jeeves_etcd_up") == 0
    assert http_json("GET", f"{url}/route/echo")[1]["action"] == "echo"  # last-known registry

    private_etcd.start()
    asyncio.run(_write_after_recovery(private_etcd.endpoint))
    wait_until(
        lambda: http_json("GET", f"{url}/route/weather")[0] == 200,
        timeout=15,
        what="the action added after recovery",
    )
    wait_until(lambda: config_check(url)[1]["ok"] is True, timeout=15, what="/readyz to recover")
    assert metric(url, "jeeves_etcd_up") == 1
    # Written after the weather action, so it may apply a moment later: wait for it too.
    wait_until(
        lambda: (
            http_json("GET", f"{url}/services/poster") == (200, {"url": "http://10.1.2.3:8080"})
        ),
        timeout=15,
        what="the service URL written after recovery",
    )
    records = app_process.log_records()
    assert any(r.get("event") == "etcd_down" for r in records)
    assert any(r.get("event") == "etcd_up" for r in records)


async def _write_after_recovery(endpoint: str) -> None:
    await seed_actions(endpoint, ENV, [action("weather", "weather")])
    client = make_client(endpoint, attempts=5)
    await client.connect()
    try:
        await write_key(client, service_key(ENV, "poster"), "http://10.1.2.3:8080/")
    finally:
        await client.close()


def test_a_service_started_while_etcd_is_down_catches_up(private_etcd: EtcdServer) -> None:
    asyncio.run(seed_actions(private_etcd.endpoint, ENV, [action("echo", "echo")]))
    private_etcd.stop()
    env = {
        "PYTHONPATH": f"{HERE}:{HERE.parent.parent}",
        "JEEVES_ENV": ENV,
        "JEEVES_ETCD_ENDPOINTS": private_etcd.endpoint,
    }
    service = ServiceProcess("-m registry_app", env, probe="/healthz")
    try:
        service.start()
        assert config_check(service.url)[0] == 503
        assert http_json("GET", f"{service.url}/route/echo")[0] == 404  # nothing known yet
        private_etcd.start()
        wait_until(
            lambda: http_json("GET", f"{service.url}/route/echo")[0] == 200,
            timeout=15,
            what="the registry to load once etcd is up",
        )
        wait_until(lambda: config_check(service.url)[0] == 200, timeout=15, what="/readyz")
    finally:
        service.close()
