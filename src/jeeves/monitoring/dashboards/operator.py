"""Jeeves / Operator: reconciles, their duration and errors, drift corrections, etcd."""

from __future__ import annotations

from typing import Any

from jeeves.monitoring.dashboards.panels import RATE, Board, Query, series, single

OP = 'job="jeeves-operator"'


def build() -> dict[str, Any]:
    board = Board(
        uid="jeeves-operator",
        title="Jeeves / Operator",
        description="The JeevesAction operator: how often it reconciles, how long that takes, "
        "what fails, what it corrected, and whether it can write the etcd registry.",
    )
    board.row("Reconciles").add(
        single("Registry reachable", Query(f"min(jeeves_operator_registry_up{{{OP}}})"), width=6),
        single(
            "Reconcile errors per second",
            Query(
                f'sum(rate(jeeves_operator_reconciles_total{{{OP},result="error"}}[{RATE}]))'
                f" or sum(rate(jeeves_operator_reconciles_total{{{OP}}}[{RATE}])) * 0"
            ),
            unit="ops",
            warn=0.01,
            width=6,
        ),
        single(
            "Operator up",
            Query(f"sum(up{{{OP}}})"),
            description="Replicas scraped (one is the leader; the others stand by).",
            width=6,
        ),
        single(
            "Drift corrections (1h)",
            Query(f"sum(increase(jeeves_operator_drift_corrections_total{{{OP}}}[1h]))"),
            width=6,
        ),
        series(
            "Reconciles by result",
            [
                Query(
                    f"sum by (result) (rate(jeeves_operator_reconciles_total{{{OP}}}[{RATE}]))",
                    "{{result}}",
                )
            ],
            unit="ops",
        ),
        series(
            "Reconcile duration p50 / p99",
            [
                Query(
                    "histogram_quantile(0.5, sum by (le) (rate("
                    f"jeeves_operator_reconcile_duration_seconds_bucket{{{OP}}}[{RATE}])))",
                    "p50",
                ),
                Query(
                    "histogram_quantile(0.99, sum by (le) (rate("
                    f"jeeves_operator_reconcile_duration_seconds_bucket{{{OP}}}[{RATE}])))",
                    "p99",
                ),
            ],
            unit="s",
        ),
    )
    board.row("Corrections and resources").add(
        series(
            "Drift corrections by kind",
            [
                Query(
                    "sum by (kind) (increase(jeeves_operator_drift_corrections_total"
                    f"{{{OP}}}[{RATE}]))",
                    "{{kind}}",
                )
            ],
            description="Objects changed back after someone else edited or deleted them.",
        ),
        series(
            "CPU and memory",
            [
                Query(f"sum(rate(process_cpu_seconds_total{{{OP}}}[{RATE}]))", "CPU (cores)"),
                Query(f"sum(process_resident_memory_bytes{{{OP}}}) / 2^20", "RSS (MiB)"),
            ],
        ),
    )
    return board.json()
