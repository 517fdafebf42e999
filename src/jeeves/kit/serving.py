"""Running a Quart app under Hypercorn, bound to `JEEVES_BIND`, with graceful shutdown.

SIGTERM or SIGINT stops accepting connections, lets in-flight requests finish (up to
`graceful_timeout_s`), then runs `after_serving` hooks so pools close cleanly.
"""

from __future__ import annotations

import asyncio
import signal
import socket

from hypercorn.asyncio import serve
from hypercorn.config import Config
from quart import Quart

from jeeves.kit.logging import get_logger
from jeeves.kit.settings import ServiceSettings

log = get_logger(__name__)


def hypercorn_config(settings: ServiceSettings) -> Config:
    config = Config()
    config.bind = [settings.bind]
    config.graceful_timeout = settings.graceful_timeout_s
    config.accesslog = None
    config.errorlog = None
    config.keep_alive_timeout = 75
    return config


def reuseport_socket(bind: str) -> socket.socket:
    """A listening socket with SO_REUSEPORT, so sibling processes share the port evenly."""
    host, _, port = bind.rpartition(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host.strip("[]"), int(port)))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


async def serve_app(app: Quart, settings: ServiceSettings, *, reuse_port: bool = False) -> None:
    """Serve until SIGTERM/SIGINT, then shut down gracefully.

    With `reuse_port`, the listening socket has SO_REUSEPORT, so sibling processes bound to the
    same address share its connections evenly (the kernel balances them).
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    config = hypercorn_config(settings)
    if reuse_port:
        sock = reuseport_socket(settings.bind)
        config.bind = [f"fd://{sock.fileno()}"]
    log.info("serving", bind=settings.bind, reuse_port=reuse_port)
    await serve(app, config, shutdown_trigger=stop.wait)
    log.info("stopped")


def run(app: Quart, settings: ServiceSettings, *, reuse_port: bool = False) -> None:
    """Entry-point helper: serve `app` in a fresh event loop."""
    asyncio.run(serve_app(app, settings, reuse_port=reuse_port))
