"""Settings of the dice action (`JEEVES_*`): only the SDK's (bind, logging, token checks)."""

from __future__ import annotations

from jeeves.kit.auth import AuthSettings


class DiceSettings(AuthSettings):
    """Nothing of its own: dice needs no third party and keeps no state."""
