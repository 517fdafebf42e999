"""Socket Mode on the emulator's side: the app's open connections, and delivering envelopes.

`SocketHub` keeps the app's WebSocket connections (at most 10, as Slack allows): each has an
outbox the WebSocket route drains, and acks are matched to the envelope awaiting them by
`envelope_id`. `SocketDeliverer` makes one attempt of a delivery as Slack does: the envelope
goes to one open connection picked at random (Slack spreads an app's envelopes over its
connections) and is acknowledged within the ack timeout, or not. The retries around attempts
are the deliverer's (`delivery.Deliverer`, Slack's rules): the same envelope again, with
`retry_attempt` and `retry_reason: "timeout"`, to whichever connection is picked then. With no
connection open, an attempt waits up to the ack timeout for one and then counts as failed.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from jeeves.emulators.slack.domain.deliveries import Attempt, keep_body
from jeeves.emulators.slack.domain.socket_mode import (
    MAX_CONNECTIONS,
    Ack,
    DisconnectReason,
    Tickets,
    disconnect,
    envelope,
    envelope_type,
    hello,
    link_url,
    new_envelope_id,
    payload_of,
)
from jeeves.kit.logging import get_logger

log = get_logger(__name__)
CLOSE = None  # put in an outbox: close the connection after what is queued


@dataclass
class Connection:
    """One open Socket Mode connection of the app."""

    id: str
    opened_at: float
    outbox: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    sent: int = 0
    acked: int = 0

    def send(self, frame: dict[str, Any]) -> None:
        self.outbox.put_nowait(json.dumps(frame, separators=(",", ":")))

    def close(self) -> None:
        self.outbox.put_nowait(CLOSE)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "opened_at": self.opened_at, "sent": self.sent, "acked": self.acked}


class SocketHub:
    """The app's connections, the tickets to open them and the acks awaited on them."""

    def __init__(self, app_id: str, clock: Callable[[], float] = time.time) -> None:
        self.app_id = app_id
        self.tickets = Tickets()
        self._clock = clock
        self._ids = itertools.count(1)
        self.connections: OrderedDict[str, Connection] = OrderedDict()
        self._waiting: dict[str, asyncio.Future[Ack]] = {}
        self._changed = asyncio.Condition()
        self.refuse_upgrades = 0  # a fault: refuse this many WebSocket upgrades (ticket spent)

    def open_url(self, public_url: str) -> str:
        """What `apps.connections.open` answers: a one-time WebSocket URL."""
        return link_url(public_url, self.tickets.issue(self._clock()), self.app_id)

    def admit(self, ticket: str) -> bool | None:
        """True: connect; False: an unknown or spent ticket; None: refused by a fault (the
        ticket is spent all the same, as when Slack's edge fails mid-upgrade)."""
        valid = self.tickets.redeem(ticket, self._clock())
        if valid and self.refuse_upgrades > 0:
            self.refuse_upgrades -= 1
            return None
        return valid

    async def attach(self) -> Connection:
        """A new connection; its first frame is `hello`, or `disconnect` (too_many_websockets)
        and a close when the app already holds 10."""
        connection = Connection(id=f"c{next(self._ids)}", opened_at=self._clock())
        if len(self.connections) >= MAX_CONNECTIONS:
            connection.send(disconnect("too_many_websockets"))
            connection.close()
            return connection
        self.connections[connection.id] = connection
        connection.send(hello(len(self.connections), self.app_id))
        async with self._changed:
            self._changed.notify_all()
        log.info("socket_connected", connection=connection.id, open=len(self.connections))
        return connection

    def detach(self, connection: Connection) -> None:
        if self.connections.pop(connection.id, None) is not None:
            log.info("socket_closed", connection=connection.id, open=len(self.connections))

    async def pick(self, timeout_s: float) -> Connection | None:
        """A random open connection, waiting up to `timeout_s` for one to open."""
        async with self._changed:
            try:
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: bool(self.connections)), timeout_s
                )
            except TimeoutError:
                return None
            return random.choice(list(self.connections.values()))

    def expect(self, envelope_id: str) -> asyncio.Future[Ack]:
        future: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        self._waiting[envelope_id] = future
        return future

    def forget(self, envelope_id: str, future: asyncio.Future[Ack]) -> None:
        if self._waiting.get(envelope_id) is future:
            del self._waiting[envelope_id]

    def acknowledge(self, connection: Connection, ack: Ack) -> bool:
        """An ack arrived on `connection`; True when an envelope was waiting for it."""
        future = self._waiting.pop(ack.envelope_id, None)
        if future is None or future.done():
            return False
        connection.acked += 1
        future.set_result(ack)
        return True

    def disconnect(
        self, reason: DisconnectReason | None, connection_id: str | None, close_after_s: float
    ) -> list[str]:
        """Send `disconnect` with `reason` (None: no message, the link just drops) to one or
        every connection, and close them after `close_after_s` (`warning` closes nothing)."""
        chosen = [c for c in self.connections.values() if connection_id in (None, c.id)]
        for connection in chosen:
            if reason is not None:
                connection.send(disconnect(reason))
            if reason != "warning":
                asyncio.get_running_loop().call_later(close_after_s, connection.close)
        return [c.id for c in chosen]

    def to_json(self) -> dict[str, Any]:
        return {"connections": [c.to_json() for c in self.connections.values()]}


class SocketDeliverer:
    """Delivers one event, command or click as envelopes, with Slack's redeliveries."""

    def __init__(self, hub: SocketHub, ack_timeout_s: Callable[[], float]) -> None:
        self.hub = hub
        self._ack_timeout_s = ack_timeout_s

    def sender(self, path: str, body: bytes) -> Callable[[Attempt], Awaitable[None]]:
        """How to make one attempt of a delivery: the same envelope (one `envelope_id`) each
        time, carrying the attempt's `retry_attempt` and `retry_reason`."""
        kind, payload = envelope_type(path), payload_of(path, body)
        envelope_id = new_envelope_id()

        async def send(attempt: Attempt) -> None:
            attempt.envelope_id = envelope_id
            frame = envelope(
                kind,
                envelope_id,
                payload,
                retry_attempt=attempt.retry_num,
                retry_reason=attempt.reason or "",
            )
            await self._attempt(attempt, frame)

        return send

    async def _attempt(self, attempt: Attempt, frame: dict[str, Any]) -> None:
        started = time.perf_counter()
        timeout_s = self._ack_timeout_s()
        connection = await self.hub.pick(timeout_s)
        if connection is None:
            attempt.error = "no_connection: the app has no Socket Mode connection open"
            attempt.elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
            return
        attempt.connection = connection.id
        envelope_id = str(frame["envelope_id"])
        waiting = self.hub.expect(envelope_id)
        connection.send(frame)
        connection.sent += 1
        left = max(0.0, timeout_s - (time.perf_counter() - started))
        try:
            ack = await asyncio.wait_for(asyncio.shield(waiting), left)
        except TimeoutError:
            attempt.timed_out = True
            self.hub.forget(envelope_id, waiting)
        else:
            attempt.acked = True
            if ack.payload is not None:
                attempt.body = keep_body(json.dumps(ack.payload).encode())
                attempt.content_type = "application/json"
        finally:
            attempt.elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
