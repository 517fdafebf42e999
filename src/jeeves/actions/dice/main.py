"""`jeeves-dice`: run the dice action under Hypercorn."""

from __future__ import annotations

from jeeves.actions.dice.app import build_app
from jeeves.actions.dice.settings import DiceSettings
from jeeves.kit.serving import run
from jeeves.kit.settings import load_settings


def main() -> None:
    settings = load_settings(DiceSettings)
    run(build_app(settings), settings)
