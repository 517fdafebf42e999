"""`jeeves-echo`: run the echo action under Hypercorn."""

from __future__ import annotations

from jeeves.actions.echo.app import build_app
from jeeves.actions.echo.settings import EchoSettings
from jeeves.kit.serving import run
from jeeves.kit.settings import load_settings


def main() -> None:
    settings = load_settings(EchoSettings)
    run(build_app(settings), settings)
