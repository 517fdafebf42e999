"""Settings of the memory action (`JEEVES_*`)."""

from __future__ import annotations

from pydantic import Field

from jeeves.kit.auth import AuthSettings


class MemorySettings(AuthSettings):
    # Base URL of the data service, where facts are kept (this action stores nothing itself).
    data_url: str
    # Seconds to wait for the data service.
    upstream_timeout_s: float = Field(default=3.0, gt=0, le=30)
    # How long a "forget everything" confirmation button stays valid.
    confirm_ttl_s: int = Field(default=600, gt=0, le=86400)
