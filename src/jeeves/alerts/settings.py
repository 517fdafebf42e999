"""Settings of the alerts service (`JEEVES_*`): database, webhook token, routes, Alertmanager."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from jeeves.alerts.domain.routing import Route, check_channel, parse_routes
from jeeves.kit.auth import AuthSettings
from jeeves.kit.settings import ServiceSettings


class AlertsSettings(AuthSettings):
    # PostgreSQL of the pipeline: the alert tables and the poster's `reply` queue.
    database_url: str
    # The bearer token (or basic-auth password) Alertmanager sends; required, never empty.
    alerts_webhook_token: SecretStr
    # Channel of alert groups no route matches (a Slack channel id).
    alerts_default_channel: str
    # JSON list of {"match": {label: value}, "channel": id}; first match wins.
    alerts_routes: str = ""
    # Alertmanager's base URL for the Silence button (v2 API); empty: silencing is off.
    alertmanager_url: str = Field(default="", pattern=r"^(https?://.+)?$")
    # How long the Silence button silences a group, in seconds.
    alerts_silence_s: int = Field(default=3600, ge=60, le=7 * 86400)
    # Seconds to wait for Alertmanager's silences API.
    alertmanager_timeout_s: float = Field(default=5.0, gt=0, le=60)
    # Days the received notifications are kept (incidents and the audit stay).
    alerts_retention_days: int = Field(default=30, ge=1, le=3650)
    # The data service: every Silence/Acknowledge is also written to its shared audit log
    # (needs a client secret with scope admin there); empty: only the alerts' own audit.
    data_url: str = Field(default="", pattern=r"^(https?://.+)?$")
    # Bearer token for the admin API (incidents, audit); empty leaves it open (loopback dev only).
    admin_token: SecretStr = SecretStr("")
    # The workspace (T…) of the alert channels when the poster serves a distributed app
    # (JEEVES_SLACK_DISTRIBUTED: it posts with that workspace's installation, and a reply
    # naming no workspace is a dead letter); empty: one workspace, the poster's own token.
    alerts_team_id: str = Field(default="", pattern=r"^(T[A-Z0-9]{2,})?$")
    # Connections in the pool.
    db_pool_size: int = Field(default=5, ge=1, le=100)

    @field_validator("alerts_webhook_token")
    @classmethod
    def _token_set(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters (Alertmanager sends it)")
        return value

    @field_validator("alerts_default_channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        return check_channel(value, "the default channel")

    @field_validator("alerts_routes")
    @classmethod
    def _routes(cls, value: str) -> str:
        parse_routes(value)
        return value

    def routes(self) -> tuple[Route, ...]:
        return parse_routes(self.alerts_routes)


class MigrateSettings(ServiceSettings):
    # PostgreSQL to install the queue schema and the alert tables into.
    database_url: str
