"""Settings of the gateway (`JEEVES_*`)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from jeeves.kit.settings import ServiceSettings


class MigrateSettings(ServiceSettings):
    """What `jeeves-gateway migrate` needs."""

    # PostgreSQL holding the inbound event log and the queue.
    database_url: str


class GatewaySettings(MigrateSettings):
    # Slack app signing secret used to verify every inbound request.
    slack_signing_secret: SecretStr
    # The bot's own Slack user id (U…); its messages are ignored. Also learnt per event from
    # Slack's `authorizations`, so it may stay empty.
    slack_bot_user_id: str = ""
    # Group commit: transactions writing events at the same time.
    ingest_writers: int = Field(default=2, ge=1, le=32)
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
