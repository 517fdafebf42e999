"""Tokens for outbound calls: one cached access token per audience, refreshed before expiry.

`TokenProvider` asks the dealer's `/oauth/token` (client-credentials grant, HTTP Basic client
authentication) for a token per audience, keeps it until 80% of its lifetime has passed, and
keeps using a still-valid token if a refresh fails. Concurrent callers share one fetch.
`reject` drops a token a receiver answered 401 to, so the next call fetches a fresh one.
Each fetch is counted by result (`ok`, `refused`: the dealer answered but gave no token,
`unreachable`: no answer) when a `fetches` counter is given: the dealer's errors as its
callers see them (`jeeves_auth_token_fetches_total`).
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
from prometheus_client import Counter

from jeeves.kit.http import HttpClient
from jeeves.kit.logging import get_logger

REFRESH_AT = 0.8  # fraction of the lifetime after which a token is renewed
EXPIRY_MARGIN_S = 5.0  # never hand out a token this close to its expiry
FETCH_TIMEOUT_S = 5.0

log = get_logger(__name__)


class TokenUnavailable(aiohttp.ClientError):
    """The dealer refused or answered nonsense; the message names status and OAuth error.

    An `aiohttp.ClientError`, so a caller already handling "the service could not be called"
    (retry later, report unavailable) handles a missing token the same way.
    """


@dataclass(frozen=True)
class _Cached:
    value: str
    refresh_at: float
    expires_at: float


def basic_credentials(client_id: str, client_secret: str) -> str:
    """RFC 6749 §2.3.1: form-urlencode each part, then Basic-encode."""
    user = urllib.parse.quote_plus(client_id)
    password = urllib.parse.quote_plus(client_secret)
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


class TokenProvider:
    """Caller side: `await bearer(audience)` gives a valid access token for `audience`."""

    def __init__(
        self,
        http: HttpClient,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        clock: Callable[[], float] = time.monotonic,
        fetches: Counter | None = None,
    ) -> None:
        self._http = http
        self._outcomes = fetches
        self._token_url = token_url
        self._client_id = client_id
        self._authorization = basic_credentials(client_id, client_secret)
        self._clock = clock
        self._cache: dict[str, _Cached] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.fetches = 0

    async def bearer(self, audience: str) -> str:
        cached = self._cache.get(audience)
        if cached is not None and self._clock() < cached.refresh_at:
            return cached.value
        lock = self._locks.setdefault(audience, asyncio.Lock())
        async with lock:
            cached = self._cache.get(audience)
            if cached is not None and self._clock() < cached.refresh_at:
                return cached.value
            try:
                fresh = await self._fetch(audience)
            except (TokenUnavailable, aiohttp.ClientError, TimeoutError) as exc:
                self._count("refused" if isinstance(exc, TokenUnavailable) else "unreachable")
                if cached is not None and self._clock() < cached.expires_at - EXPIRY_MARGIN_S:
                    log.warning("token_refresh_failed", audience=audience, error=str(exc)[:200])
                    return cached.value
                raise
            self._count("ok")
            self._cache[audience] = fresh
            return fresh.value

    def _count(self, result: str) -> None:
        if self._outcomes is not None:
            self._outcomes.labels(result).inc()

    def reject(self, audience: str, token: str) -> None:
        """Forget `token` (a receiver refused it) so the next call fetches a new one."""
        cached = self._cache.get(audience)
        if cached is not None and cached.value == token:
            del self._cache[audience]

    async def _fetch(self, audience: str) -> _Cached:
        started = self._clock()
        response = await self._http.request(
            "POST",
            self._token_url,
            data={"grant_type": "client_credentials", "audience": audience},
            headers={"Authorization": self._authorization},
            idempotent=True,
            timeout_s=FETCH_TIMEOUT_S,
        )
        try:
            body = json.loads(await response.read() or b"null")
        except ValueError:
            body = None
        if response.status != 200 or not isinstance(body, dict):
            error = body.get("error") if isinstance(body, dict) else None
            raise TokenUnavailable(
                f"token dealer answered {response.status} ({error or 'no OAuth error'}) "
                f"for client {self._client_id!r}, audience {audience!r}"
            )
        token, lifetime = body.get("access_token"), body.get("expires_in")
        if not isinstance(token, str) or not isinstance(lifetime, int | float) or lifetime <= 0:
            raise TokenUnavailable("token dealer answered without access_token/expires_in")
        self.fetches += 1
        return _Cached(
            value=token,
            refresh_at=started + lifetime * REFRESH_AT,
            expires_at=started + lifetime,
        )
