"""`jeeves-slack-emulator`: run the Slack emulator under Hypercorn."""

from __future__ import annotations

from jeeves.emulators.slack.app import build_app
from jeeves.emulators.slack.settings import SlackEmulatorSettings
from jeeves.kit.serving import run
from jeeves.kit.settings import load_settings


def main() -> None:
    settings = load_settings(SlackEmulatorSettings)
    run(build_app(settings), settings)
