"""Settings of the echo action (`JEEVES_*`)."""

from __future__ import annotations

from pydantic import Field

from jeeves.kit.auth import AuthSettings


class EchoSettings(AuthSettings):
    # The name this echo is registered under (the operator sets JEEVES_ACTION to the
    # JeevesAction's name): it answers tokens whose audience is that name, so one image can
    # stand in for several actions (see manifests/samples/deploy.yaml).
    action: str = Field(default="echo", pattern=r"^[a-z][a-z0-9-]{0,62}$")
    # Serve the /_test/ fault controls (tests only; never enable in a deployment).
    echo_faults: bool = False
