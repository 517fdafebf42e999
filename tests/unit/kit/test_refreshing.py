"""The kit's TokenKeeper: when a stored token is used, refreshed, waited for or given up on.

Faked: the data service's side of one stored token (`MemoryCredential`, the same three calls
`StoredCredential` makes: read, lease, store — with the lease held by one caller at a time) and
the clock. The keeper's logic is the real one.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from jeeves.kit.data_client import Busy, Leased, StoredToken
from jeeves.kit.refreshing import CredentialUnavailable, Refreshed, TokenKeeper

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class MemoryCredential:
    def __init__(
        self, clock: Clock, token: str, expires_at: float | None, refreshable: bool = True
    ):
        self.clock = clock
        self.token, self.expires_at, self.refresh_token = token, expires_at, "r0"
        self.refreshable = refreshable
        self.lease_id: str | None = None
        self.lease_until = 0.0
        self.reads = 0
        self.leases = 0

    async def read(self) -> StoredToken | None:
        self.reads += 1
        return StoredToken(self.token, self.expires_at, self.refreshable, {})

    async def lease(self, lease_s: float) -> Leased | Busy | None:
        await asyncio.sleep(0)
        if self.lease_id is not None and self.lease_until > self.clock():
            return Busy(self.lease_until - self.clock())
        self.leases += 1
        self.lease_id, self.lease_until = f"l{self.leases}", self.clock() + lease_s
        return Leased(self.lease_id, self.refresh_token, self.expires_at)

    async def store(
        self, lease_id: str, token: str, refresh_token: str | None, expires_at: float | None
    ) -> bool:
        if lease_id != self.lease_id:
            return False
        self.token, self.expires_at = token, expires_at
        self.refresh_token = refresh_token or self.refresh_token
        self.lease_id = None
        return True


class Provider:
    """Hands out the next token for a refresh token; counts calls; can fail."""

    def __init__(self, clock: Clock, ttl: float = 3600) -> None:
        self.clock, self.ttl, self.calls, self.fail = clock, ttl, 0, False

    async def __call__(self, refresh_token: str) -> Refreshed:
        self.calls += 1
        await asyncio.sleep(0)
        if self.fail:
            raise RuntimeError("provider down")
        return Refreshed(f"t{self.calls}", f"r{self.calls}", self.clock() + self.ttl)


def keeper(clock: Clock, **kw: Any) -> TokenKeeper:
    async def no_sleep(_: float) -> None:
        clock.now += _

    return TokenKeeper(margin_s=300, lease_s=30, max_age_s=60, clock=clock, sleep=no_sleep, **kw)


async def test_a_token_far_from_expiry_is_used_and_cached() -> None:
    clock = Clock()
    stored = MemoryCredential(clock, "t0", clock.now + 3600)
    keep, provider = keeper(clock), Provider(clock)
    for _ in range(5):
        assert (await keep.token("k", stored, provider)).token == "t0"
    assert (stored.reads, provider.calls) == (1, 0)
    clock.now += 61  # cached at most a minute
    await keep.token("k", stored, provider)
    assert stored.reads == 2


async def test_near_expiry_one_refresh_serves_every_concurrent_caller() -> None:
    clock = Clock()
    stored = MemoryCredential(clock, "t0", clock.now + 100)  # inside the 300 s margin
    keep, provider = keeper(clock), Provider(clock)
    tokens = await asyncio.gather(*(keep.token("k", stored, provider) for _ in range(20)))
    assert {t.token for t in tokens if t is not None} == {"t1"}
    assert (provider.calls, stored.token, stored.refresh_token) == (1, "t1", "r1")
    assert stored.lease_id is None, "the lease is released by storing under it"


async def test_two_processes_refresh_once_between_them() -> None:
    clock = Clock()
    stored = MemoryCredential(clock, "t0", clock.now + 100)
    provider = Provider(clock)
    first, second = keeper(clock), keeper(clock)
    a, b = await asyncio.gather(
        first.token("k", stored, provider),
        second.token("k", stored, provider),
    )
    assert provider.calls == 1, "the other one saw the lease taken and used the live token"
    assert {a.token, b.token} <= {"t0", "t1"}


async def test_an_expired_token_waits_for_the_other_refresher() -> None:
    clock = Clock()
    stored = MemoryCredential(clock, "t0", clock.now - 1)  # expired
    stored.lease_id, stored.lease_until = "someone-else", clock.now + 5
    provider = Provider(clock)

    async def other_finishes(_: float) -> None:
        clock.now += _
        stored.token, stored.expires_at, stored.lease_id = "t-other", clock.now + 3600, None

    keep = TokenKeeper(margin_s=300, clock=clock, sleep=other_finishes)
    found = await keep.token("k", stored, provider)
    assert found is not None
    assert (found.token, provider.calls) == ("t-other", 0)


async def test_a_failed_refresh_keeps_a_live_token_and_gives_up_on_a_dead_one() -> None:
    clock = Clock()
    provider = Provider(clock)
    provider.fail = True
    alive = MemoryCredential(clock, "t0", clock.now + 100)
    assert (await keeper(clock).token("k", alive, provider)).token == "t0"
    dead = MemoryCredential(clock, "t0", clock.now - 1)
    with pytest.raises(CredentialUnavailable):
        await keeper(clock).token("k", dead, provider)


async def test_a_token_without_refresh_is_used_as_it_is() -> None:
    clock = Clock()
    stored = MemoryCredential(clock, "static", clock.now + 10, refreshable=False)
    provider = Provider(clock)
    assert (await keeper(clock).token("k", stored, provider)).token == "static"
    assert stored.leases == 0
