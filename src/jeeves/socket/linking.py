"""Keeping one Socket Mode link to Slack open: connect, read, hand envelopes over, reconnect.

`SocketLink.run()` loops until stopped: get a one-time URL (`apps.connections.open`), open the
WebSocket (aiohttp, with pings so a half-open link is noticed), read frames, and start one task
per envelope; the task acks the envelope when the handler says so — after the event is stored,
so an envelope is never acknowledged before it is durable. Then:

- `disconnect` with `refresh_requested` (or `too_many_websockets`, or any other reason): the
  next link opens at once while the old one keeps reading for `drain_s` (envelopes still
  arriving on it are handled, and acks of those in flight still go out), then closes;
- `warning`: noted; Slack follows it with `refresh_requested`;
- `link_disabled` (Socket Mode was turned off), a refused or dropped link, an error from
  `apps.connections.open`: reconnect after a full-jitter exponential backoff (`domain.backoff_s`),
  the longest one after `link_disabled`. A link that got its `hello` resets the backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from jeeves.kit.logging import get_logger
from jeeves.socket.domain import (
    DISABLED,
    Disconnect,
    Envelope,
    Hello,
    Other,
    ack_frame,
    backoff_s,
    parse_frame,
)

log = get_logger(__name__)
ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
DISABLED_FAILURES = 30  # after link_disabled: wait as long as the backoff allows


@dataclass(frozen=True)
class Acknowledgement:
    """What to answer an envelope: ack (with a payload for a slash command) or stay silent,
    so Slack delivers it again."""

    ack: bool
    payload: dict[str, object] | None = None


ACK = Acknowledgement(True)
NO_ACK = Acknowledgement(False)
Handler = Callable[[Envelope], Awaitable[Acknowledgement]]
OpenUrl = Callable[[], Awaitable[str]]


class LinkMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.connected = Gauge(
            "jeeves_socket_connections",
            "Socket Mode links open and greeted (hello received)",
            registry=registry,
        )
        self.reconnects = Counter(
            "jeeves_socket_reconnects_total",
            "Socket Mode links ended, by reason (refresh_requested, link_disabled, closed, "
            "open_failed, connect_failed, …)",
            ["reason"],
            registry=registry,
        )
        self.ack_latency = Histogram(
            "jeeves_socket_ack_seconds",
            "From an envelope's arrival to its ack being sent",
            buckets=ACK_BUCKETS,
            registry=registry,
        )
        self.acks_lost = Counter(
            "jeeves_socket_acks_lost_total",
            "Acks that could not be sent (the link closed): Slack delivers those envelopes again",
            registry=registry,
        )


class _Session:
    """One open WebSocket: reads frames until it closes; handles envelopes as they come."""

    def __init__(self, link: SocketLink, ws: aiohttp.ClientWebSocketResponse, name: str) -> None:
        self.link = link
        self.ws = ws
        self.name = name
        self.greeted = False  # hello received and the link still open
        self.hello_seen = False
        self.reason = "closed"
        self.replace = asyncio.Event()  # set: open the next link (this one is ending)
        self.tasks: set[asyncio.Task[None]] = set()

    async def read(self) -> None:
        try:
            async for message in self.ws:
                if message.type == aiohttp.WSMsgType.TEXT:
                    self._frame(str(message.data))
                elif message.type == aiohttp.WSMsgType.ERROR:
                    self.reason = "error"
                    break
        except (aiohttp.ClientError, ConnectionError, TimeoutError):
            self.reason = "error"
        finally:
            self._ungreet()
            self.replace.set()

    def _frame(self, text: str) -> None:
        frame = parse_frame(text)
        if isinstance(frame, Envelope):
            task = asyncio.create_task(self._envelope(frame, time.perf_counter()))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        elif isinstance(frame, Hello):
            self.greeted = self.hello_seen = True
            self.link.metrics.connected.inc()
            log.info("socket_hello", link=self.name, connections=frame.num_connections)
        elif isinstance(frame, Disconnect):
            log.info("socket_disconnect", link=self.name, reason=frame.reason)
            if frame.reason != "warning":
                self.reason = frame.reason
                self._ungreet()
                self.replace.set()
        elif isinstance(frame, Other):
            log.debug("socket_frame_ignored", link=self.name, type=frame.type)

    def _ungreet(self) -> None:
        if self.greeted:
            self.greeted = False
            self.link.metrics.connected.dec()

    async def _envelope(self, envelope: Envelope, arrived: float) -> None:
        answer = await self.link.handle(envelope)
        if not answer.ack:
            return
        try:
            await self.ws.send_str(ack_frame(envelope.envelope_id, answer.payload))
        except (aiohttp.ClientError, ConnectionError, RuntimeError) as exc:
            self.link.metrics.acks_lost.inc()
            log.warning("socket_ack_lost", link=self.name, error=type(exc).__name__)
            return
        self.link.metrics.ack_latency.observe(time.perf_counter() - arrived)

    async def finish(self, reader: asyncio.Task[None], drain_s: float) -> None:
        """Keep reading up to `drain_s` (Slack closes a refreshed link itself), let envelopes
        in flight be acked, then close."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(reader), drain_s)
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=drain_s or None)
        await self.ws.close()
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader


class SocketLink:
    """One Socket Mode connection, kept open until `stop()`."""

    def __init__(
        self,
        name: str,
        *,
        open_url: OpenUrl,
        session: Callable[[], aiohttp.ClientSession],
        handle: Handler,
        metrics: LinkMetrics,
        ping_interval_s: float,
        drain_s: float,
        backoff_base_s: float,
        backoff_max_s: float,
        rand: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.name = name
        self._open_url = open_url
        self._session = session
        self.handle = handle
        self.metrics = metrics
        self._ping_interval_s = ping_interval_s
        self._drain_s = drain_s
        self._backoff = (backoff_base_s, backoff_max_s)
        self._rand = rand
        self._stop = asyncio.Event()
        self._current: _Session | None = None
        self._finishing: set[asyncio.Task[None]] = set()

    @property
    def connected(self) -> bool:
        return self._current is not None and self._current.greeted

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        """Connect, serve, reconnect — until stopped; then close what is open."""
        failures = 0
        while not self._stop.is_set():
            delay = backoff_s(
                failures, base_s=self._backoff[0], cap_s=self._backoff[1], rand=self._rand
            )
            if delay and await self._stopped_within(delay):
                break
            failures = await self._one_link(failures)
        if self._finishing:
            await asyncio.wait(set(self._finishing))

    async def _stopped_within(self, seconds: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)
        return self._stop.is_set()

    async def _one_link(self, failures: int) -> int:
        """Open and serve one link; the number of consecutive failures afterwards."""
        try:
            url = await self._open_url()
        except Exception as exc:  # apps.connections.open failed: Slack, network, auth
            return self._failed("open_failed", exc, failures)
        try:
            ws = await self._session().ws_connect(url, heartbeat=self._ping_interval_s)
        except (aiohttp.ClientError, ConnectionError, TimeoutError) as exc:
            return self._failed("connect_failed", exc, failures)
        session = _Session(self, ws, self.name)
        self._current = session
        reader = asyncio.create_task(session.read())
        waits = {
            asyncio.create_task(session.replace.wait()),
            asyncio.create_task(self._stop.wait()),
        }
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for waiting in waits:
            waiting.cancel()
        reason = "stopped" if self._stop.is_set() else session.reason
        self.metrics.reconnects.labels(reason).inc()
        log.info("socket_link_ended", link=self.name, reason=reason)
        dropped = reason in ("closed", "error")
        finishing = asyncio.create_task(session.finish(reader, 0.0 if dropped else self._drain_s))
        self._finishing.add(finishing)
        finishing.add_done_callback(self._finishing.discard)
        return next_failures(reason, session.hello_seen, failures)

    def _failed(self, reason: str, exc: BaseException, failures: int) -> int:
        self.metrics.reconnects.labels(reason).inc()
        log.warning("socket_link_failed", link=self.name, reason=reason, error=_describe(exc))
        return failures + 1


def next_failures(reason: str, greeted: bool, failures: int) -> int:
    """Consecutive failures after a link ended for `reason`: none after Slack asked for a
    refresh (reconnect at once); the most after `link_disabled`; one more after a link that
    never said hello or was refused for too many connections; one after a greeted link that
    dropped."""
    if reason in DISABLED:
        log.error("socket_mode_disabled", hint="turn Socket Mode on for the Slack app")
        return DISABLED_FAILURES
    if reason == "too_many_websockets" or not greeted:
        return failures + 1
    if reason in ("closed", "error"):
        return 1
    return 0


def _describe(exc: BaseException) -> str:
    error = getattr(getattr(exc, "response", None), "data", None)
    if isinstance(error, dict) and error.get("error"):
        return f"{type(exc).__name__}: {error['error']}"
    return type(exc).__name__
