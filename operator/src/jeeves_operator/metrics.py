"""Prometheus metrics of the operator (served on JEEVES_BIND /metrics by `serving`)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

RECONCILES = Counter(
    "jeeves_operator_reconciles",
    "Reconciles of JeevesActions by result (ok, rejected, retry, error).",
    ["result"],
)
RECONCILE_SECONDS = Histogram(
    "jeeves_operator_reconcile_duration_seconds",
    "Time spent in one reconcile of one JeevesAction.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
DRIFT_CORRECTIONS = Counter(
    "jeeves_operator_drift_corrections",
    "Objects the operator changed back after someone else edited or deleted them.",
    ["kind"],
)
REGISTRY_UP = Gauge(
    "jeeves_operator_registry_up",
    "1 when the last etcd call succeeded, 0 when it failed.",
)

# Every series rate() and increase() read exists from the start at 0: a label set that first
# appears at its first increment hides that increment from Prometheus.
for _result in ("ok", "rejected", "retry", "error"):
    RECONCILES.labels(_result)
for _kind in ("Deployment", "Service"):
    DRIFT_CORRECTIONS.labels(_kind)
