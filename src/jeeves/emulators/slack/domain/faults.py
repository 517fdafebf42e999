"""Fault injection for the emulated Web API: rate limits, server errors, Slack errors and slow
answers.

A `Fault` matches calls by channel (or every channel) and by API method (or every method), and
stays active for its next `count` matching calls and/or until `duration_s` has passed. The
first active matching fault, in the order they were added, decides the answer. A `slow` fault
does not replace the answer: the call is done (a message is posted), and the answer leaves
`delay_s` seconds later, as when Slack has a message but the app gives up waiting for the
answer. Time comes from an injected clock, so the logic is tested without sleeping.

Posts to the emulator's `response_url`s are matched as the method `response_url`, and only by
faults that name it in `methods` (a fault for every method leaves them alone, so older tests
keep their meaning). There a `slack_error` of `expired_url` or `used_url` answers HTTP 404, as
Slack does.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

FaultKind = Literal["rate_limit", "server_error", "slack_error", "slow"]
KINDS: tuple[FaultKind, ...] = ("rate_limit", "server_error", "slack_error", "slow")
Clock = Callable[[], float]
MAX_DELAY_S = 60.0
RESPONSE_URL = "response_url"  # the pseudo-method of posts to a response_url
EXPLICIT_ONLY = frozenset({RESPONSE_URL})  # methods only faults naming them apply to
GONE_ERRORS = frozenset({"expired_url", "used_url"})  # answered 404 on a response_url


class FaultSpecError(ValueError):
    """A fault description that cannot be used; the message names the field."""


@dataclass(frozen=True)
class FaultAnswer:
    """What the Web API answers instead of doing the call."""

    status: int
    error: str
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Fault:
    id: str
    kind: FaultKind
    channel: str | None = None  # None: every channel (and calls without a channel)
    methods: frozenset[str] | None = None  # None: every Web API method
    remaining: int | None = None  # calls left; None: unlimited until `until`
    until: float | None = None  # clock value after which the fault is over
    retry_after: int = 1
    status: int = 500
    error: str = ""
    delay_s: float = 1.0
    hits: int = 0

    def active(self, now: float) -> bool:
        if self.remaining is not None and self.remaining <= 0:
            return False
        return self.until is None or now < self.until

    def matches(self, method: str, channel: str | None, now: float) -> bool:
        if not self.active(now):
            return False
        if self.methods is None and method in EXPLICIT_ONLY:
            return False
        if self.methods is not None and method not in self.methods:
            return False
        return self.channel is None or self.channel == channel

    def answer(self) -> FaultAnswer:
        if self.kind == "rate_limit":
            return FaultAnswer(429, "ratelimited", {"Retry-After": str(self.retry_after)})
        if self.kind == "server_error":
            return FaultAnswer(self.status, _server_error_code(self.status))
        return FaultAnswer(200, self.error)

    def to_json(self, now: float) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "channel": self.channel,
            "methods": sorted(self.methods) if self.methods is not None else None,
            "remaining": self.remaining,
            "seconds_left": None if self.until is None else max(0.0, round(self.until - now, 3)),
            "retry_after": self.retry_after if self.kind == "rate_limit" else None,
            "status": self.answer().status,
            "error": self.answer().error if self.kind != "slow" else None,
            "delay_s": self.delay_s if self.kind == "slow" else None,
            "hits": self.hits,
            "active": self.active(now),
        }


def _server_error_code(status: int) -> str:
    return "service_unavailable" if status == 503 else "internal_error"


def _optional_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise FaultSpecError(f"'{key}' must be a non-empty string")
    return value


def _optional_number(data: Mapping[str, Any], key: str, *, integer: bool) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FaultSpecError(f"'{key}' must be a number")
    if integer and not float(value).is_integer():
        raise FaultSpecError(f"'{key}' must be a whole number")
    if value <= 0:
        raise FaultSpecError(f"'{key}' must be greater than 0")
    return float(value)


def _methods(data: Mapping[str, Any]) -> frozenset[str] | None:
    value = data.get("methods")
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(m, str) for m in value):
        raise FaultSpecError("'methods' must be a list of API method names, e.g. chat.postMessage")
    return frozenset(value)


def parse_fault(fault_id: str, data: Mapping[str, Any], now: float) -> Fault:
    """Build a fault from its JSON description (see docs/slack-emulator.md)."""
    kind = data.get("kind")
    if kind not in KINDS:
        raise FaultSpecError(f"'kind' must be one of {', '.join(KINDS)}")
    count = _optional_number(data, "count", integer=True)
    duration = _optional_number(data, "duration_s", integer=False)
    if count is None and duration is None:
        count = 1.0
    fault = Fault(
        id=fault_id,
        kind=kind,
        channel=_optional_str(data, "channel"),
        methods=_methods(data),
        remaining=None if count is None else int(count),
        until=None if duration is None else now + duration,
    )
    if kind == "rate_limit":
        fault.retry_after = int(_optional_number(data, "retry_after", integer=True) or 1)
    elif kind == "slow":
        fault.delay_s = _optional_number(data, "delay_s", integer=False) or 1.0
        if fault.delay_s > MAX_DELAY_S:
            raise FaultSpecError(f"'delay_s' must be at most {MAX_DELAY_S:g}")
    elif kind == "server_error":
        status = data.get("status", 500)
        if not isinstance(status, int) or isinstance(status, bool) or not 500 <= status <= 599:
            raise FaultSpecError("'status' must be an HTTP status from 500 to 599")
        fault.status = status
    else:
        error = _optional_str(data, "error")
        if error is None:
            raise FaultSpecError("'error' is required for a slack_error, e.g. channel_not_found")
        fault.error = error
    return fault


class FaultBook:
    """The active faults, in the order they were added."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, data: Mapping[str, Any]) -> Fault:
        fault = parse_fault(f"f{next(self._ids)}", data, self._clock())
        self._faults.append(fault)
        return fault

    def _first(self, method: str, channel: str | None, *, slow: bool) -> Fault | None:
        """The first matching fault of the wanted sort, one of its calls consumed."""
        now = self._clock()
        self._faults = [f for f in self._faults if f.active(now)]
        for fault in self._faults:
            if (fault.kind == "slow") is slow and fault.matches(method, channel, now):
                fault.hits += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                return fault
        return None

    def take(self, method: str, channel: str | None) -> FaultAnswer | None:
        """The answer of the first matching (not `slow`) fault, consuming one of its calls."""
        fault = self._first(method, channel, slow=False)
        return fault.answer() if fault is not None else None

    def take_delay(self, method: str, channel: str | None) -> float:
        """Seconds a matching `slow` fault holds the answer back (0 when none matches)."""
        fault = self._first(method, channel, slow=True)
        return fault.delay_s if fault is not None else 0.0

    def remove(self, fault_id: str) -> bool:
        before = len(self._faults)
        self._faults = [f for f in self._faults if f.id != fault_id]
        return len(self._faults) < before

    def clear(self) -> None:
        self._faults.clear()

    def to_json(self) -> list[dict[str, Any]]:
        now = self._clock()
        return [f.to_json(now) for f in self._faults if f.active(now)]
