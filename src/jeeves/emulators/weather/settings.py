"""Settings of the weather emulator (`JEEVES_*`)."""

from __future__ import annotations

from jeeves.kit.settings import ServiceSettings


class WeatherEmulatorSettings(ServiceSettings):
    """Only the kit's common settings: the emulator keeps all its state in memory."""
