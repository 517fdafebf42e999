"""Prometheus metrics of the Slack emulator: Web API calls and deliveries to the gateway."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from jeeves.emulators.slack.domain.deliveries import Delivery


class EmulatorMetrics:
    def __init__(self, registry: CollectorRegistry, methods: list[str]) -> None:
        self._methods = frozenset(methods)
        self.api_calls = Counter(
            "jeeves_slack_emulator_api_calls_total",
            "Web API calls answered, by method and HTTP status",
            ["method", "status"],
            registry=registry,
        )
        self.deliveries = Counter(
            "jeeves_slack_emulator_deliveries_total",
            "Events, commands and clicks delivered to the gateway, by kind and outcome",
            ["kind", "outcome"],
            registry=registry,
        )
        self.attempts = Counter(
            "jeeves_slack_emulator_delivery_attempts_total",
            "HTTP requests sent to the gateway (first attempts and retries)",
            ["kind"],
            registry=registry,
        )

    def api_call(self, method: str, status: int) -> None:
        label = method if method in self._methods else "<unknown>"
        self.api_calls.labels(label, str(status)).inc()

    def delivered(self, delivery: Delivery) -> None:
        self.deliveries.labels(delivery.kind, "acked" if delivery.acked else "failed").inc()
        self.attempts.labels(delivery.kind).inc(len(delivery.attempts))
