"""Settings of the dashboard (`JEEVES_*`): sessions, Sign in with Slack, admins, backends."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator

from jeeves.kit.auth import AuthSettings
from jeeves.kit.settings import ServiceSettings

DEFAULT_STATIC_DIR = Path(__file__).parent / "static"
URL_PATTERN = r"^https?://"


def parse_ids(value: str) -> frozenset[str]:
    """`"U0ALICE, U0BOB"` → {"U0ALICE", "U0BOB"}."""
    return frozenset(part.strip() for part in value.split(",") if part.strip())


class DashboardSettings(AuthSettings):
    # PostgreSQL holding the dashboard's sessions (`jeeves-dashboard migrate` creates the tables).
    database_url: str
    # The URL people open (scheme, host, port): the OpenID redirect URI is
    # <public_url>/auth/callback and state-changing requests must come from this origin.
    public_url: str = Field(pattern=URL_PATTERN)
    # Sign in with Slack: the Slack app's client id and secret.
    slack_client_id: str = Field(min_length=1)
    slack_client_secret: SecretStr
    # Slack's Web API (token and userInfo methods) and OpenID pages (authorize, keys); local runs
    # and tests point both at the Slack emulator.
    slack_api_url: str = Field(default="https://slack.com/api/", pattern=URL_PATTERN)
    slack_oidc_url: str = Field(default="https://slack.com/openid/connect/", pattern=URL_PATTERN)
    # Expected `iss` of the id_token (Slack's, also what the emulator issues).
    slack_oidc_issuer: str = "https://slack.com"
    # Only people of this workspace may sign in (empty: any workspace the Slack app allows).
    slack_team_id: str = ""
    # Slack user ids (comma-separated) who are admins; everyone else is a user.
    dashboard_admins: str = ""
    # A session ends after this many seconds without a request, and this long after sign-in.
    dashboard_idle_timeout_s: int = Field(default=1800, ge=60, le=7 * 86400)
    dashboard_absolute_timeout_s: int = Field(default=12 * 3600, ge=300, le=30 * 86400)
    # Where the built frontend is (`make dashboard` builds into the default).
    dashboard_static_dir: Path = DEFAULT_STATIC_DIR
    # The services the dashboard asks (empty: that page says it is not configured).
    data_url: str = ""
    dispatcher_url: str = ""
    poster_url: str = ""
    # Comma-separated etcd endpoints: the action registry and feature flags.
    etcd_endpoints: str = ""
    # Bearer token for the dispatcher's and poster's admin APIs when JWT auth is off.
    admin_token: SecretStr = SecretStr("")
    # Kubernetes API for JeevesAction status (optional): base URL, a bearer token file (a
    # service account's), the namespace, and a CA bundle (empty: the system's).
    kube_api_url: str = ""
    kube_token_file: Path | None = None
    kube_namespace: str = "default"
    kube_ca_file: Path | None = None

    @field_validator("public_url", "slack_api_url", "slack_oidc_url")
    @classmethod
    def _slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("data_url", "dispatcher_url", "poster_url", "kube_api_url")
    @classmethod
    def _optional_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _timeouts(self) -> DashboardSettings:
        if self.dashboard_idle_timeout_s > self.dashboard_absolute_timeout_s:
            raise ValueError("JEEVES_DASHBOARD_IDLE_TIMEOUT_S exceeds the absolute timeout")
        return self

    @property
    def admins(self) -> frozenset[str]:
        return parse_ids(self.dashboard_admins)

    @property
    def redirect_uri(self) -> str:
        return f"{self.public_url}/auth/callback"


class MigrateSettings(ServiceSettings):
    # PostgreSQL to create the dashboard's session tables in.
    database_url: str
