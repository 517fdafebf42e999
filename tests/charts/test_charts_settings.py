"""One Helm value, one JEEVES_* variable: values.yaml's `settings` against the services' own
settings classes, and the rendered environment of every container against the class that
reads it.

Real: the chart rendered by Helm's engine, the deployables' pydantic settings classes and the
operator's `load_settings` reading that environment. Secret values are stand-ins (the classes
only see strings).
"""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
import yaml
from chart_checks import pod_spec
from chart_scenarios import OPERATOR, TEST_CLUSTER, Render
from pydantic import SecretStr
from pydantic_settings import BaseSettings

from jeeves.data.settings import DataSettings
from jeeves.dispatcher.settings import DispatcherSettings
from jeeves.emulators.slack.settings import SlackEmulatorSettings
from jeeves.emulators.weather.settings import WeatherEmulatorSettings
from jeeves.gateway.settings import GatewaySettings
from jeeves.poster.settings import PosterSettings
from jeeves.tokens.settings import TokensSettings
from jeeves_operator.settings import OperatorSettings, load_settings
from support.helm import CHARTS

pytestmark = pytest.mark.charts

CLASSES: dict[str, type[BaseSettings]] = {
    "gateway": GatewaySettings,
    "dispatcher": DispatcherSettings,
    "poster": PosterSettings,
    "data": DataSettings,
    "tokens": TokensSettings,
    "slack-emulator": SlackEmulatorSettings,
    "weather-emulator": WeatherEmulatorSettings,
}
WITH_AUTH = ("dispatcher", "poster", "data")
# Fields the chart deliberately leaves at the service's default, and why.
NOT_EXPOSED = {
    "actions": "static registry for runs without etcd; the chart always has etcd",
    "admin_token": "admin APIs use JWT scope admin: the chart always runs the token dealer",
    "auth_enabled": "on because JEEVES_TOKENS_URL is set",
    "auth_audience": "defaults to the service's name, which is what callers ask for",
    "auth_client_id": "defaults to the service's name, the client id the chart registers",
    "auth_client_secret": "set only where the service calls others (dispatcher)",
    "auth_client_secret_file": "the chart passes the secret itself (from jeeves-<id>-auth)",
    "tokens_clients": "inline registry; the chart always gives a registry file",
    "slack_bot_user_id": "the gateway learns it from Slack's authorizations when unset",
    "data_url": "wired by the chart where the service calls data",
    "tokens_url": "wired by the chart where the service receives or sends JWTs",
    "etcd_endpoints": "wired by the chart where the service reads etcd",
    # Issue 16 (docs/slack-app.md): a distributed app (OAuth installs, per-workspace tokens,
    # rotation) and the emulator's Socket Mode and workspaces are not in the chart yet; the
    # services' defaults are the one-workspace Events API app the chart deploys.
    "slack_distributed": "one workspace by default; the distributed app is not charted yet",
    "slack_client_id": "OAuth of a distributed app (not charted yet)",
    "slack_client_secret": "OAuth of a distributed app (not charted yet)",
    "slack_redirect_uri": "OAuth of a distributed app (not charted yet)",
    "slack_scopes": "OAuth of a distributed app (not charted yet)",
    "slack_authorize_url": "OAuth of a distributed app (not charted yet)",
    "slack_api_url": "the gateway calls Slack only as a distributed app (not charted yet)",
    "installed_teams_ttl_s": "the workspace gate of a distributed app (not charted yet)",
    "slack_token_refresh_margin_s": "token rotation of a distributed app (not charted yet)",
    "auth_issuer": "the gateway calls data only as a distributed app (not charted yet)",
    "auth_leeway_s": "the gateway calls data only as a distributed app (not charted yet)",
    "auth_jwks_ttl_s": "the gateway calls data only as a distributed app (not charted yet)",
    "auth_jwks_min_refetch_s": "the gateway calls data only as a distributed app",
    "slack_app_token": "the emulator's Socket Mode (not charted yet)",
    "emulator_delivery": "the emulator's Socket Mode (not charted yet)",
    "emulator_teams": "the emulator's extra workspaces (not charted yet)",
    "emulator_token_rotation": "the emulator's token rotation (not charted yet)",
    "emulator_token_ttl_s": "the emulator's token rotation (not charted yet)",
    # Issue 15 (docs/commands-and-policy.md): the dispatcher asks Slack for the members of user
    # groups a policy names; that needs the bot token and egress to Slack, not charted yet, so
    # such policies deny (users and channels in a policy work).
    "slack_bot_token": "the dispatcher's user-group lookups (not charted yet; they deny)",
}


def to_variable(key: str) -> str:
    """What the chart's `snakecase | upper` makes of a settings key."""
    return "JEEVES_" + re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).upper()


def values() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((CHARTS / "jeeves" / "values.yaml").read_text())
    return loaded


def settings_of(name: str) -> dict[str, Any]:
    own: dict[str, Any] = dict(values()[f"jeeves-{name}"]["settings"])
    if name in WITH_AUTH:
        own.update(values()["auth"]["settings"])
    return own


def field_of(cls: type[BaseSettings], variable: str) -> str:
    return variable.removeprefix("JEEVES_").lower()


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_each_settings_value_is_one_variable_with_the_services_default(name: str) -> None:
    cls = CLASSES[name]
    for key, value in settings_of(name).items():
        field = field_of(cls, to_variable(key))
        assert field in cls.model_fields, f"{name}: {key} is no setting of {cls.__name__}"
        default = cls.model_fields[field].default
        if isinstance(default, SecretStr):
            default = default.get_secret_value()
        assert value == default, f"{name}: {key} defaults to {value!r}, the service to {default!r}"


def resolved_env(container: dict[str, Any]) -> dict[str, str]:
    """The container's environment as the kubelet would give it: Secret references become
    stand-in strings, $(VAR) expands."""
    env: dict[str, str] = {}
    for item in container.get("env") or []:
        if "value" in item:
            value = re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), ""), item["value"])
        else:
            ref = item["valueFrom"].get("secretKeyRef") or {}
            value = (
                "xoxb-stand-in-secret-value"
                if "token" in ref.get("key", "")
                else ("stand-in-secret-value-0123456789")
            )
            if ref.get("key") == "encryption-key":
                value = "ZGV2LWtleS1kZXYta2V5LWRldi1rZXktZGV2LWtleSE="
        env[item["name"]] = value
    return env


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_rendered_environment_is_what_the_service_accepts(
    rendered: Render, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendering = rendered("jeeves", TEST_CLUSTER)
    container = pod_spec(rendering.find("Deployment", f"jeeves-{name}"))["containers"][0]
    env = resolved_env(container)
    cls = CLASSES[name]
    for variable in list(os.environ):
        if variable.startswith("JEEVES_"):
            monkeypatch.delenv(variable)
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    settings = cls()  # raises on anything the service would refuse at start
    jeeves_vars = {v for v in env if v.startswith("JEEVES_")}
    for variable in jeeves_vars:
        field = field_of(cls, variable)
        aliases = {"emulator_bot_user_id": "JEEVES_EMULATOR_BOT_USER_ID"}
        assert field in cls.model_fields or variable in aliases.values(), (
            f"{name}: {variable} is read by nothing"
        )
    covered = {field_of(cls, v) for v in jeeves_vars} | set(NOT_EXPOSED) | {"emulator_bot_user_id"}
    missing = set(cls.model_fields) - covered
    assert missing == set(), f"{name}: settings neither set by the chart nor in values: {missing}"
    assert settings.bind == "0.0.0.0:8080"  # type: ignore[attr-defined]


def test_operator_environment_is_what_the_operator_accepts(rendered: Render) -> None:
    values = {
        **OPERATOR,
        "platform": {"tokensUrl": "http://jeeves-tokens.jeeves.svc:8080", "posterUrl": ""},
        "settings": {"driftInterval": 12, "retryDelay": 0.5, "etcdTimeout": 2},
        "peering": {"lifetime": 20},
    }
    rendering = rendered("jeeves-operator", values)
    container = pod_spec(rendering.find("Deployment", "jeeves-operator"))["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    settings = load_settings(env)
    assert settings == OperatorSettings(
        env="prod",
        etcd_endpoints=("jeeves-etcd.jeeves.svc:2379",),
        drift_interval=12.0,
        retry_delay=0.5,
        etcd_timeout=2.0,
        peering_lifetime=20,
        tokens_url="http://jeeves-tokens.jeeves.svc:8080",
        priority=settings.priority,  # random per replica: JEEVES_PRIORITY is left unset
    )
    defaults = yaml.safe_load((CHARTS / "jeeves-operator" / "values.yaml").read_text())["settings"]
    plain = OperatorSettings()
    assert defaults == {
        "driftInterval": plain.drift_interval,
        "retryDelay": plain.retry_delay,
        "etcdTimeout": plain.etcd_timeout,
    }
