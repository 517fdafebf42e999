"""The operator's own HTTP endpoints on JEEVES_BIND: /healthz (live), /readyz (kopf has logged in
and is watching), /metrics (Prometheus text format from prometheus_client).
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest


def _app(ready: asyncio.Event) -> web.Application:
    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        if ready.is_set():
            return web.json_response({"status": "ready"})
        return web.json_response(
            {"error": {"code": "not_ready", "message": "operator is starting"}}, status=503
        )

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    return app


async def start(bind: str, ready: asyncio.Event) -> web.AppRunner:
    """Serve the endpoints on `host:port`; the caller cleans the runner up."""
    host, _, port = bind.rpartition(":")
    runner = web.AppRunner(_app(ready), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host.strip("[]"), int(port)).start()
    return runner
