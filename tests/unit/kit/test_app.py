"""The kit's app behaviour through Quart's test client (in-process, startup hooks run)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client
from structlog.testing import capture_logs

from jeeves.kit.app import kit
from jeeves.kit.health import Degraded
from jeeves.kit.settings import ServiceSettings
from support.slow_app import build

pytestmark = pytest.mark.unit


@pytest.fixture(name="app")
async def fixture_app() -> AsyncIterator[Quart]:
    app = build(ServiceSettings(max_body_bytes=1000))
    async with app.test_app():
        yield app


@pytest.fixture(name="client")
def fixture_client(app: Quart) -> Client:
    return app.test_client()


async def test_404_405_413_500_are_json(client: Client) -> None:
    cases = [
        (await client.get("/nope"), 404, "not_found"),
        (await client.post("/boom"), 405, "method_not_allowed"),
        (await client.post("/echo", data=b"x" * 5000), 413, "payload_too_large"),
        (await client.get("/boom"), 500, "internal_error"),
    ]
    for response, status, code in cases:
        assert response.status_code == status
        assert response.content_type == "application/json"
        body = await response.get_json()
        assert body["error"]["code"] == code
        assert "Traceback" not in str(body)


async def test_request_id_is_echoed_or_generated(client: Client) -> None:
    given = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["X-Request-ID"] == "abc-123"
    made = await client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert len(made.headers["X-Request-ID"]) == 32


async def test_metrics_use_route_templates(client: Client) -> None:
    await client.get("/slow/0.001")
    await client.get("/slow/0.002")
    text = (await (await client.get("/metrics")).get_data()).decode()
    assert 'route="/slow/<float:seconds>"' in text
    assert 'jeeves_http_requests_total{method="GET",route="/slow/<float:seconds>"' in text
    assert "jeeves_http_request_duration_seconds_bucket" in text
    assert "/slow/0.001" not in text


async def test_readyz_reports_each_check(app: Quart, client: Client) -> None:
    async def ok() -> str | None:
        return None

    async def broken() -> str | None:
        raise ConnectionError("refused")

    kit(app).readiness.add("good", ok)
    kit(app).readiness.add("bad", broken)
    response = await client.get("/readyz")
    assert response.status_code == 503
    checks = {c["name"]: c for c in (await response.get_json())["checks"]}
    assert checks["good"]["ok"] is True
    assert checks["bad"] == {
        "name": "bad",
        "ok": False,
        "state": "failing",
        "critical": True,
        "detail": "failing (ConnectionError)",
    }


DSN_ERROR = "could not connect to postgresql://jeeves:hunter2@db-7.internal.example:5432/jeeves"


async def test_readyz_never_answers_exception_text(app: Quart, client: Client) -> None:
    """Exception text can carry DSNs and hostnames: the body names the type only; the text
    goes to the log at info (secrets redacted there by the kit's logging)."""

    async def leaky() -> str | None:
        raise OSError(DSN_ERROR)

    kit(app).readiness.add("database", leaky)
    with capture_logs() as logged:
        response = await client.get("/readyz")
    body = await response.get_data(as_text=True)
    assert response.status_code == 503
    assert "hunter2" not in body
    assert "internal.example" not in body
    assert "could not connect" not in body
    [record] = [r for r in logged if r.get("event") == "readiness_check_failed"]
    assert record["log_level"] == "info"
    assert record["check"] == "database"
    assert "db-7.internal.example" in record["error"]


async def test_a_degraded_dependency_keeps_the_service_ready(app: Quart, client: Client) -> None:
    """Where a service can still work (last-known config), a failing dependency is reported,
    not turned into a 503 that takes every replica out of its Service."""

    async def etcd_down() -> str | None:
        raise Degraded("etcd unreachable; serving the last-known configuration")

    kit(app).readiness.add("config", etcd_down)
    response = await client.get("/readyz")
    assert response.status_code == 200
    body = await response.get_json()
    assert body["status"] == "degraded"
    [check] = body["checks"]
    assert check["state"] == "degraded"
    assert check["detail"] == "etcd unreachable; serving the last-known configuration"
    metrics = await (await client.get("/metrics")).get_data(as_text=True)
    assert 'jeeves_readiness_check_up{check="config"} 0.0' in metrics


async def test_http_client_closes_after_every_other_shutdown_hook() -> None:
    app = build(ServiceSettings())
    opened: list[aiohttp.ClientSession] = []
    seen_closed: list[bool] = []

    @app.after_serving
    async def _late_user() -> None:
        seen_closed.append(opened[0].closed)

    async with app.test_app():
        opened.append(kit(app).http.session)
    assert seen_closed == [False]
    assert opened[0].closed
