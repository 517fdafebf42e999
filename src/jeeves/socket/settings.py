"""Settings of the Socket Mode ingress (`JEEVES_*`)."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator, model_validator

from jeeves.kit.auth import AuthSettings
from jeeves.kit.settings import ServiceSettings


class MigrateSettings(ServiceSettings):
    """What `jeeves-socket migrate` needs."""

    # PostgreSQL holding the inbound event log and the queue (the gateway's, when both run).
    database_url: str


class SocketSettings(MigrateSettings, AuthSettings):
    # The Slack app-level token (xapp-…, scope connections:write) that opens Socket Mode links.
    slack_app_token: SecretStr
    # Slack Web API base URL (apps.connections.open); tests and local runs use the emulator's.
    slack_api_url: str = Field(default="https://slack.com/api/", pattern=r"^https?://")
    # The bot's own Slack user id (U…); its messages are ignored. Also learnt per event from
    # Slack's `authorizations`, so it may stay empty.
    slack_bot_user_id: str = ""
    # WebSocket connections this process keeps open (Slack allows 10 per app, all replicas
    # together); Slack spreads envelopes over them.
    socket_connections: int = Field(default=1, ge=1, le=10)
    # Reconnecting after failures: full jitter over base·2^(n-1) seconds, capped.
    socket_backoff_base_s: float = Field(default=0.5, gt=0, le=60)
    socket_backoff_max_s: float = Field(default=30.0, gt=0, le=600)
    # Seconds between WebSocket pings; a link silent for 3 of them is dropped and reopened.
    socket_ping_interval_s: float = Field(default=10.0, gt=0, le=300)
    # Seconds an old link keeps serving after Slack asked for a refresh (its acks still go out).
    socket_drain_s: float = Field(default=5.0, ge=0, le=60)
    # Group commit: transactions writing events at the same time.
    ingest_writers: int = Field(default=2, ge=1, le=32)
    # Group commit: most events written in one transaction.
    ingest_max_batch: int = Field(default=256, ge=1, le=5000)
    # Seconds an envelope waits for its event to be stored; not stored in time → not acked, so
    # Slack delivers it again (it allows 3 s).
    ingest_timeout_s: float = Field(default=2.5, gt=0, le=30)
    # Largest number of PostgreSQL connections of this process.
    database_pool_size: int = Field(default=8, ge=2, le=100)
    # Days an inbound event (and so its dedup key) is kept. 0: forever.
    inbound_retention_days: float = Field(default=30.0, ge=0)
    # A distributed app: only events of workspaces with an installation (kept by the data
    # service) are stored; others are acknowledged and dropped. See the gateway's setting.
    slack_distributed: bool = False
    # Base URL of the data service; needed when distributed.
    data_url: str = Field(default="", pattern=r"^(https?://.+)?$")
    # Seconds an installed workspace is trusted without asking the data service again.
    installed_teams_ttl_s: float = Field(default=60.0, gt=0, le=3600)

    @model_validator(mode="after")
    def _distributed_needs_data(self) -> SocketSettings:
        if self.slack_distributed and not self.data_url:
            raise ValueError("a distributed app (JEEVES_SLACK_DISTRIBUTED) needs JEEVES_DATA_URL")
        return self

    @field_validator("slack_app_token")
    @classmethod
    def _app_level(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token (xapp-…), not a bot or user token")
        return value
