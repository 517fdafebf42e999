"""Starting the whole conversation pipeline as real processes (for tests/e2e and the bench).

Real: PostgreSQL (one database shared by the ingress, dispatcher and poster, migrated by their
own `migrate` commands), the Slack emulator (signs and sends events, records chat.postMessage),
the ingress — `jeeves-gateway` (Events API over HTTP) or two `jeeves-socket` replicas (Socket
Mode) —, `jeeves-dispatcher`, `jeeves-poster` and the `jeeves-echo` action with its test-only
fault controls, all authenticating through a real `jeeves-tokens` (every call between services
carries its JWT; the admin APIs need scope `admin`). Nothing is faked; queue timings are
shortened (1 s heartbeats, fast backoff) so crash tests finish in seconds.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jeeves.localstack.ports import wait_until
from support.dealer import Dealer, start_dealer
from support.services import ServiceProcess, http_json, migrate
from support.slack import BOT_USER_ID, SlackEmulator, start_slack_emulator

SECRET = "e2e-signing-secret"
TOKEN = "xoxb-e2e-bot-token"
ADMIN = "e2e-admin-token"
APP_TOKEN = "xapp-1-e2e-app-token"
# The two ways Slack reaches Jeeves: each e2e conversation test runs over both.
INGRESSES = ("events_api", "socket_mode")
SOCKET_REPLICAS = 2
FAST_QUEUE = {
    "JEEVES_QUEUE_HEARTBEAT_TIMEOUT_S": "1",
    "JEEVES_QUEUE_RETRY_BASE_S": "0.2",
    "JEEVES_QUEUE_RETRY_MAX_S": "0.5",
    "JEEVES_QUEUE_MAX_ATTEMPTS": "4",
    "JEEVES_QUEUE_CONCURRENCY": "20",
}


@dataclass
class Pipeline:
    """Handles on every process of the running pipeline."""

    database_url: str
    emulator: ServiceProcess
    slack: SlackEmulator
    echo: ServiceProcess
    poster: ServiceProcess
    dispatcher: ServiceProcess
    ingress: str  # events_api or socket_mode
    ingresses: list[ServiceProcess]  # the gateway, or the jeeves-socket replicas
    dealer: Dealer

    def processes(self) -> list[ServiceProcess]:
        return [
            *self.ingresses,
            self.dispatcher,
            self.poster,
            self.echo,
            self.emulator,
            self.dealer.process,
        ]

    def admin(self, method: str, url: str) -> tuple[int, Any]:
        """An admin API call with the `cli` client's token for the service `url` belongs to."""
        audience = "poster" if url.startswith(self.poster.url) else "dispatcher"
        token = self.dealer.token("cli", audience)
        return http_json(method, url, headers={"Authorization": f"Bearer {token}"})

    def echo_fail(self, count: int, status: int = 500) -> None:
        status_code, body = http_json(
            "POST", self.echo.url + "/_test/fail", {"status": status, "count": count}
        )
        assert status_code < 300, body

    def echo_heal(self) -> None:
        http_json("DELETE", self.echo.url + "/_test/fail")


def fresh_channel() -> str:
    """A channel no other test posts to, so per-channel pacing never couples tests."""
    return "C" + uuid.uuid4().hex[:10].upper()


# The poster's Slack timing: generous enough that a loaded machine does not time out calls the
# emulator answers late (an unconfirmed call is read back before any re-send), short enough that
# the lease of a killed poster expires within seconds.
POSTER_TIMING = {
    "JEEVES_SLACK_TIMEOUT_S": "5",
    "JEEVES_POST_MAX_WAIT_S": "3",
    "JEEVES_POST_LEASE_S": "10",
}


def start_ingress(
    ingress: str,
    slack: SlackEmulator,
    launch: Callable[[ServiceProcess], ServiceProcess],
    env: dict[str, str],
) -> list[ServiceProcess]:
    """The gateway (Events API) or the Socket Mode replicas, with the emulator delivering to
    them; `env` holds the database and the rest they share."""
    if ingress == "events_api":
        gateway = launch(
            ServiceProcess("jeeves-gateway", {**env, "JEEVES_SLACK_SIGNING_SECRET": SECRET})
        )
        slack.configure(gateway_url=gateway.url, delivery="http")
        return [gateway]
    assert ingress == "socket_mode", ingress
    slack.configure(delivery="socket")
    socket_env = {
        **env,
        "JEEVES_SLACK_APP_TOKEN": APP_TOKEN,
        "JEEVES_SLACK_API_URL": slack.api_url,
        "JEEVES_SOCKET_BACKOFF_BASE_S": "0.1",
        "JEEVES_SOCKET_BACKOFF_MAX_S": "1",
    }
    replicas = [launch(ServiceProcess("jeeves-socket", socket_env)) for _ in range(SOCKET_REPLICAS)]
    wait_until(
        lambda: len(slack.socket_connections()) == SOCKET_REPLICAS,
        timeout=30,
        what="every Socket Mode replica linked",
    )
    return replicas


def start_pipeline(
    database_url: str,
    started: list[ServiceProcess],
    *,
    ingress: str = "events_api",
    poster_env: dict[str, str] | None = None,
    dispatcher_env: dict[str, str] | None = None,
) -> Pipeline:
    """Start every process (each appended to `started` at once, so cleanup never misses one).

    `ingress` is `events_api` (the gateway) or `socket_mode` (two jeeves-socket replicas);
    `poster_env` and `dispatcher_env` override settings (the benchmark uses production timings).
    """
    for command in ("jeeves-gateway", "jeeves-dispatcher", "jeeves-poster"):
        migrate(command, database_url)

    def launch(service: ServiceProcess) -> ServiceProcess:
        started.append(service)
        return service.start()

    dealer = start_dealer(started)
    quiet = {"JEEVES_LOG_LEVEL": "info"}
    emulator = start_slack_emulator(
        signing_secret=SECRET, token=TOKEN, app_token=APP_TOKEN, extra_env=quiet
    )
    started.append(emulator)
    slack = SlackEmulator(emulator.url)
    echo = launch(
        ServiceProcess("jeeves-echo", {"JEEVES_ECHO_FAULTS": "1", **quiet, **dealer.env("echo")})
    )
    actions = {
        "echo": {
            "keywords": ["echo"],
            "url": echo.url,
            "description": "Repeats what you say",
            "usage": "echo <text>",
            "timeout_s": 5,
        }
    }
    poster = launch(
        ServiceProcess(
            "jeeves-poster",
            {
                "JEEVES_DATABASE_URL": database_url,
                "JEEVES_SLACK_BOT_TOKEN": TOKEN,
                "JEEVES_SLACK_API_URL": slack.api_url,
                "JEEVES_ADMIN_TOKEN": ADMIN,
                "JEEVES_LOG_LEVEL": "info",
                **FAST_QUEUE,
                **POSTER_TIMING,
                **dealer.env("poster"),
                **(poster_env or {}),
            },
        )
    )
    dispatcher = launch(
        ServiceProcess(
            "jeeves-dispatcher",
            {
                "JEEVES_DATABASE_URL": database_url,
                "JEEVES_SLACK_BOT_USER_ID": BOT_USER_ID,
                "JEEVES_ACTIONS": json.dumps(actions),
                "JEEVES_ADMIN_TOKEN": ADMIN,
                "JEEVES_LOG_LEVEL": "info",
                **FAST_QUEUE,
                **dealer.env("dispatcher"),
                **(dispatcher_env or {}),
            },
        )
    )
    ingresses = start_ingress(
        ingress,
        slack,
        launch,
        {
            "JEEVES_DATABASE_URL": database_url,
            "JEEVES_SLACK_BOT_USER_ID": BOT_USER_ID,
            "JEEVES_LOG_LEVEL": "info",
        },
    )
    return Pipeline(
        database_url, emulator, slack, echo, poster, dispatcher, ingress, ingresses, dealer
    )
