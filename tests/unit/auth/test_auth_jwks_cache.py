"""The JWKS cache: lazy fetch, TTL, rate-limited refetch on unknown kids, stale keys kept when
the dealer is down, a rotated key picked up. The fetcher is a plain function returning JWKS
documents the test controls; time is a fake clock.
"""

from __future__ import annotations

from typing import Any

import pytest
from authkit_helpers import ISSUER, KeyPair, mint

from jeeves.kit.auth.verify import AuthUnavailable, JwksCache, UnknownKey, Verifier

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Dealer:
    """What the JWKS endpoint would answer; `down` makes it fail."""

    def __init__(self, *pairs: KeyPair) -> None:
        self.pairs = list(pairs)
        self.down = False
        self.calls = 0

    async def fetch(self) -> Any:
        self.calls += 1
        if self.down:
            raise ConnectionError("dealer down")
        return {"keys": [pair.jwk() for pair in self.pairs]}


def make(dealer: Dealer, clock: Clock) -> tuple[JwksCache, Verifier]:
    cache = JwksCache(dealer.fetch, ttl_s=300.0, min_refetch_s=10.0, clock=clock)
    return cache, Verifier(cache, audience="echo", issuer=ISSUER, leeway_s=5.0)


async def test_fetched_once_then_cached_until_ttl(pair: KeyPair) -> None:
    dealer, clock = Dealer(pair), Clock()
    _, verifier = make(dealer, clock)
    token = mint(pair)
    for _ in range(5):
        await verifier.verify(token)
    assert dealer.calls == 1
    clock.now += 300.0
    await verifier.verify(token)
    assert dealer.calls == 2


async def test_rotated_key_is_picked_up_on_first_sight(pair: KeyPair, other_pair: KeyPair) -> None:
    dealer, clock = Dealer(pair), Clock()
    _, verifier = make(dealer, clock)
    await verifier.verify(mint(pair))
    dealer.pairs.append(other_pair)
    clock.now += 11.0
    assert (await verifier.verify(mint(other_pair))).subject == "dispatcher"
    assert dealer.calls == 2


async def test_unknown_kids_refetch_at_most_once_per_interval(
    pair: KeyPair, other_pair: KeyPair
) -> None:
    dealer, clock = Dealer(pair), Clock()
    _, verifier = make(dealer, clock)
    await verifier.verify(mint(pair))
    for _ in range(20):
        with pytest.raises(UnknownKey):
            await verifier.verify(mint(other_pair))
    assert dealer.calls == 1  # within min_refetch_s of the first fetch: no refetch at all
    clock.now += 10.0
    for _ in range(20):
        with pytest.raises(UnknownKey):
            await verifier.verify(mint(other_pair))
    assert dealer.calls == 2


async def test_stale_keys_are_kept_when_the_dealer_is_down(pair: KeyPair) -> None:
    dealer, clock = Dealer(pair), Clock()
    _, verifier = make(dealer, clock)
    await verifier.verify(mint(pair))
    dealer.down = True
    clock.now += 301.0
    assert (await verifier.verify(mint(pair))).subject == "dispatcher"


async def test_no_keys_at_all_is_unavailable(pair: KeyPair) -> None:
    dealer, clock = Dealer(pair), Clock()
    dealer.down = True
    _, verifier = make(dealer, clock)
    with pytest.raises(AuthUnavailable):
        await verifier.verify(mint(pair))
    dealer.down = False
    with pytest.raises(AuthUnavailable):  # no refetch storm: one attempt per pause
        await verifier.verify(mint(pair))
    assert dealer.calls == 1
    clock.now += 1.0
    assert (await verifier.verify(mint(pair))).subject == "dispatcher"
