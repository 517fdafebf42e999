"""Settings of the echo action (`JEEVES_*`)."""

from __future__ import annotations

from jeeves.kit.auth import AuthSettings


class EchoSettings(AuthSettings):
    # Serve the /_test/ fault controls (tests only; never enable in a deployment).
    echo_faults: bool = False
