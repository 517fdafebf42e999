"""Deliveries to the app: one per event, command or click, with every attempt.

Retry rules follow Slack's Events API: an attempt is acknowledged by any 2xx answer within the
ack timeout (3 s); otherwise it is retried, up to 3 times, with the same body and event_id and
the headers `X-Slack-Retry-Num` and `X-Slack-Retry-Reason` (`http_timeout`, `http_error`,
`connection_failed`, `unknown_error`). An answer carrying `X-Slack-No-Retry: 1` stops the
retries. Slash commands and clicks are never retried (Slack shows the user an error instead).

In Socket Mode an attempt is one envelope on one of the app's connections, acknowledged by a
frame carrying its `envelope_id` within the ack timeout; otherwise the envelope goes out again
(`retry_attempt`, `retry_reason: "timeout"`), possibly on another connection.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

DeliveryKind = Literal["event", "command", "interaction"]
Transport = Literal["http", "socket"]
SOCKET_RETRY_REASON = "timeout"
MAX_RETRIES = 3
BODY_KEEP = 2000


@dataclass
class Attempt:
    """One HTTP request to the app."""

    retry_num: int
    reason: str | None  # X-Slack-Retry-Reason sent with it (None on a first attempt)
    started_at: float
    status: int | None = None
    error: str | None = None  # transport failure, e.g. "connection_failed: ..."
    elapsed_ms: float | None = None
    timed_out: bool = False  # no answer within the ack timeout (the request may finish later)
    no_retry: bool = False  # the answer carried X-Slack-No-Retry: 1
    body: str | None = None
    content_type: str | None = None
    transport: Transport = "http"
    connection: str | None = None  # Socket Mode: the connection the envelope went out on
    envelope_id: str | None = None  # Socket Mode: the envelope's id
    acked: bool = False  # Socket Mode: the app acknowledged the envelope in time

    @property
    def finished(self) -> bool:
        return self.status is not None or self.error is not None

    def failure_reason(self) -> str | None:
        """Why Slack would retry after this attempt; None when it was acknowledged."""
        if self.transport == "socket":
            return None if self.acked else SOCKET_RETRY_REASON
        if self.timed_out:
            return "http_timeout"
        if self.error is not None:
            return (
                "connection_failed"
                if self.error.startswith("connection_failed")
                else ("unknown_error")
            )
        if self.status is None:
            return "unknown_error"
        return None if 200 <= self.status < 300 else "http_error"

    def to_json(self) -> dict[str, Any]:
        return {
            "retry_num": self.retry_num,
            "reason": self.reason,
            "started_at": self.started_at,
            "status": self.status,
            "error": self.error,
            "elapsed_ms": self.elapsed_ms,
            "timed_out": self.timed_out,
            "no_retry": self.no_retry,
            "body": self.body,
            "transport": self.transport,
            "connection": self.connection,
            "envelope_id": self.envelope_id,
        }


@dataclass
class Delivery:
    id: str
    kind: DeliveryKind
    path: str
    event_id: str | None
    summary: dict[str, Any]
    created_at: float
    attempts: list[Attempt] = field(default_factory=list)
    done: bool = False
    acked: bool = False
    finished: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    finished_callbacks: list[Callable[[Delivery], None]] = field(default_factory=list, repr=False)

    def begin(self, retry_num: int, reason: str | None, transport: Transport = "http") -> Attempt:
        attempt = Attempt(
            retry_num=retry_num, reason=reason, started_at=time.time(), transport=transport
        )
        self.attempts.append(attempt)
        return attempt

    def finish(self, acked: bool) -> None:
        self.done = True
        self.acked = acked
        for callback in self.finished_callbacks:
            callback(self)
        self.finished.set()

    def response(self) -> Attempt | None:
        """The acknowledging attempt, else the last one."""
        acked = [a for a in self.attempts if a.failure_reason() is None]
        return acked[0] if acked else (self.attempts[-1] if self.attempts else None)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "path": self.path,
            "event_id": self.event_id,
            "summary": self.summary,
            "created_at": self.created_at,
            "done": self.done,
            "acked": self.acked,
            "statuses": [a.status for a in self.attempts],
            "attempts": [a.to_json() for a in self.attempts],
        }


def next_retry(
    attempt: Attempt, *, retries_allowed: bool, forced_left: int
) -> tuple[str | None, bool]:
    """(reason for the next retry or None to stop, whether this attempt was acknowledged)."""
    reason = attempt.failure_reason()
    acked = reason is None
    if not retries_allowed or attempt.retry_num >= MAX_RETRIES:
        return None, acked
    if forced_left > 0:
        return reason or "http_timeout", acked
    if acked or attempt.no_retry:
        return None, acked
    return reason, acked


def retry_delay(delays: tuple[float, ...], retry_num: int) -> float:
    """Seconds to wait before retry number `retry_num` (1-based); the last delay repeats."""
    if not delays:
        return 0.0
    return delays[min(retry_num, len(delays)) - 1]


def keep_body(raw: bytes) -> str:
    return raw[:BODY_KEEP].decode(errors="replace")


class DeliveryLog:
    """Every delivery, oldest first, bounded."""

    def __init__(self, limit: int = 10_000) -> None:
        self._deliveries: deque[Delivery] = deque(maxlen=limit)
        self._ids = itertools.count(1)

    def new(
        self, kind: DeliveryKind, path: str, event_id: str | None, summary: dict[str, Any]
    ) -> Delivery:
        delivery = Delivery(
            id=f"d{next(self._ids)}",
            kind=kind,
            path=path,
            event_id=event_id,
            summary=summary,
            created_at=time.time(),
        )
        self._deliveries.append(delivery)
        return delivery

    def get(self, delivery_id: str) -> Delivery | None:
        return next((d for d in self._deliveries if d.id == delivery_id), None)

    def select(
        self, *, event_id: str | None = None, kind: str | None = None, channel: str | None = None
    ) -> list[Delivery]:
        return [
            d
            for d in self._deliveries
            if (event_id is None or d.event_id == event_id)
            and (kind is None or d.kind == kind)
            and (channel is None or d.summary.get("channel") == channel)
        ]

    def clear(self) -> None:
        self._deliveries.clear()
