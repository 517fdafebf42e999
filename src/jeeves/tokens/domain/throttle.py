"""Brute-force brake: a failure counter per client id with an exponential lockout window.

The first `free_failures` wrong attempts cost nothing; each further one locks the client id out
for `base_s * 2**k` seconds (capped at `max_s`). A success clears the record; a record with no
failure for `forget_after_s` is forgotten. Unknown client ids are counted the same way, so the
answer never reveals whether an id exists. Time is passed in, so tests use a fake clock.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass


@dataclass
class _Record:
    failures: int
    last_failure: float
    locked_until: float


class FailureThrottle:
    """Per-client failure counter; bounded in memory (least recently failing evicted first)."""

    def __init__(
        self,
        *,
        free_failures: int = 5,
        base_s: float = 1.0,
        max_s: float = 300.0,
        forget_after_s: float = 900.0,
        capacity: int = 10_000,
    ) -> None:
        self.free_failures = free_failures
        self.base_s = base_s
        self.max_s = max_s
        self.forget_after_s = forget_after_s
        self.capacity = capacity
        self._records: OrderedDict[str, _Record] = OrderedDict()

    def retry_after(self, client_id: str, now: float) -> float:
        """Seconds until `client_id` may try again (0.0: it may try now)."""
        record = self._current(client_id, now)
        return max(0.0, record.locked_until - now) if record else 0.0

    def failure(self, client_id: str, now: float) -> float:
        """Record a failed attempt; returns the lockout it starts (0.0 when none)."""
        record = self._current(client_id, now) or _Record(0, now, 0.0)
        record.failures += 1
        record.last_failure = now
        excess = record.failures - self.free_failures
        lockout = min(self.max_s, self.base_s * 2 ** (excess - 1)) if excess > 0 else 0.0
        record.locked_until = now + lockout
        self._records[client_id] = record
        self._records.move_to_end(client_id)
        while len(self._records) > self.capacity:
            self._records.popitem(last=False)
        return lockout

    def success(self, client_id: str) -> None:
        self._records.pop(client_id, None)

    def failures(self, client_id: str, now: float) -> int:
        record = self._current(client_id, now)
        return record.failures if record else 0

    def _current(self, client_id: str, now: float) -> _Record | None:
        record = self._records.get(client_id)
        if record is not None and now - record.last_failure >= self.forget_after_s:
            del self._records[client_id]
            return None
        return record
