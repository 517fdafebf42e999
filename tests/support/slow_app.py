"""A kit app with deliberately slow and failing routes, run as a real process by kit tests."""

from __future__ import annotations

import asyncio

from quart import Quart, jsonify, request
from quart.typing import ResponseReturnValue

from jeeves.kit.app import create_app
from jeeves.kit.serving import run
from jeeves.kit.settings import ServiceSettings, load_settings


def build(settings: ServiceSettings) -> Quart:
    app = create_app("slowapp", settings)

    @app.get("/slow/<float:seconds>")
    async def slow(seconds: float) -> ResponseReturnValue:
        await asyncio.sleep(seconds)
        return jsonify({"slept": seconds})

    @app.get("/boom")
    async def boom() -> ResponseReturnValue:
        raise RuntimeError("kaboom with a traceback")

    @app.post("/echo")
    async def echo() -> ResponseReturnValue:
        return jsonify({"size": len(await request.get_data())})

    return app


if __name__ == "__main__":
    config = load_settings(ServiceSettings)
    run(build(config), config)
