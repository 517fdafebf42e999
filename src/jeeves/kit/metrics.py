"""Prometheus metrics for HTTP traffic, served at `/metrics`.

Labels use the route template (`/v1/users/<user_id>`), never the raw path, so cardinality stays
bounded. Each app gets its own registry so several apps can live in one test process.
"""

from __future__ import annotations

import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from quart import Quart, Response, g, request

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED_ROUTE = "<unmatched>"


class HttpMetrics:
    """The HTTP metric family of one service."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "jeeves_http_requests_total",
            "HTTP requests answered",
            ["service", "route", "method", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "jeeves_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["service", "route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.in_progress = Gauge(
            "jeeves_http_requests_in_progress",
            "HTTP requests being answered",
            ["service"],
            registry=registry,
        )


def route_template() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED_ROUTE


def install_metrics(app: Quart, service: str, registry: CollectorRegistry) -> HttpMetrics:
    """Count and time every request, and serve the registry at GET /metrics."""
    metrics = HttpMetrics(registry)
    in_progress = metrics.in_progress.labels(service)

    @app.before_request
    async def _start_timer() -> None:
        g.jeeves_started = time.perf_counter()
        g.jeeves_counted = True
        in_progress.inc()

    @app.after_request
    async def _observe(response: Response) -> Response:
        if getattr(g, "jeeves_counted", False):
            g.jeeves_counted = False
            in_progress.dec()
            route = route_template()
            elapsed = time.perf_counter() - g.jeeves_started
            metrics.requests.labels(service, route, request.method, str(response.status_code)).inc()
            metrics.duration.labels(service, route, request.method).observe(elapsed)
        return response

    @app.teardown_request
    async def _release(_exc: BaseException | None) -> None:
        if getattr(g, "jeeves_counted", False):
            g.jeeves_counted = False
            in_progress.dec()

    @app.get("/metrics")
    async def _metrics() -> Response:
        return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)

    return metrics
