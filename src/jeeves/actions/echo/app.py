"""Assembles the echo action on the SDK: the handler, and the test controls when enabled."""

from __future__ import annotations

import asyncio

from quart import Quart

from jeeves.actions.echo.domain import EchoState, echo
from jeeves.actions.echo.routes import test_blueprint
from jeeves.actions.echo.settings import EchoSettings
from jeeves.kit.action_app import (
    LATER,
    ActionError,
    ActionRequest,
    Handler,
    Later,
    Reply,
    create_action_app,
)

NAME = "echo"


def make_handler(state: EchoState | None) -> Handler:
    """The action handler; with `state`, planned faults are applied first."""

    async def act(request: ActionRequest) -> Reply | Later:
        if state is None:
            return echo(request)
        fault = state.faults.take()
        state.calls.record(request, fault)
        if fault is not None:
            if fault.delay_s:
                await asyncio.sleep(fault.delay_s)
            if fault.status == 202:
                return LATER
            if fault.status >= 400:
                raise ActionError(fault.status, f"echo failed on purpose ({fault.status})")
        return echo(request)

    return act


def build_app(settings: EchoSettings) -> Quart:
    state = EchoState() if settings.echo_faults else None
    app = create_action_app(settings.action or NAME, settings, make_handler(state))
    if state is not None:
        app.register_blueprint(test_blueprint(state))
    return app
