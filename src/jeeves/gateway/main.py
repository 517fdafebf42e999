"""`jeeves-gateway`: run the gateway under Hypercorn."""

from __future__ import annotations

from jeeves.gateway.app import build_app
from jeeves.gateway.settings import GatewaySettings
from jeeves.kit.serving import run
from jeeves.kit.settings import load_settings


def main() -> None:
    settings = load_settings(GatewaySettings)
    run(build_app(settings), settings)
