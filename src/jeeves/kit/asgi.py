"""The kit's per-request contract as one ASGI middleware in front of every service.

`RequestContext` wraps a service's whole ASGI app (Quart, and anything mounted in front of Quart
with `mount_front`, like the gateway's Slack routes) and, for every HTTP request:
- adopts a sane `X-Request-ID` or makes one, binds it for logs and outbound calls, and echoes it
  on the response;
- counts and times the request in the kit's HTTP metrics, labelled by route template;
- writes one access-log line (not for `/healthz`, `/readyz`, `/metrics`).

It is plain ASGI rather than Quart hooks because it sits on every request of the hot path
(docs/performance.md): one wrapper per request, no per-request objects beyond a closure. Whoever
answers names the route template in the scope under `ROUTE_KEY` (Quart's rule, set by a
`before_request` hook; a raw ASGI front its own path), so metric labels stay bounded; requests no
route claimed are labelled `<unmatched>`. WebSocket and lifespan scopes pass through untouched.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, cast

from quart import Quart, request

from jeeves.kit.context import bind_request_id, clear_request_id
from jeeves.kit.logging import get_logger
from jeeves.kit.metrics import UNMATCHED_ROUTE, HttpMetrics, LabelCache

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]  # Quart's asgi_app, or a front mounted before it

ROUTE_KEY = "jeeves.route"
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
_REQUEST_ID = b"x-request-id"

access_log = get_logger("jeeves.access")


class RequestContext:
    """Request id, HTTP metrics and access log around `app`, for one service."""

    def __init__(self, app: ASGIApp, service: str, metrics: HttpMetrics) -> None:
        self.app = app
        self.service = service
        self.metrics = metrics
        self.labels = LabelCache()
        self.in_progress = metrics.in_progress.labels(service)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        given = next((v for k, v in scope["headers"] if k == _REQUEST_ID), None)
        request_id = bind_request_id(given.decode("latin-1") if given is not None else None)
        echoed = (_REQUEST_ID, request_id.encode())
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), echoed]
            await send(message)

        self.in_progress.inc()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self.in_progress.dec()
            elapsed = time.perf_counter() - started
            route, method = scope.get(ROUTE_KEY, UNMATCHED_ROUTE), scope["method"]
            labels, service = self.labels, self.service
            labels(self.metrics.requests, service, route, method, str(status)).inc()
            labels(self.metrics.duration, service, route, method).observe(elapsed)
            if route not in QUIET_ROUTES:
                access_log.info(
                    "request",
                    method=method,
                    route=route,
                    status=status,
                    duration_ms=round(elapsed * 1000, 2),
                )
            clear_request_id()


def install_request_context(app: Quart, service: str, metrics: HttpMetrics) -> None:
    """Put `RequestContext` in front of `app`, and have Quart name the route it matched."""
    app.asgi_app = RequestContext(app.asgi_app, service, metrics)  # type: ignore[method-assign,assignment]

    @app.before_request
    async def _name_route() -> None:
        rule = request.url_rule
        if rule is not None:
            cast("Scope", request.scope)[ROUTE_KEY] = rule.rule


def mount_front(app: Quart, front: Callable[[ASGIApp], ASGIApp]) -> None:
    """Serve `front(quart)` behind the kit's middleware: an ASGI app that answers some paths
    itself (naming them under `ROUTE_KEY`) and hands the rest to Quart keeps the kit's contract."""
    context = app.asgi_app
    assert isinstance(context, RequestContext), "create_app installs RequestContext first"
    context.app = front(context.app)
