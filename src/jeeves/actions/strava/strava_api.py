"""Talking to Strava: the token endpoint (code, refresh), deauthorize, athlete activities.

Through the kit's HttpClient (timeouts; idempotent GETs retried). Strava refusing — a 4xx with
its `{"message", "errors": [...]}` body — raises `StravaRefused`; anything else going wrong
(unreachable, timeout, 5xx, a body of the wrong shape) raises `StravaUnavailable`.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from jeeves.kit.http import HttpClient
from jeeves.kit.refreshing import Refreshed


class StravaUnavailable(Exception):
    """Strava could not be used right now."""


class StravaRefused(Exception):
    """Strava answered 4xx: a bad code, a revoked token, a missing permission."""

    def __init__(self, status: int, body: Any) -> None:
        errors = body.get("errors") if isinstance(body, dict) else None
        first = errors[0] if isinstance(errors, list) and errors else {}
        code = first.get("code", "") if isinstance(first, dict) else ""
        field = first.get("field", "") if isinstance(first, dict) else ""
        super().__init__(f"strava answered {status}: {field} {code}".strip())
        self.status = status
        self.field = str(field)
        self.code = str(code)


class StravaApi:
    def __init__(
        self,
        http: HttpClient,
        base_url: str,
        *,
        client_id: str,
        client_secret: str,
        timeout_s: float,
    ) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._timeout_s = timeout_s

    async def _call(
        self, method: str, path: str, *, token: str | None = None, **kwargs: Any
    ) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else None
        try:
            response = await self._http.request(
                method,
                self._base + path,
                headers=headers,
                timeout_s=self._timeout_s,
                idempotent=method == "GET",
                **kwargs,
            )
            raw = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise StravaUnavailable(type(exc).__name__) from None
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            raise StravaUnavailable(f"answered {response.status}, not JSON") from None
        if 400 <= response.status < 500 and response.status != 429:
            raise StravaRefused(response.status, body)
        if response.status >= 300:
            raise StravaUnavailable(f"answered {response.status}")
        return body

    def _grant(self, **fields: str) -> dict[str, str]:
        return {"client_id": self._client_id, "client_secret": self._client_secret, **fields}

    async def exchange(self, code: str) -> dict[str, Any]:
        """The tokens and athlete for an authorization code (works once)."""
        body = await self._call(
            "POST", "/oauth/token", data=self._grant(code=code, grant_type="authorization_code")
        )
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise StravaUnavailable("the token answer has no access_token")
        return body

    async def refresh(self, refresh_token: str) -> Refreshed:
        body = await self._call(
            "POST",
            "/oauth/token",
            data=self._grant(refresh_token=refresh_token, grant_type="refresh_token"),
        )
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise StravaUnavailable("the refresh answer has no access_token")
        expires = body.get("expires_at")
        refresh = body.get("refresh_token")
        return Refreshed(
            token=body["access_token"],
            refresh_token=refresh if isinstance(refresh, str) else None,
            expires_at=float(expires) if isinstance(expires, int | float) else None,
        )

    async def deauthorize(self, token: str) -> None:
        """Give up the athlete's authorization (every token of it stops working)."""
        await self._call("POST", "/oauth/deauthorize", data={"access_token": token})

    async def activities(self, token: str, *, after: float, per_page: int = 100) -> list[Any]:
        body = await self._call(
            "GET",
            "/api/v3/athlete/activities",
            token=token,
            params={"after": str(int(after)), "per_page": str(per_page)},
        )
        if not isinstance(body, list):
            raise StravaUnavailable("the activities answer is not a list")
        return body
