"""Using a stored token that expires: refreshed before it expires, by one caller at a time.

Slack bot tokens with rotation (12 hours) and Strava access tokens (6 hours) both come with a
refresh token that buys the next pair. `TokenKeeper.token(key, credential, refresh)` hands out a
usable token:

- from its cache while the token is more than `margin_s` from expiry (and cached less than
  `max_age_s`, so a token replaced or deleted elsewhere is noticed);
- else read from the data service; a token far from expiry, or one that cannot be refreshed,
  is used as it is;
- a token within `margin_s` of expiry is refreshed: take the data service's refresh lease (one
  holder across every replica of every service), call the provider with the refresh token,
  store the new pair under that lease, use it. Another holder (`Busy`) → the current token is
  used while it still works, else read again once that holder is done. A failed refresh → the
  current token while it still works (the lease runs out and someone tries again), else
  `CredentialUnavailable`.

Within one process one caller per key does this (an asyncio lock per key), the others wait for
its result. `forget(key)` drops a cached token (e.g. after Slack answered `invalid_auth`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from jeeves.kit.data_client import Busy, Leased, StoredCredential, StoredToken
from jeeves.kit.logging import get_logger

log = get_logger(__name__)


class CredentialUnavailable(Exception):
    """No usable token: expired and could not be refreshed (the caller retries later)."""


@dataclass(frozen=True)
class Refreshed:
    """What the provider answered a refresh with."""

    token: str
    refresh_token: str | None  # None: keep the one stored
    expires_at: float | None


Refresh = Callable[[str], Awaitable[Refreshed]]


@dataclass
class _Cached:
    stored: StoredToken
    fetched_at: float


class TokenKeeper:
    """Fresh tokens by key, for one process."""

    def __init__(
        self,
        *,
        margin_s: float = 300.0,
        lease_s: float = 30.0,
        max_age_s: float = 60.0,
        max_wait_s: float = 10.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._margin_s = margin_s
        self._lease_s = lease_s
        self._max_age_s = max_age_s
        self._max_wait_s = max_wait_s
        self._clock = clock
        self._sleep = sleep
        self._cache: dict[str, _Cached] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.refreshes = 0  # refreshes this process made (for tests and logs)

    def forget(self, key: str) -> None:
        self._cache.pop(key, None)

    async def token(
        self, key: str, credential: StoredCredential, refresh: Refresh
    ) -> StoredToken | None:
        """A usable token for `key`, or None when none is stored."""
        cached = self._fresh(key)
        if cached is not None:
            return cached
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._fresh(key)
            if cached is not None:
                return cached
            stored = await self._usable(key, credential, refresh)
            if stored is None:
                self._cache.pop(key, None)
            else:
                self._cache[key] = _Cached(stored, self._clock())
            return stored

    def _fresh(self, key: str) -> StoredToken | None:
        entry = self._cache.get(key)
        if entry is None:
            return None
        now = self._clock()
        if now - entry.fetched_at > self._max_age_s or self._due(entry.stored, now):
            return None
        return entry.stored

    def _due(self, stored: StoredToken, now: float) -> bool:
        return stored.expires_at is not None and stored.expires_at - now <= self._margin_s

    def _alive(self, stored: StoredToken) -> bool:
        return stored.expires_at is None or stored.expires_at > self._clock()

    async def _usable(
        self, key: str, credential: StoredCredential, refresh: Refresh
    ) -> StoredToken | None:
        stored = await credential.read()
        if stored is None or not stored.refreshable or not self._due(stored, self._clock()):
            return stored
        deadline = self._clock() + self._max_wait_s
        while True:
            lease = await credential.lease(self._lease_s)
            if lease is None:  # deleted or no longer refreshable meanwhile
                return await credential.read()
            if isinstance(lease, Leased):
                return await self._refresh(key, credential, refresh, stored, lease)
            if self._alive(stored):
                return stored  # someone else refreshes; this one still works
            if self._clock() + lease.retry_after_s > deadline:
                raise CredentialUnavailable(f"{key}: expired while another caller refreshes it")
            await self._sleep(max(0.05, lease.retry_after_s))
            stored = await credential.read()
            if stored is None or not self._due(stored, self._clock()):
                return stored

    async def _refresh(
        self,
        key: str,
        credential: StoredCredential,
        refresh: Refresh,
        stored: StoredToken,
        lease: Leased | Busy,
    ) -> StoredToken:
        assert isinstance(lease, Leased)
        try:
            fresh = await refresh(lease.refresh_token)
        except Exception as exc:
            log.warning("token_refresh_failed", key=key, error=type(exc).__name__)
            if self._alive(stored):
                return stored
            raise CredentialUnavailable(f"{key}: expired and the refresh failed") from exc
        self.refreshes += 1
        if not await credential.store(
            lease.lease_id, fresh.token, fresh.refresh_token, fresh.expires_at
        ):
            log.warning("token_refresh_lease_lost", key=key)
        log.info("token_refreshed", key=key, expires_at=fresh.expires_at)
        return StoredToken(fresh.token, fresh.expires_at, True, stored.extra)
