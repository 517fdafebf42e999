"""Settings of the Strava emulator (`JEEVES_*`)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from jeeves.kit.settings import ServiceSettings


class StravaEmulatorSettings(ServiceSettings):
    # The one app registered at the emulated Strava (the same values the strava action uses).
    strava_client_id: str = "12345"
    strava_client_secret: SecretStr = SecretStr("strava-dev-client-secret")
    # Seconds an access token lives (Strava: 6 hours).
    emulator_strava_token_ttl_s: float = Field(default=21_600.0, gt=0)
