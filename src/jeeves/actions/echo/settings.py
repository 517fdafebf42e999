"""Settings of the echo action (`JEEVES_*`)."""

from __future__ import annotations

from jeeves.kit.settings import ServiceSettings


class EchoSettings(ServiceSettings):
    # Serve the /_test/ fault controls (tests only; never enable in a deployment).
    echo_faults: bool = False
