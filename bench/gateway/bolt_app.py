"""The baseline: Slack Bolt's AsyncApp that only verifies and acknowledges, under Hypercorn.

Run as `python bolt_app.py` with BENCH_BIND (host:port) and BENCH_SIGNING_SECRET. Served by
Hypercorn with its default settings (the baseline of issue 17), or with BENCH_SERVER=uvicorn by
uvicorn + httptools on uvloop as `jeeves.kit.serving` runs the gateway (a reference), on a socket
with SO_REUSEPORT (so N copies share one port), and with no network calls: `authorize` answers
from memory instead of calling `auth.test`.
"""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

import uvicorn
import uvloop
from hypercorn.asyncio import serve
from hypercorn.config import Config
from slack_bolt.adapter.asgi.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult

from jeeves.kit.serving import reuseport_socket


async def authorize(**_: Any) -> AuthorizeResult:
    return AuthorizeResult(
        enterprise_id=None, team_id="T1", bot_user_id="UBOT", bot_id="B0", bot_token="xoxb-bench"
    )


def build() -> AsyncSlackRequestHandler:
    app = AsyncApp(signing_secret=os.environ["BENCH_SIGNING_SECRET"], authorize=authorize)

    @app.event("app_mention")
    async def _mention(ack: Any) -> None:
        await ack()

    @app.event("message")
    async def _message(ack: Any) -> None:
        await ack()

    return AsyncSlackRequestHandler(app)


async def main() -> None:
    sock = reuseport_socket(os.environ["BENCH_BIND"])
    config = Config()
    config.bind = [f"fd://{sock.fileno()}"]
    config.accesslog = None
    config.keep_alive_timeout = 75
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await serve(build(), config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]


def main_uvicorn() -> None:
    config = uvicorn.Config(
        build(),
        http="httptools",
        lifespan="off",
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_keep_alive=75,
    )
    sock = reuseport_socket(os.environ["BENCH_BIND"])
    uvloop.run(uvicorn.Server(config).serve(sockets=[sock]))


if __name__ == "__main__":
    if os.environ.get("BENCH_SERVER") == "uvicorn":
        main_uvicorn()
    else:
        asyncio.run(main())
