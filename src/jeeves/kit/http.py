"""The process's one outbound HTTP client (aiohttp) with timeouts, retries and request ids.

Idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS) are retried on connection errors and
502/503/504 with jittered exponential backoff (`jeeves.kit.backoff`, shared with the queue);
POST is retried only when the caller says the request is idempotent (it carries an idempotency
key). The current request id travels in `X-Request-ID`. With `audience=` the request carries a
bearer token for that audience from the `bearer` source the auth kit installs
(`jeeves.kit.auth`); a 401 renews the token and resends once.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

from jeeves.kit.backoff import backoff_delay
from jeeves.kit.context import REQUEST_ID_HEADER, current_request_id

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRYABLE_STATUS = frozenset({502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    base_delay_s: float = 0.1
    max_delay_s: float = 2.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Backoff after the given (1-based) failed attempt (`jeeves.kit.backoff`)."""
        return backoff_delay(attempt, self.base_delay_s, self.max_delay_s, rng)


class BearerSource(Protocol):
    """Where access tokens for outbound calls come from (see jeeves.kit.auth)."""

    async def bearer(self, audience: str) -> str: ...

    def reject(self, audience: str, token: str) -> None: ...


class HttpClient:
    """Wraps one aiohttp.ClientSession; create in the serving lifecycle, close at shutdown."""

    def __init__(
        self,
        *,
        connect_timeout_s: float = 2.0,
        total_timeout_s: float = 10.0,
        retry: RetryPolicy | None = None,
        user_agent: str = "jeeves",
    ) -> None:
        self._timeout = aiohttp.ClientTimeout(total=total_timeout_s, connect=connect_timeout_s)
        self._retry = retry or RetryPolicy()
        self._user_agent = user_agent
        self._session: aiohttp.ClientSession | None = None
        # Set by jeeves.kit.auth.install_auth when authentication is on.
        self.bearer: BearerSource | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout,
                headers={"User-Agent": self._user_agent},
                connector=aiohttp.TCPConnector(limit=100, ttl_dns_cache=60),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    def _headers(self, headers: Mapping[str, str] | None) -> dict[str, str]:
        merged = dict(headers or {})
        request_id = current_request_id()
        if request_id and REQUEST_ID_HEADER not in merged:
            merged[REQUEST_ID_HEADER] = request_id
        return merged

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        timeout_s: float | None = None,
        audience: str | None = None,
        **kwargs: Any,
    ) -> aiohttp.ClientResponse:
        """Send a request, retrying transient failures when it is safe; body is read.

        `audience`: authenticate as this service to that audience (when auth is on).
        """
        if audience is None or self.bearer is None:
            return await self._send(method, url, headers, idempotent, timeout_s, **kwargs)
        token = await self.bearer.bearer(audience)
        response = await self._send(
            method, url, _with_bearer(headers, token), idempotent, timeout_s, **kwargs
        )
        if response.status != 401:
            return response
        self.bearer.reject(audience, token)  # refused before acting: safe to resend once
        token = await self.bearer.bearer(audience)
        return await self._send(
            method, url, _with_bearer(headers, token), idempotent, timeout_s, **kwargs
        )

    async def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        idempotent: bool | None,
        timeout_s: float | None,
        **kwargs: Any,
    ) -> aiohttp.ClientResponse:
        method = method.upper()
        retry_allowed = method in IDEMPOTENT if idempotent is None else idempotent
        attempts = self._retry.attempts if retry_allowed else 1
        timeout = aiohttp.ClientTimeout(total=timeout_s) if timeout_s else None
        for attempt in range(1, attempts + 1):
            try:
                response = await self.session.request(
                    method, url, headers=self._headers(headers), timeout=timeout, **kwargs
                )
                await response.read()
            except (aiohttp.ClientConnectionError, TimeoutError):
                if attempt == attempts:
                    raise
            else:
                if response.status not in RETRYABLE_STATUS or attempt == attempts:
                    return response
            await asyncio.sleep(self._retry.delay(attempt))
        raise AssertionError("unreachable")  # pragma: no cover


def _with_bearer(headers: Mapping[str, str] | None, token: str) -> dict[str, str]:
    return {**(headers or {}), "Authorization": f"Bearer {token}"}
