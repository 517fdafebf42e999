"""Assembles the memory action on the action SDK with its data service client."""

from __future__ import annotations

from quart import Quart

from jeeves.actions.memory.routes import DEPS_KEY, Deps, act
from jeeves.actions.memory.settings import MemorySettings
from jeeves.kit.action_app import create_action_app
from jeeves.kit.app import kit
from jeeves.kit.data_client import DataClient

NAME = "memory"


def build_app(settings: MemorySettings) -> Quart:
    app = create_action_app(NAME, settings, act)
    data = DataClient(kit(app).http, settings.data_url, timeout_s=settings.upstream_timeout_s)
    kit(app).extras[DEPS_KEY] = Deps(data=data, confirm_ttl_s=settings.confirm_ttl_s)
    return app
