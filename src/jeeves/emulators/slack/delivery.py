"""Sending signed requests to the gateway, with Slack's ack timeout and retries — or, when the
emulator delivers in Socket Mode (`delivery: "socket"`), envelopes to the app's WebSocket
connections (`socket_delivery`).

Each attempt runs as its own task. When no answer arrives within the ack timeout the attempt is
marked `timed_out` and, like Slack, the retry goes out without waiting for it: the late request
keeps running (up to `LATE_LIMIT_S`) and its status is recorded when it comes. So the gateway
sees the same race it sees in production: a retry arriving while the first request is still
being processed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp

from jeeves.emulators.slack.domain.deliveries import (
    SOCKET_RETRY_REASON,
    Attempt,
    Delivery,
    Transport,
    keep_body,
    next_retry,
    retry_delay,
)
from jeeves.emulators.slack.domain.signing import signed_headers
from jeeves.emulators.slack.socket_delivery import SocketDeliverer, SocketHub
from jeeves.kit.http import HttpClient
from jeeves.kit.logging import get_logger

log = get_logger(__name__)
LATE_LIMIT_S = 30.0
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
Mode = Literal["http", "socket"]
MODES: tuple[Mode, ...] = ("http", "socket")


@dataclass
class DeliveryConfig:
    """Mutable at run time through PUT /_emulator/config."""

    gateway_url: str
    signing_secret: str
    ack_timeout_s: float
    retry_delays_s: tuple[float, ...]
    echo_bot_messages: bool = False  # deliver a `message` event for each chat.postMessage
    mode: Mode = "http"  # http: POST to the gateway; socket: envelopes on Socket Mode links


@dataclass(frozen=True)
class Outgoing:
    """One request body to deliver, and how."""

    path: str
    body: bytes
    content_type: str
    retries: bool  # Events API: yes; commands and clicks: no
    as_retry: int = 0  # send the first attempt already marked as retry number N
    force_retries: int = 0  # retry this many times even when the gateway acknowledged


class Deliverer:
    def __init__(self, http: HttpClient, config: DeliveryConfig, hub: SocketHub) -> None:
        self._http = http
        self.config = config
        self.hub = hub
        self._socket = SocketDeliverer(hub, lambda: self.config.ack_timeout_s)
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, delivery: Delivery, outgoing: Outgoing) -> None:
        """Deliver in the background; `delivery.finished` is set when it is settled."""
        if self.config.mode == "socket":
            send = self._socket.sender(outgoing.path, outgoing.body)
            self._spawn(self._deliver(delivery, outgoing, send, "socket"))
        else:
            self._spawn(
                self._deliver(delivery, outgoing, lambda a: self._attempt(a, outgoing), "http")
            )

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _deliver(
        self,
        delivery: Delivery,
        outgoing: Outgoing,
        send: Callable[[Attempt], Awaitable[None]],
        transport: Transport,
    ) -> None:
        """Attempts until acknowledged or out of retries (Slack's rules, `next_retry`)."""
        retry_num = outgoing.as_retry
        first_reason = "http_timeout" if transport == "http" else SOCKET_RETRY_REASON
        reason: str | None = first_reason if outgoing.as_retry else None
        forced_left = outgoing.force_retries
        acked = False
        try:
            while True:
                attempt = delivery.begin(retry_num, reason, transport)
                await send(attempt)
                reason, attempt_acked = next_retry(
                    attempt, retries_allowed=outgoing.retries, forced_left=forced_left
                )
                acked = acked or attempt_acked
                if reason is None:
                    break
                forced_left = max(0, forced_left - 1)
                retry_num += 1
                await asyncio.sleep(retry_delay(self.config.retry_delays_s, retry_num))
        finally:
            delivery.finish(acked)
            log.info(
                "delivered",
                delivery_id=delivery.id,
                kind=delivery.kind,
                event_id=delivery.event_id,
                acked=acked,
                transport=transport,
                statuses=[a.status for a in delivery.attempts],
                connections=[a.connection for a in delivery.attempts if a.connection],
            )

    async def _attempt(self, attempt: Attempt, outgoing: Outgoing) -> None:
        task = self._spawn(self._send(attempt, outgoing))
        done, _ = await asyncio.wait({task}, timeout=self.config.ack_timeout_s)
        if task not in done:
            attempt.timed_out = True

    async def _send(self, attempt: Attempt, outgoing: Outgoing) -> None:
        url = self.config.gateway_url + outgoing.path
        headers = {
            "Content-Type": outgoing.content_type,
            "User-Agent": USER_AGENT,
            **signed_headers(self.config.signing_secret, int(time.time()), outgoing.body),
        }
        if attempt.retry_num:
            headers["X-Slack-Retry-Num"] = str(attempt.retry_num)
            headers["X-Slack-Retry-Reason"] = attempt.reason or "http_timeout"
        started = time.perf_counter()
        try:
            response = await self._http.request(
                "POST",
                url,
                data=outgoing.body,
                headers=headers,
                idempotent=False,
                timeout_s=LATE_LIMIT_S,
                allow_redirects=False,
            )
        except TimeoutError:
            attempt.error = f"unknown_error: no answer within {LATE_LIMIT_S:.0f}s"
        except aiohttp.ClientConnectionError as exc:
            attempt.error = f"connection_failed: {type(exc).__name__}"
        except aiohttp.ClientError as exc:
            attempt.error = f"unknown_error: {type(exc).__name__}"
        else:
            attempt.status = response.status
            attempt.no_retry = response.headers.get("X-Slack-No-Retry") == "1"
            attempt.content_type = response.headers.get("Content-Type")
            attempt.body = keep_body(await response.read())
        finally:
            attempt.elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
