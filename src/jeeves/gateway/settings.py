"""Settings of the gateway (`JEEVES_*`)."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator

from jeeves.kit.auth import AuthSettings
from jeeves.kit.settings import ServiceSettings
from jeeves.kit.slack.oauth import DEFAULT_AUTHORIZE_URL, DEFAULT_SCOPES


class MigrateSettings(ServiceSettings):
    """What `jeeves-gateway migrate` needs."""

    # PostgreSQL holding the inbound event log and the queue.
    database_url: str


class GatewaySettings(MigrateSettings, AuthSettings):
    # Slack app signing secret used to verify every inbound request.
    slack_signing_secret: SecretStr
    # The bot's own Slack user id (U…); its messages are ignored. Also learnt per event from
    # Slack's `authorizations`, so it may stay empty.
    slack_bot_user_id: str = ""
    # Group commit: transactions writing events at the same time. One per process: each commit
    # takes every event that waited meanwhile, so under load batches grow instead of
    # transactions (measured: PostgreSQL CPU per event -22% against 2; docs/performance.md).
    ingest_writers: int = Field(default=1, ge=1, le=32)
    # Group commit: most events written in one transaction.
    ingest_max_batch: int = Field(default=256, ge=1, le=5000)
    # Group commit: milliseconds a writer waits for more events after the first (0: none).
    ingest_linger_ms: float = Field(default=0.0, ge=0, le=50)
    # Events waiting for a writer at most; beyond it requests are answered 503 at once (Slack
    # retries) instead of piling up in memory while the database is slow or hung.
    ingest_backlog: int = Field(default=2000, ge=1, le=100_000)
    # Seconds a request waits for its event to be stored before answering 503 (Slack retries).
    ingest_timeout_s: float = Field(default=2.5, gt=0, le=30)
    # Largest number of PostgreSQL connections of this process.
    database_pool_size: int = Field(default=8, ge=2, le=100)
    # Days an inbound event (and so its dedup key) is kept; Slack retries within hours. 0: forever.
    inbound_retention_days: float = Field(default=30.0, ge=0)
    # Bind JEEVES_BIND with SO_REUSEPORT so several gateway processes share one port.
    reuse_port: bool = False
    # A distributed app: installed into workspaces with OAuth (/slack/install), installations
    # kept by the data service, events of workspaces without one refused. Off: one workspace,
    # installed by hand (its bot token is the poster's JEEVES_SLACK_BOT_TOKEN).
    slack_distributed: bool = False
    # Base URL of the data service (installations and OAuth states); needed when distributed.
    data_url: str = Field(default="", pattern=r"^(https?://.+)?$")
    # The Slack app's OAuth client id and secret (Basic Information → App Credentials).
    slack_client_id: str = ""
    slack_client_secret: SecretStr = SecretStr("")
    # Where Slack sends the browser back: the public https URL of /slack/oauth_redirect, as
    # listed in the app's OAuth redirect URLs.
    slack_redirect_uri: str = Field(default="", pattern=r"^(https?://.+)?$")
    # Bot scopes asked for at install (comma-separated).
    slack_scopes: str = ",".join(DEFAULT_SCOPES)
    # Slack's authorize page (tests and local runs use the emulator's).
    slack_authorize_url: str = Field(default=DEFAULT_AUTHORIZE_URL, pattern=r"^https?://")
    # Slack Web API base URL, for oauth.v2.access.
    slack_api_url: str = Field(default="https://slack.com/api/", pattern=r"^https?://")
    # Seconds an installed workspace is trusted without asking the data service again.
    installed_teams_ttl_s: float = Field(default=60.0, gt=0, le=3600)

    def auth_required(self) -> bool:
        """Slack requests are verified by their signature; tokens are only for calling the data
        service, which a distributed app does."""
        return self.slack_distributed

    @model_validator(mode="after")
    def _distributed_needs_oauth(self) -> GatewaySettings:
        if self.slack_distributed:
            missing = [
                name
                for name, value in (
                    ("JEEVES_DATA_URL", self.data_url),
                    ("JEEVES_SLACK_CLIENT_ID", self.slack_client_id),
                    ("JEEVES_SLACK_CLIENT_SECRET", self.slack_client_secret.get_secret_value()),
                    ("JEEVES_SLACK_REDIRECT_URI", self.slack_redirect_uri),
                )
                if not value
            ]
            if missing:
                raise ValueError(f"a distributed app (JEEVES_SLACK_DISTRIBUTED) needs {missing[0]}")
        return self
