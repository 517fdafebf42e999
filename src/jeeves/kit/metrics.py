"""Prometheus metrics for HTTP traffic, served at `/metrics`.

Labels use the route template (`/v1/users/<user_id>`), never the raw path, so cardinality stays
bounded. Each app gets its own registry so several apps can live in one test process.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from quart import Quart, Response

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


class LabelCache:
    """`metric.labels(*values)`, remembered: on a hot path labels() costs more than inc()."""

    def __init__(self) -> None:
        self._children: dict[tuple[int | str, ...], Any] = {}

    def __call__(self, metric: Any, *values: str) -> Any:
        key: tuple[int | str, ...] = (id(metric), *values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*values)
        return child


def install_metrics(app: Quart, registry: CollectorRegistry) -> HttpMetrics:
    """The HTTP metric family (counted by the kit's ASGI middleware), served with the rest of
    `registry` at GET /metrics."""
    metrics = HttpMetrics(registry)

    @app.get("/metrics")
    async def _metrics() -> Response:
        return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)

    return metrics
