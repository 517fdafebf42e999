"""Jeeves / Pipeline: Slack in, the queues, dispatch per action, dead letters, the poster
(governor waits, 429s, Slack errors) and the alerts delivered through it."""

from __future__ import annotations

from typing import Any

from jeeves.monitoring.dashboards.panels import RATE, Board, Query, query_variable, series, single

EP = 'entrypoint=~"$entrypoint"'


def build() -> dict[str, Any]:
    board = Board(
        uid="jeeves-pipeline",
        title="Jeeves / Pipeline",
        description="Gateway → queue → dispatcher → queue → poster → Slack: where messages are, "
        "how long they wait, what failed.",
        variables=[
            query_variable("entrypoint", "Queue", "label_values(jeeves_queue_depth, entrypoint)"),
        ],
    )
    board.row("Slack in (gateway)").add(
        series(
            "Slack requests by type and outcome",
            [
                Query(
                    f"sum by (type, outcome) (rate(jeeves_gateway_events_total[{RATE}]))",
                    "{{type}} {{outcome}}",
                )
            ],
            unit="reqps",
        ),
        series(
            "Ack latency p99 / group commit p99",
            [
                Query("jeeves:slack_ack_latency_seconds:p99_5m", "ack p99 (5m)"),
                Query(
                    "histogram_quantile(0.99, sum by (le) "
                    f"(rate(jeeves_gateway_commit_seconds_bucket[{RATE}])))",
                    "commit p99",
                ),
            ],
            unit="s",
        ),
    )
    board.row("Queues").add(
        series(
            "Jobs waiting and running",
            [Query(f"jeeves:queue_depth{{{EP}}}", "{{entrypoint}} {{state}}")],
            width=8,
        ),
        series(
            "Oldest job age",
            [Query(f"jeeves:queue_oldest_job_age_seconds{{{EP}}}", "{{entrypoint}}")],
            unit="s",
            description="Alert JeevesQueueJobsWaiting above 5 minutes.",
            width=8,
        ),
        series(
            "Dead letters",
            [Query(f"jeeves:dead_letters{{{EP}}}", "{{entrypoint}}")],
            description="Jobs that will not run again until replayed (alert: growing).",
            width=8,
        ),
        series(
            "Jobs finished by outcome",
            [
                Query(
                    f"sum by (entrypoint, outcome) (rate(jeeves_queue_jobs_total{{{EP}}}[{RATE}]))",
                    "{{entrypoint}} {{outcome}}",
                )
            ],
            unit="ops",
        ),
        series(
            "Job age at finish p99 / handler time p99",
            [
                Query(
                    "histogram_quantile(0.99, sum by (entrypoint, le) "
                    f"(rate(jeeves_queue_job_age_seconds_bucket{{{EP}}}[{RATE}])))",
                    "{{entrypoint}} age",
                ),
                Query(
                    "histogram_quantile(0.99, sum by (entrypoint, le) "
                    f"(rate(jeeves_queue_job_duration_seconds_bucket{{{EP}}}[{RATE}])))",
                    "{{entrypoint}} handler",
                ),
            ],
            unit="s",
        ),
    )
    board.row("Dispatch").add(
        series(
            "Dispatch outcomes per action",
            [Query("jeeves:dispatch:rate5m", "{{action}} {{outcome}}")],
            unit="ops",
            stacked=True,
        ),
        series(
            "Replies handed to the poster",
            [Query(f"sum(rate(jeeves_dispatch_replies_total[{RATE}]))", "replies")],
            unit="ops",
        ),
    )
    board.row("Poster and Slack").add(
        single(
            "Replies posted (5m)",
            Query("jeeves:reply_success:ratio_rate5m"),
            unit="percentunit",
            description="Posted / (posted + failed) by the poster.",
            width=6,
        ),
        single(
            "Reply p99",
            Query("jeeves:reply_latency_seconds:p99_5m"),
            unit="s",
            warn=5,
            bad=10,
            width=6,
        ),
        single(
            "Slack 429s per second",
            Query("jeeves:slack_rate_limited:rate5m"),
            unit="reqps",
            warn=0.1,
            width=6,
        ),
        single(
            "Reply errors (5m)",
            Query("jeeves:reply_errors:ratio_rate5m"),
            unit="percentunit",
            warn=0.01,
            bad=0.144,
            width=6,
        ),
        series(
            "Posts by outcome",
            [Query(f"sum by (outcome) (rate(jeeves_poster_posts_total[{RATE}]))", "{{outcome}}")],
            unit="ops",
        ),
        series(
            "Governor wait p99 / reply latency p50 and p99",
            [
                Query(
                    "histogram_quantile(0.99, sum by (le) "
                    f"(rate(jeeves_poster_governor_wait_seconds_bucket[{RATE}])))",
                    "governor wait p99",
                ),
                Query(
                    "histogram_quantile(0.5, sum by (le) "
                    f"(rate(jeeves_reply_latency_seconds_bucket[{RATE}])))",
                    "reply p50",
                ),
                Query("jeeves:reply_latency_seconds:p99_5m", "reply p99 (5m)"),
            ],
            unit="s",
        ),
        series(
            "Slack errors by method and code",
            [Query("jeeves:slack_errors:rate5m", "{{method}} {{error}}")],
            unit="ops",
            description="invalid_auth and friends page (JeevesSlackInvalidAuth).",
        ),
        series(
            "Alert notifications by effect / clicks",
            [
                Query(
                    f"sum by (effect) (rate(jeeves_alerts_notifications_total[{RATE}]))",
                    "{{effect}}",
                ),
                Query(
                    f"sum by (button, result) (rate(jeeves_alerts_clicks_total[{RATE}]))",
                    "click {{button}} {{result}}",
                ),
            ],
            unit="ops",
        ),
    )
    return board.json()
