"""Settings of the poster (`JEEVES_*`): database, Slack Web API, pacing, queue."""

from __future__ import annotations

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from jeeves.kit.auth import AuthSettings
from jeeves.kit.queue import QueueWorkerSettings
from jeeves.kit.settings import ServiceSettings


class PosterSettings(QueueWorkerSettings, AuthSettings):
    # PostgreSQL holding the queue and the outbound_messages log.
    database_url: str
    # Slack bot token (xoxb-…) used for chat.postMessage; required unless the app is distributed.
    slack_bot_token: SecretStr = SecretStr("")
    # A distributed app: each reply is posted with its workspace's installation (kept by the
    # data service), refreshed before it expires when Slack rotates tokens.
    slack_distributed: bool = False
    # Base URL of the data service; needed when distributed.
    data_url: str = Field(default="", pattern=r"^(https?://.+)?$")
    # The app's OAuth client id and secret, for refreshing rotating tokens (oauth.v2.access).
    slack_client_id: str = ""
    slack_client_secret: SecretStr = SecretStr("")
    # Seconds before a rotating token expires when it is refreshed.
    slack_token_refresh_margin_s: float = Field(default=300.0, ge=0, le=6 * 3600)
    # Slack Web API base URL; tests and local runs point it at the emulator's /api/.
    slack_api_url: str = Field(default="https://slack.com/api/", pattern=r"^https?://")
    # Seconds one chat.postMessage call may take before it counts as failed (and is retried).
    slack_timeout_s: float = Field(default=10.0, gt=0, le=120)
    # Messages per second per channel (Slack allows about 1) and the burst allowed at once.
    post_channel_rate: float = Field(default=1.0, gt=0)
    post_channel_burst: int = Field(default=3, ge=1)
    # Messages per second for the whole process, and its burst.
    post_global_rate: float = Field(default=100.0, gt=0)
    post_global_burst: int = Field(default=100, ge=1)
    # Longest pause a job waits in-process for its channel; longer waits go back to the queue.
    post_max_wait_s: float = Field(default=5.0, ge=0)
    # A key left `sending` this long by a vanished worker is sent again (must exceed one attempt).
    post_lease_s: float = Field(default=30.0, gt=0)
    # Bearer token for the admin API (dead letters); empty leaves it open (loopback dev only).
    admin_token: SecretStr = SecretStr("")
    # Seconds before a job whose worker died runs again — and how often an idle worker looks for
    # retries and deferred posts that have come due (pgqueuer polls at this interval when no new
    # job wakes it), so the kit's 30 s would stretch a 1 s backoff to up to 30 s here.
    queue_heartbeat_timeout_s: float = Field(default=5.0, ge=0.5)
    # Connections in the pool used by the outbound log and POST /v1/messages.
    db_pool_size: int = Field(default=10, ge=1, le=100)

    @field_validator("post_lease_s")
    @classmethod
    def _lease_outlasts_an_attempt(cls, value: float, info: ValidationInfo) -> float:
        attempt = info.data.get("post_max_wait_s", 0.0) + info.data.get("slack_timeout_s", 0.0)
        if value <= attempt:
            raise ValueError(
                f"must exceed JEEVES_POST_MAX_WAIT_S + JEEVES_SLACK_TIMEOUT_S ({attempt:g}s)"
            )
        return value

    @model_validator(mode="after")
    def _a_token_source(self) -> PosterSettings:
        if self.slack_distributed and not self.data_url:
            raise ValueError("a distributed app (JEEVES_SLACK_DISTRIBUTED) needs JEEVES_DATA_URL")
        if not self.slack_distributed and not self.slack_bot_token.get_secret_value():
            raise ValueError(
                "JEEVES_SLACK_BOT_TOKEN is required (or JEEVES_SLACK_DISTRIBUTED with "
                "JEEVES_DATA_URL)"
            )
        return self


class MigrateSettings(ServiceSettings):
    # PostgreSQL to install the queue schema and the outbound log into.
    database_url: str
