"""The kit's ASGI middleware: request ids, metrics and access log for Quart routes and for a raw
ASGI front mounted before Quart (the gateway's Slack routes), through Quart's test client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client
from structlog.testing import capture_logs

from jeeves.kit.asgi import ROUTE_KEY, ASGIApp, Receive, Scope, Send, mount_front
from jeeves.kit.context import current_request_id
from jeeves.kit.settings import ServiceSettings
from support.slow_app import build

pytestmark = pytest.mark.unit


class Front:
    """Answers `/front` itself, as the gateway's Slack routes do; the rest goes to Quart."""

    def __init__(self, inner: ASGIApp) -> None:
        self.inner = inner
        self.seen_request_ids: list[str | None] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/front":
            await self.inner(scope, receive, send)
            return
        scope[ROUTE_KEY] = "/front"
        self.seen_request_ids.append(current_request_id())
        body = b'{"ok":true}'
        headers: list[Any] = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 202, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _unmounted(_scope: Scope, _receive: Receive, _send: Send) -> None:
    raise AssertionError("the front was not mounted")


@pytest.fixture(name="front")
def fixture_front() -> Front:
    return Front(_unmounted)


@pytest.fixture(name="app")
async def fixture_app(front: Front) -> AsyncIterator[Quart]:
    app = build(ServiceSettings())

    def mount(inner: ASGIApp) -> Front:
        front.inner = inner
        return front

    mount_front(app, mount)
    async with app.test_app():
        yield app


@pytest.fixture(name="client")
def fixture_client(app: Quart) -> Client:
    return app.test_client()


async def test_a_front_keeps_the_kit_contract(client: Client, front: Front) -> None:
    with capture_logs() as logged:
        response = await client.get("/front", headers={"X-Request-ID": "req-front-1"})
    assert response.status_code == 202
    assert response.headers["X-Request-ID"] == "req-front-1"
    assert front.seen_request_ids == ["req-front-1"]  # bound while the front answers
    assert current_request_id() is None  # and cleared afterwards
    [line] = [r for r in logged if r.get("event") == "request"]
    assert line["route"] == "/front"
    assert line["status"] == 202
    metrics = await (await client.get("/metrics")).get_data(as_text=True)
    assert 'route="/front",service="slowapp",status="202"' in metrics


async def test_quart_routes_still_pass_through_the_front(client: Client) -> None:
    response = await client.get("/slow/0.001")
    assert response.status_code == 200
    assert len(response.headers["X-Request-ID"]) == 32


async def test_unmatched_paths_have_one_label_and_health_is_not_logged(client: Client) -> None:
    with capture_logs() as logged:
        await client.get("/nope/1")
        await client.get("/nope/2")
        await client.get("/healthz")
    routes = [r["route"] for r in logged if r.get("event") == "request"]
    assert routes == ["<unmatched>", "<unmatched>"]
    metrics = await (await client.get("/metrics")).get_data(as_text=True)
    assert 'route="<unmatched>",service="slowapp",status="404"} 2.0' in metrics
    assert "/nope/1" not in metrics


async def test_a_failing_handler_is_counted_as_500(client: Client) -> None:
    response = await client.get("/boom")
    assert response.status_code == 500
    metrics = await (await client.get("/metrics")).get_data(as_text=True)
    assert 'route="/boom",service="slowapp",status="500"} 1.0' in metrics
