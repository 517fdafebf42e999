"""Prometheus and Alertmanager configuration as data (pure): for `make dev`, the tests, and the
examples shipped for clusters without the Prometheus Operator.

Label contract (the same in every environment, so one set of rules and dashboards fits all):
`job="jeeves-<deployable>"` for every Jeeves process (`jeeves-gateway`, `jeeves-echo`, …),
`track="stable"|"canary"` on action targets; the stand-ins of `make dev` (Slack and weather
emulators) keep their own job names, so `job=~"jeeves-.*"` never matches them.

- `local_prometheus(...)`: static targets on loopback, the chart's rule files, Alertmanager;
- `kubernetes_scrape_configs()`: `kubernetes_sd_configs` jobs for Services and Pods labelled
  `app.kubernetes.io/part-of: jeeves` (the chart's Services, the operator's action Pods) with
  the port named `http` — the plain-Prometheus equivalent of the chart's ServiceMonitors;
- `alertmanager_config(...)`: a route to the `jeeves-alerts` webhook (bearer token), grouping by
  alert name and job, and the inhibition of `JeevesConfigStale` by `JeevesEtcdUnreachable`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

EMULATORS = frozenset({"slack-emulator", "weather-emulator"})
ACTIONS_COMPONENT = "action"
WEBHOOK_PATH = "/v1/alertmanager"


@dataclass(frozen=True)
class Target:
    job: str
    address: str  # host:port
    labels: Mapping[str, str] = field(default_factory=dict)


def job_name(deployable: str) -> str:
    """`jeeves-<deployable>` for Jeeves's own processes; stand-ins keep their name."""
    return deployable if deployable in EMULATORS else f"jeeves-{deployable}"


def local_prometheus(
    targets: Sequence[Target],
    *,
    rule_files: Sequence[Path],
    alertmanager: str | None,
    interval_s: float,
    self_address: str,
) -> dict[str, Any]:
    """Prometheus for loopback: one job per target (plus Prometheus itself), rules loaded."""
    interval = _duration(interval_s)
    jobs: dict[str, list[dict[str, Any]]] = {}
    for target in targets:
        group: dict[str, Any] = {"targets": [target.address]}
        if target.labels:
            group["labels"] = dict(target.labels)
        jobs.setdefault(target.job, []).append(group)
    scrape = [{"job_name": "prometheus", "static_configs": [{"targets": [self_address]}]}]
    scrape += [{"job_name": job, "static_configs": groups} for job, groups in sorted(jobs.items())]
    config: dict[str, Any] = {
        "global": {
            "scrape_interval": interval,
            "scrape_timeout": _duration(min(interval_s, 10.0) * 0.8),
            "evaluation_interval": interval,
        },
        "rule_files": [str(path) for path in rule_files],
        "scrape_configs": scrape,
    }
    if alertmanager:
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]}
    return config


def _duration(seconds: float) -> str:
    """Prometheus's duration syntax (whole units only: `800ms`, `5s`)."""
    millis = round(seconds * 1000)
    return f"{millis // 1000}s" if millis % 1000 == 0 else f"{millis}ms"


def _keep_jeeves(role: str) -> list[dict[str, Any]]:
    prefix = f"__meta_kubernetes_{role}_label_"
    port = (
        "__meta_kubernetes_endpoint_port_name"
        if role == "service"
        else ("__meta_kubernetes_pod_container_port_name")
    )
    return [
        {
            "source_labels": [f"{prefix}app_kubernetes_io_part_of"],
            "regex": "jeeves",
            "action": "keep",
        },
        {"source_labels": [port], "regex": "http", "action": "keep"},
    ]


def kubernetes_scrape_configs(namespace: str = "jeeves") -> list[dict[str, Any]]:
    """Service discovery jobs equivalent to the chart's ServiceMonitors and PodMonitor."""
    services = {
        "job_name": "jeeves-services",
        "kubernetes_sd_configs": [{"role": "endpoints", "namespaces": {"names": [namespace]}}],
        "relabel_configs": [
            *_keep_jeeves("service"),
            {
                "source_labels": ["__meta_kubernetes_service_label_app_kubernetes_io_component"],
                "regex": ACTIONS_COMPONENT,
                "action": "drop",  # action Pods are scraped by the job below, with their track
            },
            {"source_labels": ["__meta_kubernetes_service_name"], "target_label": "job"},
            {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
            {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
        ],
    }
    pods = {
        "job_name": "jeeves-actions",
        "kubernetes_sd_configs": [{"role": "pod", "namespaces": {"names": [namespace]}}],
        "relabel_configs": [
            *_keep_jeeves("pod"),
            {
                "source_labels": ["__meta_kubernetes_pod_label_app_kubernetes_io_component"],
                "regex": ACTIONS_COMPONENT,
                "action": "keep",
            },
            {
                "source_labels": ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"],
                "regex": "true",
                "action": "keep",
            },
            {
                "source_labels": ["__meta_kubernetes_pod_annotation_prometheus_io_path"],
                "regex": "(.+)",
                "target_label": "__metrics_path__",
            },
            {
                "source_labels": ["__meta_kubernetes_pod_label_app_kubernetes_io_name"],
                "target_label": "job",
            },
            {
                "source_labels": ["__meta_kubernetes_pod_label_jeeves_dev_track"],
                "target_label": "track",
            },
            {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
            {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
        ],
    }
    return [services, pods]


def alertmanager_config(
    webhook_base_url: str,
    *,
    token: str | None = None,
    token_file: str | None = None,
    group_wait: str = "30s",
    group_interval: str = "5m",
    repeat_interval: str = "4h",
) -> dict[str, Any]:
    """Every alert to the `jeeves-alerts` webhook, authenticated with a bearer token."""
    credentials: dict[str, Any] = {"type": "Bearer"}
    if token_file:
        credentials["credentials_file"] = token_file
    else:
        credentials["credentials"] = token or ""
    return {
        "route": {
            "receiver": "jeeves",
            "group_by": ["alertname", "job"],
            "group_wait": group_wait,
            "group_interval": group_interval,
            "repeat_interval": repeat_interval,
        },
        "receivers": [
            {
                "name": "jeeves",
                "webhook_configs": [
                    {
                        "url": webhook_base_url.rstrip("/") + WEBHOOK_PATH,
                        "send_resolved": True,
                        "max_alerts": 50,
                        "http_config": {"authorization": credentials},
                    }
                ],
            }
        ],
        "inhibit_rules": [
            {
                "source_matchers": ['alertname="JeevesEtcdUnreachable"'],
                "target_matchers": ['alertname="JeevesConfigStale"'],
                "equal": ["job", "instance"],
            }
        ],
    }


EXAMPLE_NAMESPACE = "namespace-of-jeeves"  # the chart puts the release's namespace here
EXAMPLE_TOKEN_FILE = "/etc/alertmanager/secrets/jeeves-alerts-webhook/token"  # noqa: S105 (a path)
EXAMPLE_HEADER = (
    "# GENERATED by `python -m jeeves.monitoring` from src/jeeves/monitoring/scrape.py.\n"
    "# {what} See docs/monitoring.md.\n"
)


def render_scrape_example() -> str:
    """files/examples/prometheus-scrape-configs.yml: the jobs to paste under `scrape_configs:`."""
    what = "Jeeves's scrape jobs for a Prometheus without the Operator (Kubernetes discovery)."
    body = yaml.safe_dump(
        {"scrape_configs": kubernetes_scrape_configs(EXAMPLE_NAMESPACE)}, sort_keys=False
    )
    return EXAMPLE_HEADER.format(what=what) + body


def render_alertmanager_example() -> str:
    """files/examples/alertmanager.yml: route and receiver for jeeves-alerts (token in a file,
    e.g. the chart's Secret mounted into Alertmanager)."""
    what = "An Alertmanager route and receiver delivering alerts to Slack through jeeves-alerts."
    config = alertmanager_config(
        f"http://jeeves-alerts.{EXAMPLE_NAMESPACE}.svc:8080", token_file=EXAMPLE_TOKEN_FILE
    )
    return EXAMPLE_HEADER.format(what=what) + yaml.safe_dump(config, sort_keys=False)
