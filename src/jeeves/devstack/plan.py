"""What `make dev` runs: one `ServiceSpec` per deployable, with ports and settings (pure).

Services whose code is not in the tree yet are left out, so the stack grows as the project does.
The dev-only secrets here are not secrets: they exist so the local stack runs offline.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from jeeves.tokens.commands import DEV_CLIENTS

DEV_SIGNING_SECRET = "dev-signing-secret-not-for-production"  # noqa: S105
DEV_BOT_TOKEN = "xoxb-dev-bot-token"  # noqa: S105
DEV_ALERTS_WEBHOOK_TOKEN = "dev-alertmanager-webhook-token"  # noqa: S105
ALERTS_CHANNEL = "C0ALERTS"
BOT_USER_ID = "U0JEEVES"
DEV_OIDC_CLIENT_ID = "1000000001.2000000002"  # Sign in with Slack, between emulator and dashboard
DEV_OIDC_CLIENT_SECRET = "dev-oidc-client-secret-not-for-production"  # noqa: S105
ENV = "dev"


@dataclass(frozen=True)
class ServiceSpec:
    """One process of the local stack."""

    name: str  # the deployable, e.g. "gateway" → `jeeves-gateway`
    module: str  # module that must exist for the service to be included
    port: int
    env: Mapping[str, str]
    migrate: bool = False  # run `jeeves-<name> migrate` before starting
    prepare: tuple[str, ...] = ()  # run `jeeves-<name> <prepare...>` before starting
    probe: str = "/healthz"
    description: str = ""
    extra_urls: tuple[tuple[str, str], ...] = ()

    @property
    def command(self) -> str:
        return f"jeeves-{self.name}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass(frozen=True)
class Infrastructure:
    postgres_port: int
    etcd_endpoint: str
    data_dir: Path
    ports: Mapping[str, int] = field(default_factory=dict)

    def database_url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.postgres_port}/{database}"


PIPELINE_DB = "jeeves"
DATA_DB = "jeeves_data"
DATABASES = (PIPELINE_DB, DATA_DB)

# (name, module, description), in start order: dependencies first.
SERVICES: tuple[tuple[str, str, str], ...] = (
    ("slack-emulator", "jeeves.emulators.slack.main", "Slack stand-in: open it to chat"),
    ("weather-emulator", "jeeves.emulators.weather.main", "Open-Meteo stand-in"),
    ("strava-emulator", "jeeves.emulators.strava.main", "Strava stand-in (athletes 1001, 1002)"),
    ("tokens", "jeeves.tokens.main", "token dealer (JWKS)"),
    ("data", "jeeves.data.main", "data service"),
    ("poster", "jeeves.poster.main", "posts replies to Slack"),
    ("echo", "jeeves.actions.echo.main", "action: echo"),
    ("memory", "jeeves.actions.memory.main", "action: memory"),
    ("weather", "jeeves.actions.weather.main", "action: weather"),
    ("strava", "jeeves.actions.strava.main", "action: strava (`login strava`, `runs`)"),
    ("alerts", "jeeves.alerts.main", "Alertmanager webhook → Slack (action: alerts)"),
    ("dispatcher", "jeeves.dispatcher.main", "routes messages to actions"),
    ("gateway", "jeeves.gateway.main", "Slack ingress"),
    ("socket", "jeeves.socket.main", "Slack ingress over Socket Mode (emulator delivery: socket)"),
    ("dashboard", "jeeves.dashboard.main", "dashboard: sign in as U0ALICE (admin) or U0BOB"),
)
MIGRATED = frozenset({"gateway", "dispatcher", "poster", "data", "dashboard", "socket", "alerts"})
DEV_APP_TOKEN = "xapp-1-dev-app-token"  # noqa: S105 (Socket Mode's app-level token, dev only)
DEV_STRAVA_CLIENT_ID = "12345"
DEV_STRAVA_CLIENT_SECRET = "strava-dev-client-secret"  # noqa: S105
DASHBOARD_ADMINS = "U0ALICE"  # the emulator's default person; U0BOB signs in as a user

# Local action registrations (the operator writes these in a cluster).
ACTIONS: Mapping[str, Mapping[str, object]] = {
    "echo": {
        "keywords": ["echo"],
        "description": "Repeats what you say",
        "usage": "echo <text>",
    },
    "memory": {
        "keywords": ["remember", "forget", "what do you know", "my"],
        "description": "Remembers facts about you (location, timezone, units)",
        "usage": "remember my location is Porto · what do you know about me · forget my location",
    },
    "weather": {
        "keywords": ["weather", "forecast"],
        "description": "Weather now and today, for a place or your remembered location",
        "usage": "weather · weather in Lisbon · weather in São Paulo tomorrow",
        "commands": [  # the daily alert (docs/commands-and-policy.md)
            {
                "name": "subscribe",
                "format": "weather every day at {time}",
                "params": [{"name": "time", "type": "time"}],
            },
            {"name": "unsubscribe", "format": "stop weather alerts"},
        ],
    },
    "alerts": {
        "keywords": ["alerts"],
        "description": "Alert groups firing now (and the buttons on alert messages)",
        "usage": "alerts",
    },
    "strava": {
        "keywords": ["strava", "runs", "login strava"],
        "description": "Your recent Strava activities (connect with `login strava`)",
        "usage": "login strava · strava · runs 30 days",
    },
}


def module_exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def action_registry(
    ports: Mapping[str, int], present: Callable[[str], bool]
) -> dict[str, dict[str, object]]:
    """The registry values for the actions that run locally."""
    return {
        name: {**spec, "url": f"http://127.0.0.1:{ports[name]}", "timeout_s": 10, "enabled": True}
        for name, spec in ACTIONS.items()
        if name in ports and present(name)
    }


def build_plan(
    infra: Infrastructure,
    ports: Mapping[str, int],
    *,
    present: Callable[[str], bool] = module_exists,
) -> list[ServiceSpec]:
    """Every service that exists in the tree, wired to its neighbours."""
    included = {name for name, module, _ in SERVICES if present(module)}
    tokens_dir = infra.data_dir / "tokens"

    def url(name: str) -> str:
        return f"http://127.0.0.1:{ports[name]}" if name in included else ""

    common = {
        "JEEVES_ENV": ENV,
        "JEEVES_LOG_LEVEL": "info",
        "JEEVES_ETCD_ENDPOINTS": infra.etcd_endpoint,
        "JEEVES_SLACK_SIGNING_SECRET": DEV_SIGNING_SECRET,
        "JEEVES_SLACK_BOT_TOKEN": DEV_BOT_TOKEN,
        "JEEVES_SLACK_BOT_USER_ID": BOT_USER_ID,
        "JEEVES_SLACK_API_URL": url("slack-emulator") + "/api/" if url("slack-emulator") else "",
        "JEEVES_OPEN_METEO_URL": url("weather-emulator"),
        "JEEVES_OPEN_METEO_GEOCODING_URL": url("weather-emulator"),
        "JEEVES_DATA_URL": url("data"),
        "JEEVES_POSTER_URL": url("poster"),
        "JEEVES_TOKENS_URL": url("tokens"),
        "JEEVES_EMULATOR_GATEWAY_URL": url("gateway"),
        "JEEVES_DASHBOARD_URL": url("dashboard").replace("127.0.0.1", "localhost"),
        "JEEVES_SLACK_APP_TOKEN": DEV_APP_TOKEN,
        "JEEVES_STRAVA_URL": url("strava-emulator"),
        "JEEVES_STRAVA_CLIENT_ID": DEV_STRAVA_CLIENT_ID,
        "JEEVES_STRAVA_CLIENT_SECRET": DEV_STRAVA_CLIENT_SECRET,
        "JEEVES_ACTIONS": json.dumps(action_registry(ports, lambda n: n in included)),
    }
    per_service: dict[str, dict[str, str]] = {
        "gateway": {"JEEVES_DATABASE_URL": infra.database_url(PIPELINE_DB)},
        "socket": {"JEEVES_DATABASE_URL": infra.database_url(PIPELINE_DB)},
        "strava": {"JEEVES_STRAVA_PUBLIC_URL": url("strava")},
        "dispatcher": {"JEEVES_DATABASE_URL": infra.database_url(PIPELINE_DB)},
        "poster": {"JEEVES_DATABASE_URL": infra.database_url(PIPELINE_DB)},
        "data": {
            "JEEVES_DATABASE_URL": infra.database_url(DATA_DB),
            "JEEVES_DATA_ENCRYPTION_KEY": "ZGV2LWtleS1kZXYta2V5LWRldi1rZXktZGV2LWtleSE=",
        },
        "dashboard": {
            "JEEVES_DATABASE_URL": infra.database_url(PIPELINE_DB),
            # localhost, not 127.0.0.1: browsers keep Secure cookies on http://localhost only
            "JEEVES_PUBLIC_URL": f"http://localhost:{ports.get('dashboard', 0)}",
            "JEEVES_SLACK_CLIENT_ID": DEV_OIDC_CLIENT_ID,
            "JEEVES_SLACK_CLIENT_SECRET": DEV_OIDC_CLIENT_SECRET,
            "JEEVES_SLACK_OIDC_URL": url("slack-emulator") + "/openid/connect",
            "JEEVES_DASHBOARD_ADMINS": DASHBOARD_ADMINS,
            "JEEVES_DISPATCHER_URL": url("dispatcher"),
        },
        "slack-emulator": {
            "JEEVES_EMULATOR_OIDC_CLIENT_ID": DEV_OIDC_CLIENT_ID,
            "JEEVES_EMULATOR_OIDC_CLIENT_SECRET": DEV_OIDC_CLIENT_SECRET,
            # the same Slack app installs itself with OAuth (a distributed app, when asked)
            "JEEVES_SLACK_CLIENT_ID": DEV_OIDC_CLIENT_ID,
            "JEEVES_SLACK_CLIENT_SECRET": DEV_OIDC_CLIENT_SECRET,
        },
        "tokens": {
            "JEEVES_TOKENS_KEYS_DIR": str(tokens_dir / "keys"),
            "JEEVES_TOKENS_CLIENTS_FILE": str(tokens_dir / "clients.json"),
        },
        "alerts": {
            "JEEVES_DATABASE_URL": infra.database_url(PIPELINE_DB),
            "JEEVES_ALERTS_WEBHOOK_TOKEN": DEV_ALERTS_WEBHOOK_TOKEN,
            "JEEVES_ALERTS_DEFAULT_CHANNEL": ALERTS_CHANNEL,
            "JEEVES_ALERTMANAGER_URL": (
                f"http://127.0.0.1:{ports['alertmanager']}" if "alertmanager" in ports else ""
            ),
        },
    }
    if "tokens" in included:  # each caller authenticates with its own dev client secret
        for name in DEV_CLIENTS:
            per_service.setdefault(name, {})["JEEVES_AUTH_CLIENT_SECRET_FILE"] = str(
                tokens_dir / "secrets" / name
            )
    plan = []
    for name, module, description in SERVICES:
        if name not in included:
            continue
        env = {k: v for k, v in common.items() if v}
        env.update({k: v for k, v in per_service.get(name, {}).items() if v})
        plan.append(
            ServiceSpec(
                name=name,
                module=module,
                port=ports[name],
                env=env,
                migrate=name in MIGRATED,
                prepare=("init-dev", "--dir", str(tokens_dir)) if name == "tokens" else (),
                description=description,
            )
        )
    return plan
