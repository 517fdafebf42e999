"""Settings of the weather action (`JEEVES_*`)."""

from __future__ import annotations

from pydantic import Field

from jeeves.kit.auth import AuthSettings

REAL_FORECAST_URL = "https://api.open-meteo.com"
REAL_GEOCODING_URL = "https://geocoding-api.open-meteo.com"


class WeatherSettings(AuthSettings):
    # Base URL of Open-Meteo's forecast API (`/v1/forecast`), or of the weather emulator.
    open_meteo_url: str = REAL_FORECAST_URL
    # Base URL of Open-Meteo's geocoding API (`/v1/search`). Empty: the real geocoding host
    # when JEEVES_OPEN_METEO_URL is the real API, else JEEVES_OPEN_METEO_URL itself (the
    # emulator serves both APIs on one address).
    open_meteo_geocoding_url: str = ""
    # Base URL of the data service (the user's location and units facts).
    data_url: str
    # Seconds to wait for one Open-Meteo or data service answer.
    upstream_timeout_s: float = Field(default=3.0, gt=0, le=30)
    # How long geocoding results (place name → candidates) are reused.
    geocoding_ttl_s: float = Field(default=24 * 3600.0, gt=0)
    # How long a forecast for a place is reused.
    forecast_ttl_s: float = Field(default=600.0, gt=0)

    def geocoding_url(self) -> str:
        if self.open_meteo_geocoding_url:
            return self.open_meteo_geocoding_url
        if self.open_meteo_url.rstrip("/") == REAL_FORECAST_URL:
            return REAL_GEOCODING_URL
        return self.open_meteo_url
