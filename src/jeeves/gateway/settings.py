"""Settings of the gateway (`JEEVES_*`)."""

from __future__ import annotations

from pydantic import SecretStr

from jeeves.kit.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    # PostgreSQL holding the inbound event log and the queue.
    database_url: str
    # Slack app signing secret used to verify every inbound request.
    slack_signing_secret: SecretStr
    # Comma-separated etcd endpoints (host:port); empty disables the etcd check.
    etcd_endpoints: str = ""
