"""Jeeves / Actions: calls, latency and errors per action and per canary track, seen from the
action (its SDK's metrics) and from the dispatcher that calls it."""

from __future__ import annotations

from typing import Any

from jeeves.monitoring.dashboards.panels import RATE, Board, Query, query_variable, series

SEL = 'action=~"$action",track=~"$track"'
CALLS = "jeeves_action_requests_total"


def build() -> dict[str, Any]:
    board = Board(
        uid="jeeves-actions",
        title="Jeeves / Actions",
        description="Every action's calls, latency and errors, split by canary track "
        "(`track` comes from the operator's Pod label jeeves.dev/track).",
        variables=[
            query_variable(
                "action", "Action", "label_values(jeeves_action_requests_total, action)"
            ),
            query_variable("track", "Track", "label_values(jeeves_action_requests_total, track)"),
        ],
    )
    board.row("Seen by the action").add(
        series(
            "Calls per second by action and track",
            [
                Query(
                    f"sum by (action, track) (rate(jeeves_action_requests_total{{{SEL}}}[{RATE}]))",
                    "{{action}} ({{track}})",
                )
            ],
            unit="reqps",
        ),
        series(
            "Errors (share of calls) by action and track",
            [
                Query(
                    "(sum by (action, track) (rate(jeeves_action_requests_total"
                    f'{{{SEL},outcome=~"failed|invalid|unauthorized"}}[{RATE}]))'
                    " or sum by (action, track) (rate(jeeves_action_requests_total"
                    f"{{{SEL}}}[{RATE}])) * 0)"
                    " / sum by (action, track) (rate(jeeves_action_requests_total"
                    f"{{{SEL}}}[{RATE}]))",
                    "{{action}} ({{track}})",
                )
            ],
            unit="percentunit",
            description="5xx (retried by the dispatcher), bad envelopes and refused tokens; "
            "a 4xx the user is told about (rejected) is not an error of the action.",
        ),
        series(
            "Handler latency p99 by action and track",
            [
                Query(
                    "histogram_quantile(0.99, sum by (action, track, le) "
                    f"(rate(jeeves_action_duration_seconds_bucket{{{SEL}}}[{RATE}])))",
                    "{{action}} ({{track}})",
                )
            ],
            unit="s",
        ),
        series(
            "Outcomes by action",
            [
                Query(
                    f"sum by (action, outcome) (rate({CALLS}{{{SEL}}}[{RATE}]))",
                    "{{action}} {{outcome}}",
                )
            ],
            unit="reqps",
            stacked=True,
        ),
    )
    board.row("Seen by the dispatcher").add(
        series(
            "Call latency p99 (dispatcher → action)",
            [
                Query(
                    "histogram_quantile(0.99, sum by (action, le) (rate("
                    f'jeeves_dispatch_action_latency_seconds_bucket{{action=~"$action"}}[{RATE}])))',
                    "{{action}}",
                )
            ],
            unit="s",
        ),
        series(
            "Dispatch outcomes",
            [
                Query(
                    'sum by (action, outcome) (rate(jeeves_dispatch_total{action=~"$action"}'
                    f"[{RATE}]))",
                    "{{action}} {{outcome}}",
                )
            ],
            unit="ops",
        ),
        series(
            "Usage records (activity) by result",
            [
                Query(
                    f"sum by (result) (rate(jeeves_dispatch_activity_total[{RATE}]))", "{{result}}"
                )
            ],
            unit="ops",
        ),
        series(
            "Weather: Open-Meteo calls by outcome",
            [
                Query(
                    f"sum by (api, outcome) (rate(jeeves_weather_upstream_total[{RATE}]))",
                    "{{api}} {{outcome}}",
                )
            ],
            unit="ops",
        ),
    )
    return board.json()
