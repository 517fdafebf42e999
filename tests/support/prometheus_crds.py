"""The Prometheus Operator's kinds checked against its own CRD models (cloudcoil's
prometheus-operator 0.80 models): a field the Operator would not know is reported, a wrong
type raises. Shared by the chart tests of charts/jeeves, jeeves-operator and jeeves-monitoring.
"""

from __future__ import annotations

from typing import Any

from cloudcoil.models.prometheus_operator import v1, v1alpha1

CRD_MODELS: dict[str, Any] = {
    "ServiceMonitor": v1.ServiceMonitor,
    "PodMonitor": v1.PodMonitor,
    "PrometheusRule": v1.PrometheusRule,
    "AlertmanagerConfig": v1alpha1.AlertmanagerConfig,
}


def _lost(given: Any, again: Any, path: str = "") -> list[str]:
    if isinstance(given, dict) and isinstance(again, dict):
        return [
            problem
            for key, value in given.items()
            for problem in (
                [f"{path}/{key}"] if key not in again else _lost(value, again[key], f"{path}/{key}")
            )
        ]
    if isinstance(given, list) and isinstance(again, list):
        return [
            p
            for n, (a, b) in enumerate(zip(given, again, strict=True))
            for p in _lost(a, b, f"{path}[{n}]")
        ]
    return []


def crd_problems(obj: dict[str, Any]) -> list[str]:
    """Unknown fields (lost when read by the Operator's own models); type errors raise."""
    model = CRD_MODELS[obj["kind"]].model_validate(obj)
    again = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    return _lost(obj, again)
