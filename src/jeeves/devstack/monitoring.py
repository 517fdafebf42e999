"""Prometheus and Alertmanager for `make dev`: every local service scraped, the chart's rules
loaded, alerts delivered to Slack (the emulator) by the local `jeeves-alerts`.

Prometheus scrapes each service under the same `job` names as in a cluster
(`jeeves.monitoring.scrape`), so the rules and dashboards are the chart's, unchanged. Both run
from `<data-dir>/prometheus` and `<data-dir>/alertmanager` on the ports `make dev` allocated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from jeeves.devstack.plan import ServiceSpec
from jeeves.localstack.prometheus import AlertmanagerServer, PrometheusServer
from jeeves.monitoring.files import rule_files
from jeeves.monitoring.scrape import Target, alertmanager_config, job_name, local_prometheus

ACTIONS = frozenset({"echo", "memory", "weather", "alerts"})


@dataclass
class Monitoring:
    prometheus: PrometheusServer
    alertmanager: AlertmanagerServer

    def rows(self) -> list[tuple[str, str, str]]:
        return [
            ("prometheus", self.prometheus.url, "Prometheus: every service, the chart's rules"),
            ("alertmanager", self.alertmanager.url, "Alertmanager → jeeves-alerts → Slack"),
        ]

    def stop(self) -> None:
        self.prometheus.stop()
        self.alertmanager.stop()


def targets(plan: list[ServiceSpec]) -> list[Target]:
    """One scrape target per local process; actions carry `track="stable"` as in a cluster."""
    return [
        Target(
            job_name(spec.name),
            f"127.0.0.1:{spec.port}",
            {"track": "stable"} if spec.name in ACTIONS else {},
        )
        for spec in plan
    ]


def start_monitoring(
    data_dir: Path,
    plan: list[ServiceSpec],
    ports: Mapping[str, int],
    *,
    interval_s: float = 5.0,
) -> Monitoring:
    """Start Alertmanager, then Prometheus (in the calling thread: see `die_with_parent`)."""
    alerts = next((spec for spec in plan if spec.name == "alerts"), None)
    alertmanager = AlertmanagerServer(data_dir / "alertmanager", port=ports["alertmanager"])
    webhook = alerts.url if alerts is not None else "http://127.0.0.1:9"
    token = alerts.env.get("JEEVES_ALERTS_WEBHOOK_TOKEN", "") if alerts is not None else ""
    alertmanager.write_config(
        alertmanager_config(
            webhook,
            token=token,
            group_wait=f"{interval_s:g}s",
            group_interval=f"{6 * interval_s:g}s",
            repeat_interval="1h",
        )
    )
    alertmanager.start()
    prometheus = PrometheusServer(data_dir / "prometheus", port=ports["prometheus"])
    prometheus.write_config(
        local_prometheus(
            targets(plan),
            rule_files=rule_files(),
            alertmanager=f"127.0.0.1:{alertmanager.port}",
            interval_s=interval_s,
            self_address=f"127.0.0.1:{prometheus.port}",
        )
    )
    try:
        prometheus.start()
    except Exception:
        alertmanager.stop()
        raise
    return Monitoring(prometheus, alertmanager)
