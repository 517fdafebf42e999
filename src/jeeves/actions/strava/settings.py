"""Settings of the Strava action (`JEEVES_*`)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from jeeves.kit.auth import AuthSettings


class StravaSettings(AuthSettings):
    # Base URL of the data service (connections, OAuth states, revocations).
    data_url: str = Field(pattern=r"^https?://")
    # Base URL of Strava (OAuth pages and /api/v3), or of the Strava emulator.
    strava_url: str = Field(default="https://www.strava.com", pattern=r"^https?://")
    # The app registered at Strava (strava.com/settings/api).
    strava_client_id: str = Field(min_length=1)
    strava_client_secret: SecretStr
    # Where browsers reach this service: Strava sends them back to <public_url>/strava/callback
    # (the app's "Authorization Callback Domain" must match its host).
    strava_public_url: str = Field(pattern=r"^https?://")
    # Seconds to wait for Strava or the data service.
    upstream_timeout_s: float = Field(default=5.0, gt=0, le=30)
    # Seconds before an access token expires when it is refreshed (Strava's live 6 hours).
    strava_refresh_margin_s: float = Field(default=600.0, ge=0, le=6 * 3600)
    # Seconds between rounds of revoking the tokens of deleted connections.
    strava_revoke_interval_s: float = Field(default=30.0, gt=0, le=3600)
    # Seconds a `login strava` link stays valid.
    strava_link_ttl_s: int = Field(default=600, ge=60, le=3600)
