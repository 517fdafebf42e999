"""A pipeline with typed commands, policies, schedules and the audit log, as real processes.

Real: PostgreSQL (one database for the pipeline, one for the data service), `jeeves-tokens`
(every call between services carries its JWT), `jeeves-data` (the audit log, subscriptions),
the Slack emulator (with user groups), `jeeves-gateway`, one or more `jeeves-dispatcher`s,
`jeeves-poster`, one `jeeves-echo` per guarded action name (each answers tokens for its own
name, as the operator's JEEVES_ACTION makes it; its test controls list every call it received,
so a test can prove an action was never called),
and `jeeves-weather` with the weather emulator for the daily alerts. Nothing is faked; queue
timings are shortened as in `pipeline_stack`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from integration.data.data_service_support import start_data_service
from support.dealer import Dealer, start_dealer
from support.services import ServiceProcess, http_json, migrate
from support.slack import BOT_USER_ID, SlackEmulator, start_slack_emulator

SECRET = "guarded-signing-secret"
TOKEN = "xoxb-guarded-bot-token"
ADMIN = "guarded-admin-token"
FAST_QUEUE = {
    "JEEVES_QUEUE_HEARTBEAT_TIMEOUT_S": "1",
    "JEEVES_QUEUE_RETRY_BASE_S": "0.2",
    "JEEVES_QUEUE_RETRY_MAX_S": "0.5",
    "JEEVES_QUEUE_MAX_ATTEMPTS": "4",
    "JEEVES_QUEUE_CONCURRENCY": "10",
}
# ({name: echo url}, weather url) → the registry
ActionsFor = Callable[[dict[str, str], str], dict[str, dict[str, Any]]]


@dataclass
class GuardedStack:
    slack: SlackEmulator
    data: ServiceProcess
    echoes: dict[str, ServiceProcess]
    dispatchers: list[ServiceProcess]
    dealer: Dealer

    def echo_calls(self) -> list[dict[str, Any]]:
        """Every call the echo actions' handlers received (ids, users, typed params)."""
        calls = []
        for echo in self.echoes.values():
            status, body = http_json("GET", echo.url + "/_test/calls")
            assert status == 200, body
            calls.extend(body["calls"])
        return calls

    def audit(self, **filters: str) -> list[dict[str, Any]]:
        """Audit records (`action.run`), newest first, read as an admin would."""
        token = self.dealer.token("cli", "data")
        query = "&".join(f"{k}={v}" for k, v in {"kind": "action.run", **filters}.items())
        status, body = http_json(
            "GET",
            f"{self.data.url}/v1/audit?limit=200&{query}",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert status == 200, body
        return list(body["items"])

    def audited(self, event_id: str, timeout: float = 20.0) -> dict[str, Any]:
        """The one audit record of the run asked by `event_id`, once it has arrived."""
        deadline = time.monotonic() + timeout
        while True:
            found = [r for r in self.audit() if r["detail"].get("event_id") == event_id]
            if found or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert len(found) == 1, f"audit records of {event_id}: {found}"
        return found[0]


def start_guarded(
    pipeline_db: str,
    data_db: str,
    started: list[ServiceProcess],
    actions_for: ActionsFor,
    *,
    echo_names: tuple[str, ...] = ("echo",),
    dispatchers: int = 1,
    dispatcher_env: dict[str, str] | None = None,
    usergroups: dict[str, list[str]] | None = None,
) -> GuardedStack:
    """Start every process (each appended to `started` at once, so cleanup never misses one)."""
    for command in ("jeeves-gateway", "jeeves-dispatcher", "jeeves-poster"):
        migrate(command, pipeline_db)

    def launch(command: str, env: dict[str, str]) -> ServiceProcess:
        service = ServiceProcess(command, {"JEEVES_LOG_LEVEL": "info", **env})
        started.append(service)
        return service.start()

    dealer = start_dealer(started)
    emulator = start_slack_emulator(signing_secret=SECRET, token=TOKEN)
    started.append(emulator)
    slack = SlackEmulator(emulator.url)
    if usergroups:
        slack.configure(usergroups=usergroups)
    data = start_data_service(data_db, dealer.env("data"))
    started.append(data)
    weather_emulator = launch("jeeves-weather-emulator", {})
    echoes = {
        name: launch(
            "jeeves-echo",
            {"JEEVES_ECHO_FAULTS": "1", "JEEVES_ACTION": name, **dealer.env("echo")},
        )
        for name in echo_names
    }
    weather = launch(
        "jeeves-weather",
        {
            "JEEVES_DATA_URL": data.url,
            "JEEVES_OPEN_METEO_URL": weather_emulator.url,
            **dealer.env("weather"),
        },
    )
    common = {"JEEVES_DATABASE_URL": pipeline_db, **FAST_QUEUE}
    launch(
        "jeeves-poster",
        {
            **common,
            "JEEVES_SLACK_BOT_TOKEN": TOKEN,
            "JEEVES_SLACK_API_URL": slack.api_url,
            "JEEVES_ADMIN_TOKEN": ADMIN,
            "JEEVES_SLACK_TIMEOUT_S": "5",
            **dealer.env("poster"),
        },
    )
    dispatch_env = {
        **common,
        "JEEVES_SLACK_BOT_USER_ID": BOT_USER_ID,
        "JEEVES_ACTIONS": json.dumps(
            actions_for({name: e.url for name, e in echoes.items()}, weather.url)
        ),
        "JEEVES_ADMIN_TOKEN": ADMIN,
        "JEEVES_DATA_URL": data.url,
        "JEEVES_SLACK_BOT_TOKEN": TOKEN,
        "JEEVES_SLACK_API_URL": slack.api_url,
        "JEEVES_SCHEDULE_POLL_S": "0.5",
        "JEEVES_ALERTS_REFRESH_S": "1",
        **dealer.env("dispatcher"),
        **(dispatcher_env or {}),
    }
    running = [launch("jeeves-dispatcher", dispatch_env) for _ in range(dispatchers)]
    gateway = launch(
        "jeeves-gateway",
        {
            **common,
            "JEEVES_SLACK_SIGNING_SECRET": SECRET,
            "JEEVES_SLACK_BOT_USER_ID": BOT_USER_ID,
        },
    )
    slack.configure(gateway_url=gateway.url)
    return GuardedStack(slack, data, echoes, running, dealer)


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """{action_id: value} of the buttons in a message's blocks."""
    found = {}
    for block in message.get("blocks") or []:
        if block.get("type") == "actions":
            for element in block.get("elements", []):
                found[element["action_id"]] = element.get("value", "")
    return found
