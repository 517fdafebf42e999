"""Running a Quart app, bound to `JEEVES_BIND`, with graceful shutdown.

SIGTERM or SIGINT stops accepting connections, lets in-flight requests finish (up to
`graceful_timeout_s`), then runs `after_serving` hooks so pools close cleanly; the process then
exits 0.

Two servers, one behaviour. Hypercorn is the stack's server. The gateway — the one hot path,
where every Slack event is acknowledged — runs uvicorn with httptools: on the same app, measured
here, it costs about 0.4 of Hypercorn's CPU per request, and nothing in Hypercorn's settings
came near (docs/performance.md). Either way the event loop is uvloop's, and responses carry no
`Server` header (it only advertises the server's name and version).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import signal
import socket
from collections.abc import Iterator
from typing import Literal

import uvicorn
import uvloop
from hypercorn.asyncio import serve
from hypercorn.config import Config
from quart import Quart

from jeeves.kit.logging import get_logger
from jeeves.kit.settings import ServiceSettings

log = get_logger(__name__)

Server = Literal["hypercorn", "uvicorn"]
KEEP_ALIVE_S = 75  # longer than any load balancer's idle timeout, so the balancer closes first


def hypercorn_config(settings: ServiceSettings) -> Config:
    config = Config()
    config.bind = [settings.bind]
    config.graceful_timeout = settings.graceful_timeout_s
    config.accesslog = None
    config.errorlog = None
    config.keep_alive_timeout = KEEP_ALIVE_S
    config.include_server_header = False
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


async def serve_app(
    app: Quart, settings: ServiceSettings, *, reuse_port: bool = False, server: Server = "hypercorn"
) -> None:
    """Serve until SIGTERM/SIGINT, then shut down gracefully.

    With `reuse_port`, the listening socket has SO_REUSEPORT, so sibling processes bound to the
    same address share its connections evenly (the kernel balances them).
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("serving", bind=settings.bind, reuse_port=reuse_port, server=server)
    if server == "uvicorn":
        await _serve_uvicorn(app, settings, stop, reuse_port)
    else:
        config = hypercorn_config(settings)
        if reuse_port:
            sock = reuseport_socket(settings.bind)
            config.bind = [f"fd://{sock.fileno()}"]
        await serve(app, config, shutdown_trigger=stop.wait)
    log.info("stopped")


class _Uvicorn(uvicorn.Server):
    """uvicorn's server, stopped by `serve_app`'s signal handlers: uvicorn's own would re-raise
    the signal once shut down, so a graceful stop would not exit 0."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _serve_uvicorn(
    app: Quart, settings: ServiceSettings, stop: asyncio.Event, reuse_port: bool
) -> None:
    host, _, port = settings.bind.rpartition(":")
    config = uvicorn.Config(
        app,
        host=host.strip("[]"),
        port=int(port),
        http="httptools",
        lifespan="on",
        log_config=None,  # the kit's logging stays as configured
        access_log=False,  # the kit's middleware writes the access log
        server_header=False,
        timeout_keep_alive=KEEP_ALIVE_S,
        timeout_graceful_shutdown=math.ceil(settings.graceful_timeout_s),
    )
    server = _Uvicorn(config)

    async def _stop_on_signal() -> None:
        await stop.wait()
        server.should_exit = True

    watcher = asyncio.create_task(_stop_on_signal())
    try:
        await server.serve(sockets=[reuseport_socket(settings.bind)] if reuse_port else None)
    finally:
        watcher.cancel()
    if not server.started:
        raise SystemExit("the server did not start (see the log above)")


def run(
    app: Quart, settings: ServiceSettings, *, reuse_port: bool = False, server: Server = "hypercorn"
) -> None:
    """Entry-point helper: serve `app` in a fresh uvloop event loop."""
    uvloop.run(serve_app(app, settings, reuse_port=reuse_port, server=server))
