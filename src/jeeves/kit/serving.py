"""Running a Quart app under uvicorn, bound to `JEEVES_BIND`, with graceful shutdown.

SIGTERM or SIGINT stops accepting connections, lets in-flight requests finish (up to
`graceful_timeout_s`), then runs `after_serving` hooks so pools close cleanly; the process then
exits 0.

The server is uvicorn with httptools (HTTP/1.1) and wsproto (the Slack emulator's Socket Mode
WebSockets), on uvloop. It replaced Hypercorn, the seed's server: on the gateway's hot path,
same app, same machine, Hypercorn cost about 2.5 times uvicorn's CPU per request, and none of its
settings came near (docs/performance.md). Responses carry no `Server` header (it only advertises
the server's name and version).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import signal
import socket
from collections.abc import Iterator

import uvicorn
import uvloop
from quart import Quart

from jeeves.kit.logging import get_logger
from jeeves.kit.settings import ServiceSettings

log = get_logger(__name__)

KEEP_ALIVE_S = 75  # longer than any load balancer's idle timeout, so the balancer closes first


def uvicorn_config(app: Quart, settings: ServiceSettings) -> uvicorn.Config:
    host, _, port = settings.bind.rpartition(":")
    return uvicorn.Config(
        app,
        host=host.strip("[]"),
        port=int(port),
        http="httptools",
        ws="wsproto",
        lifespan="on",
        log_config=None,  # the kit's logging stays as configured
        access_log=False,  # the kit's middleware writes the access log
        server_header=False,
        timeout_keep_alive=KEEP_ALIVE_S,
        timeout_graceful_shutdown=math.ceil(settings.graceful_timeout_s),
    )


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


class _Server(uvicorn.Server):
    """uvicorn's server, stopped by `serve_app`'s signal handlers: uvicorn's own would re-raise
    the signal once shut down, so a graceful stop would not exit 0."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_app(app: Quart, settings: ServiceSettings, *, reuse_port: bool = False) -> None:
    """Serve until SIGTERM/SIGINT, then shut down gracefully.

    With `reuse_port`, the listening socket has SO_REUSEPORT, so sibling processes bound to the
    same address share its connections evenly (the kernel balances them).
    """
    server = _Server(uvicorn_config(app, settings))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, setattr, server, "should_exit", True)
    log.info("serving", bind=settings.bind, reuse_port=reuse_port)
    await server.serve(sockets=[reuseport_socket(settings.bind)] if reuse_port else None)
    if not server.started:
        raise SystemExit("the server did not start (see the log above)")
    log.info("stopped")


def run(app: Quart, settings: ServiceSettings, *, reuse_port: bool = False) -> None:
    """Entry-point helper: serve `app` in a fresh uvloop event loop."""
    uvloop.run(serve_app(app, settings, reuse_port=reuse_port))
