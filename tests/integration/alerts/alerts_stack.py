"""The delivery path from a real Alertmanager to the emulated Slack, for the alerts tests.

Real: PostgreSQL (the pipeline database: queue, outbound log, alert tables, each migrated by its
own `migrate`), Debian's Alertmanager 0.25 (grouping, repeat_interval, send_resolved, the v2
silences API), `jeeves-alerts`, `jeeves-poster` and the Slack emulator. Nothing is faked;
Alertmanager's timings are shortened (1 s group_wait, 2 s group_interval and repeat_interval)
so a firing → resolved cycle takes seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from jeeves.localstack.ports import free_port
from jeeves.localstack.prometheus import AlertmanagerServer
from jeeves.monitoring.scrape import alertmanager_config
from support.services import ServiceProcess, migrate
from support.slack import SlackEmulator, start_slack_emulator

TOKEN = "xoxb-alerts-test-token"
WEBHOOK_TOKEN = "alertmanager-webhook-test-token"
ADMIN = "alerts-admin-token"
DEFAULT_CHANNEL = "C0ALERTS"
ROUTES = (
    '[{"match": {"team": "payments"}, "channel": "C0PAYMENTS"},'
    ' {"match": {"team": "outage"}, "channel": "C0OUTAGE"}]'
)


@dataclass
class Delivery:
    """Everything between Alertmanager and Slack, started once per module."""

    alertmanager: AlertmanagerServer
    alerts: ServiceProcess
    poster: ServiceProcess
    slack: SlackEmulator
    database_url: str


@contextmanager
def running_delivery(database_url: str) -> Iterator[Delivery]:
    """Everything started, yielded, then stopped (logs printed for a failing test)."""
    for command in ("jeeves-poster", "jeeves-alerts"):
        migrate(command, database_url)
    started: list[ServiceProcess] = []
    alertmanager = AlertmanagerServer(port=free_port())
    try:
        emulator = start_slack_emulator(token=TOKEN)
        started.append(emulator)
        slack = SlackEmulator(emulator.url)
        poster = ServiceProcess(
            "jeeves-poster",
            {
                "JEEVES_DATABASE_URL": database_url,
                "JEEVES_SLACK_BOT_TOKEN": TOKEN,
                "JEEVES_SLACK_API_URL": slack.api_url,
                "JEEVES_SLACK_TIMEOUT_S": "2",
                "JEEVES_POST_MAX_WAIT_S": "2",
                "JEEVES_POST_LEASE_S": "5",
                "JEEVES_QUEUE_MAX_ATTEMPTS": "8",
                "JEEVES_QUEUE_RETRY_BASE_S": "0.5",
                "JEEVES_QUEUE_RETRY_MAX_S": "2",
                "JEEVES_QUEUE_HEARTBEAT_TIMEOUT_S": "1",
            },
        )
        started.append(poster.start())
        alerts = ServiceProcess(
            "jeeves-alerts",
            {
                "JEEVES_DATABASE_URL": database_url,
                "JEEVES_ALERTS_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
                "JEEVES_ALERTS_DEFAULT_CHANNEL": DEFAULT_CHANNEL,
                "JEEVES_ALERTS_ROUTES": ROUTES,
                "JEEVES_ALERTMANAGER_URL": alertmanager.url,
                "JEEVES_ADMIN_TOKEN": ADMIN,
                # The emulator's workspace: a one-workspace poster posts it with its own token.
                "JEEVES_ALERTS_TEAM_ID": "T0TEAM",
            },
        )
        started.append(alerts.start())
        alertmanager.write_config(
            alertmanager_config(
                alerts.url,
                token=WEBHOOK_TOKEN,
                group_wait="1s",
                group_interval="2s",
                repeat_interval="2s",
            )
        )
        alertmanager.start()
        yield Delivery(alertmanager, alerts, poster, slack, database_url)
    finally:
        for service in reversed(started):
            print(f"===== {service.command}\n{service.logs()[-8000:]}")  # shown on failure
            service.close()
        print(f"===== alertmanager\n{alertmanager.logs()[-4000:]}")
        alertmanager.close()
