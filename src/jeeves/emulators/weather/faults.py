"""Fault injection for the emulated APIs: down, server errors, slowness, garbage bodies.

A fault applies to one API (`geocoding` or `forecast`) or both, for its next `count` calls or
until cleared. Tests drive it through `POST /_control/faults`; state is in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Api = Literal["geocoding", "forecast"]
FaultMode = Literal["down", "error", "slow", "garbage", "wrong_shape"]
MODES: tuple[FaultMode, ...] = ("down", "error", "slow", "garbage", "wrong_shape")
APIS: tuple[Api, ...] = ("geocoding", "forecast")


class FaultSpecError(ValueError):
    """A fault description that cannot be used; the message names the field."""


@dataclass
class Fault:
    mode: FaultMode
    api: Api | None = None  # None: both APIs
    status: int = 500  # for "error"
    delay_s: float = 5.0  # for "slow"
    remaining: int | None = None  # None: until cleared
    hits: int = 0

    def applies(self, api: Api) -> bool:
        if self.remaining is not None and self.remaining <= 0:
            return False
        return self.api is None or self.api == api

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "api": self.api,
            "status": self.status,
            "delay_s": self.delay_s,
            "remaining": self.remaining,
            "hits": self.hits,
        }


def parse_fault(data: Any) -> Fault:
    """Build a fault from the control endpoint's JSON body."""
    if not isinstance(data, dict):
        raise FaultSpecError("body must be a JSON object")
    unknown = set(data) - {"mode", "api", "status", "delay_s", "count"}
    if unknown:
        raise FaultSpecError(f"unknown field {sorted(unknown)[0]}")
    mode = data.get("mode")
    if mode not in MODES:
        raise FaultSpecError(f"mode must be one of {', '.join(MODES)}")
    api = data.get("api")
    if api is not None and api not in APIS:
        raise FaultSpecError("api must be geocoding, forecast or null")
    status = data.get("status", 500)
    if not isinstance(status, int) or not 400 <= status <= 599:
        raise FaultSpecError("status must be an integer from 400 to 599")
    delay = data.get("delay_s", 5.0)
    if not isinstance(delay, int | float) or not 0 <= delay <= 60:
        raise FaultSpecError("delay_s must be a number from 0 to 60")
    count = data.get("count")
    if count is not None and (not isinstance(count, int) or count < 1):
        raise FaultSpecError("count must be a positive integer or null")
    return Fault(mode=mode, api=api, status=status, delay_s=float(delay), remaining=count)


class FaultBook:
    """The active faults; the first one that applies to a call decides it."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self.calls: dict[str, int] = {api: 0 for api in APIS}

    def add(self, fault: Fault) -> None:
        self.faults.append(fault)

    def clear(self) -> None:
        self.faults.clear()

    def reset(self) -> None:
        self.clear()
        self.calls = {api: 0 for api in APIS}

    def take(self, api: Api) -> Fault | None:
        """Count a call to `api` and return the fault it meets, if any."""
        self.calls[api] += 1
        for fault in self.faults:
            if fault.applies(api):
                fault.hits += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                return fault
        return None
