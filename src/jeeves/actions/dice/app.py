"""Assembles the dice action on the SDK: one handler, nothing else to start or check."""

from __future__ import annotations

from quart import Quart

from jeeves.actions.dice.routes import act
from jeeves.actions.dice.settings import DiceSettings
from jeeves.kit.action_app import create_action_app

NAME = "dice"


def build_app(settings: DiceSettings) -> Quart:
    return create_action_app(NAME, settings, act)
