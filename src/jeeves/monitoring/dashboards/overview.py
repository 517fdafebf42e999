"""Jeeves / Overview: the SLOs, then traffic, latency, errors and saturation per service."""

from __future__ import annotations

from typing import Any

from jeeves.monitoring.dashboards.panels import RATE, Board, Query, query_variable, series, single

JOB = 'job=~"$job"'
REQUESTS = "jeeves_http_requests_total"


def build() -> dict[str, Any]:
    board = Board(
        uid="jeeves-overview",
        title="Jeeves / Overview",
        description="Jeeves at a glance: SLOs, then traffic, latency, errors and saturation per "
        "service (the RED method plus the process's own CPU, memory and file descriptors).",
        variables=[
            query_variable("job", "Service", 'label_values(up{job=~"jeeves-.*"}, job)'),
        ],
    )
    board.row("Service-level objectives").add(
        single(
            "Slack ack errors (1h)",
            Query("jeeves:slack_ack_errors:ratio_rate1h"),
            unit="percentunit",
            description="Slack requests answered with a 5xx or slower than 0.5 s; SLO 99.9%.",
            warn=0.001,
            bad=0.0144,
        ),
        single(
            "Replies late or lost (1h)",
            Query("jeeves:reply_errors:ratio_rate1h"),
            unit="percentunit",
            description="Replies not posted within 10 s of the event; SLO 99%.",
            warn=0.01,
            bad=0.144,
        ),
        single(
            "Slack ack p99",
            Query("jeeves:slack_ack_latency_seconds:p99_5m"),
            unit="s",
            warn=0.25,
            bad=0.5,
        ),
        single(
            "Alerts firing",
            Query('count(ALERTS{alertname=~"Jeeves.*",alertstate="firing"}) or vector(0)'),
            description="Jeeves alerts firing now (see the runbook for each).",
            warn=1,
            bad=3,
        ),
    )
    board.add(
        series(
            "Error budget burn rate",
            [
                Query("jeeves:slack_ack_errors:ratio_rate1h / 0.001", "Slack ack (1h)"),
                Query("jeeves:reply_errors:ratio_rate1h / 0.01", "reply (1h)"),
                Query("jeeves:reply_errors:ratio_rate5m / 0.01", "reply (5m)"),
            ],
            unit="x",
            description="1 = spending the month's budget exactly; 14.4 over 1 h pages.",
            width=24,
        ),
    )
    board.row("Traffic").add(
        series(
            "Requests per second",
            [Query(f"sum by (job) (rate(jeeves_http_requests_total{{{JOB}}}[{RATE}]))", "{{job}}")],
            unit="reqps",
        ),
        series(
            "Targets up",
            [Query(f"sum by (job) (up{{{JOB}}})", "{{job}}")],
            description="Processes Prometheus scrapes successfully, per service.",
        ),
    )
    board.row("Latency").add(
        series(
            "Request latency p99",
            [
                Query(
                    "histogram_quantile(0.99, sum by (job, le) (rate("
                    f"jeeves_http_request_duration_seconds_bucket{{{JOB}}}[{RATE}])))",
                    "{{job}}",
                )
            ],
            unit="s",
        ),
        series(
            "Request latency p50",
            [
                Query(
                    "histogram_quantile(0.5, sum by (job, le) (rate("
                    f"jeeves_http_request_duration_seconds_bucket{{{JOB}}}[{RATE}])))",
                    "{{job}}",
                )
            ],
            unit="s",
        ),
    )
    board.row("Errors").add(
        series(
            "5xx answers (share of requests)",
            [
                Query(
                    f'(sum by (job) (rate({REQUESTS}{{{JOB},status=~"5.."}}[{RATE}]))'
                    f" or sum by (job) (rate({REQUESTS}{{{JOB}}}[{RATE}])) * 0)"
                    f" / sum by (job) (rate({REQUESTS}{{{JOB}}}[{RATE}]))",
                    "{{job}}",
                )
            ],
            unit="percentunit",
        ),
        series(
            "Queue jobs retried or dead-lettered",
            [
                Query(
                    "sum by (job, outcome) (rate(jeeves_queue_jobs_total"
                    f'{{{JOB},outcome!="done"}}[{RATE}]))',
                    "{{job}} {{outcome}}",
                )
            ],
            unit="ops",
        ),
    )
    board.row("Saturation").add(
        series(
            "CPU (cores)",
            [Query(f"sum by (job) (rate(process_cpu_seconds_total{{{JOB}}}[{RATE}]))", "{{job}}")],
            unit="short",
            width=8,
        ),
        series(
            "Resident memory",
            [Query(f"sum by (job) (process_resident_memory_bytes{{{JOB}}})", "{{job}}")],
            unit="bytes",
            width=8,
        ),
        series(
            "Requests in flight",
            [Query(f"sum by (job) (jeeves_http_requests_in_progress{{{JOB}}})", "{{job}}")],
            width=8,
        ),
        series(
            "File descriptors used",
            [
                Query(
                    f"max by (job) (process_open_fds{{{JOB}}} / process_max_fds{{{JOB}}})",
                    "{{job}}",
                )
            ],
            unit="percentunit",
            width=12,
        ),
        series(
            "etcd reachable / config age",
            [
                Query(f"min by (job) (jeeves_etcd_up{{{JOB}}})", "{{job}} etcd up"),
                Query(
                    f"max by (job) (jeeves:config_staleness_seconds{{{JOB}}})",
                    "{{job}} config age (s)",
                ),
            ],
            width=12,
        ),
    )
    return board.json()
