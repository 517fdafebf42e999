"""The kit in real processes: Hypercorn serving, settings failures, logs, readiness, SIGTERM.

Real: the `jeeves-gateway` entry point, PostgreSQL, etcd, and a kit app with slow routes
(`support.slow_app`) run as subprocesses. Nothing is faked.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import urllib.request
from collections.abc import Iterator

import pytest

from jeeves.localstack.etcd import EtcdServer
from jeeves.localstack.ports import wait_until
from jeeves.localstack.postgres import PostgresServer
from support.services import ServiceProcess, entry_point, http_json, http_status

pytestmark = pytest.mark.integration
SECRET = "xoxb-very-secret-signing-value"


@pytest.fixture(name="outage_postgres", scope="module")
def fixture_outage_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL of this module's own, because these tests stop it."""
    server = PostgresServer()
    server.start()
    yield server
    server.close()


@pytest.fixture(name="outage_etcd", scope="module")
def fixture_outage_etcd() -> Iterator[EtcdServer]:
    server = EtcdServer()
    server.start()
    yield server
    server.close()


@pytest.fixture(name="gateway", scope="module")
def fixture_gateway(
    outage_postgres: PostgresServer, outage_etcd: EtcdServer
) -> Iterator[ServiceProcess]:
    service = ServiceProcess(
        "jeeves-gateway",
        {
            "JEEVES_DATABASE_URL": outage_postgres.dsn,
            "JEEVES_SLACK_SIGNING_SECRET": SECRET,
            "JEEVES_ETCD_ENDPOINTS": outage_etcd.endpoint,
        },
    )
    service.start()
    yield service
    service.close()


def test_missing_setting_stops_the_process_with_one_line() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JEEVES_")}
    env["JEEVES_DATABASE_URL"] = "postgresql://127.0.0.1:1/x"
    result = subprocess.run(
        entry_point("jeeves-gateway"), env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines == ["jeeves: setting JEEVES_SLACK_SIGNING_SECRET is required but not set"]


def test_errors_are_json(gateway: ServiceProcess) -> None:
    status, body = http_json("GET", gateway.url + "/no/such/route")
    assert (status, body["error"]["code"]) == (404, "not_found")
    status, body = http_json("DELETE", gateway.url + "/healthz")
    assert (status, body["error"]["code"]) == (405, "method_not_allowed")


def test_logs_are_json_with_request_id_and_no_secret(gateway: ServiceProcess) -> None:
    http_json(
        "GET",
        gateway.url + f"/missing?token={SECRET}",
        headers={"X-Request-ID": "trace-me-42", "Authorization": f"Bearer {SECRET}"},
    )

    def logged() -> bool:
        return any(r.get("request_id") == "trace-me-42" for r in gateway.log_records())

    wait_until(logged, timeout=5, what="the access log line")
    lines = [line for line in gateway.logs().splitlines() if line.strip()]
    assert all(json.loads(line) for line in lines), "every log line is JSON"
    record = next(r for r in gateway.log_records() if r.get("request_id") == "trace-me-42")
    assert record["service"] == "gateway"
    assert {"timestamp", "level", "event"} <= record.keys()
    assert SECRET not in gateway.logs()


def test_metrics_show_requests_by_route_template(gateway: ServiceProcess) -> None:
    http_status(gateway.url + "/healthz")
    with urllib.request.urlopen(gateway.url + "/metrics") as response:
        text = response.read().decode()
    assert (
        'jeeves_http_requests_total{method="GET",route="/healthz",service="gateway",status="200"}'
        in text
    )
    assert "jeeves_http_request_duration_seconds_bucket" in text
    assert "jeeves_http_requests_in_progress" in text


def test_readyz_follows_postgres(gateway: ServiceProcess, outage_postgres: PostgresServer) -> None:
    assert http_status(gateway.url + "/readyz") == 200
    outage_postgres.stop("immediate")
    try:
        wait_until(
            lambda: http_status(gateway.url + "/readyz", 5) == 503,
            timeout=20,
            what="/readyz to turn 503 with PostgreSQL down",
        )
        _, body = http_json("GET", gateway.url + "/readyz")
        failing = [c["name"] for c in body["checks"] if not c["ok"]]
        assert failing == ["database"]
    finally:
        outage_postgres.start()
    wait_until(
        lambda: http_status(gateway.url + "/readyz", 5) == 200,
        timeout=20,
        what="/readyz to recover after PostgreSQL returns",
    )


def test_an_etcd_outage_leaves_the_gateway_ready(
    gateway: ServiceProcess, outage_etcd: EtcdServer
) -> None:
    """The gateway never reads etcd: an etcd outage must not take it out of its Service (Slack's
    events would then be lost after Slack's retries)."""
    outage_etcd.stop()
    try:
        status, body = http_json("GET", gateway.url + "/readyz")
        assert status == 200, body
        assert [c["name"] for c in body["checks"]] == ["database"]
    finally:
        outage_etcd.start()


def test_readyz_body_carries_no_dsn(
    gateway: ServiceProcess, outage_postgres: PostgresServer
) -> None:
    outage_postgres.stop("immediate")
    try:
        wait_until(
            lambda: http_status(gateway.url + "/readyz", 5) == 503,
            timeout=20,
            what="/readyz to turn 503 with PostgreSQL down",
        )
        _, body = http_json("GET", gateway.url + "/readyz")
        text = json.dumps(body)
        assert "127.0.0.1" not in text, text
        assert str(outage_postgres.port) not in text, text
    finally:
        outage_postgres.start()
    wait_until(
        lambda: http_status(gateway.url + "/readyz", 5) == 200,
        timeout=20,
        what="/readyz to recover after PostgreSQL returns",
    )


def test_sigterm_lets_a_slow_request_finish() -> None:
    service = ServiceProcess("-m support.slow_app", {"PYTHONPATH": "tests"}, probe="/healthz")
    service.start()
    result: dict[str, object] = {}

    def call() -> None:
        result["answer"] = http_json("GET", service.url + "/slow/1.5")

    caller = threading.Thread(target=call)
    caller.start()
    wait_until(
        lambda: '"route": "/slow' in service.logs() or _in_flight(service),
        timeout=5,
        what="the slow request to be in flight",
    )
    exit_code = service.stop()
    caller.join(10)
    assert result["answer"] == (200, {"slept": 1.5})
    assert exit_code == 0
    service.close()


def _in_flight(service: ServiceProcess) -> bool:
    with urllib.request.urlopen(service.url + "/metrics") as response:
        text = response.read().decode()
    return 'jeeves_http_requests_in_progress{service="slowapp"} 2.0' in text
