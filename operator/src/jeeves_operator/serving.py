"""The operator's own HTTP endpoints on JEEVES_BIND: /healthz (live), /readyz (kopf has logged in
and is watching, and nothing stops it from acting — e.g. a missing peering object), /metrics
(Prometheus text format from prometheus_client).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

Problem = Callable[[], str | None]  # why the operator cannot act, or None


def _app(ready: asyncio.Event, problems: list[Problem]) -> web.Application:
    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        found = [p for p in (problem() for problem in problems) if p]
        if not ready.is_set():
            found.insert(0, "operator is starting")
        if not found:
            return web.json_response({"status": "ready"})
        message = "; ".join(found)
        return web.json_response({"error": {"code": "not_ready", "message": message}}, status=503)

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    return app


async def start(
    bind: str, ready: asyncio.Event, problems: list[Problem] | None = None
) -> web.AppRunner:
    """Serve the endpoints on `host:port`; the caller cleans the runner up."""
    host, _, port = bind.rpartition(":")
    runner = web.AppRunner(_app(ready, problems or []), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host.strip("[]"), int(port)).start()
    return runner
