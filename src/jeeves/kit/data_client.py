"""A typed client for the data service (users, facts, activity, audit, subscriptions).

Only the data service touches user tables; everyone else asks it over HTTP through this client
(`JEEVES_DATA_URL`). Requests go through the kit's shared `HttpClient` with audience `data`, so
they carry a token once authentication is on. Failures surface as two exceptions: the data
service refused the request (`DataRejected`, with the field it named) or could not be used
(`DataUnavailable`).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import aiohttp

from jeeves.kit.http import HttpClient

AUDIENCE = "data"


class DataUnavailable(Exception):
    """The data service did not answer usefully (down, timeout, 5xx, unexpected body)."""


class DataRejected(Exception):
    """The data service refused the request (4xx); `field` names what was wrong, if known."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


class DataClient:
    def __init__(self, http: HttpClient, base_url: str, *, timeout_s: float = 3.0) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._timeout_s = timeout_s

    def _user(self, team_id: str, slack_id: str) -> str:
        return f"{self._base}/v1/users/{quote(team_id, safe='')}/{quote(slack_id, safe='')}"

    async def _call(
        self, method: str, url: str, body: Any = None, *, idempotent: bool | None = None
    ) -> tuple[int, Any]:
        try:
            response = await self._http.request(
                method,
                url,
                json=body,
                timeout_s=self._timeout_s,
                audience=AUDIENCE,
                idempotent=idempotent,
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DataUnavailable(f"data service unreachable: {type(exc).__name__}") from None
        raw = await response.read()
        try:
            decoded = json.loads(raw) if raw else None
        except ValueError:
            raise DataUnavailable(f"data service answered {response.status}, not JSON") from None
        if response.status >= 500:
            raise DataUnavailable(f"data service answered {response.status}")
        return response.status, decoded

    @staticmethod
    def _rejected(status: int, body: Any) -> DataRejected:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        message = str(error.get("message") or f"status {status}")
        field = error.get("field")
        return DataRejected(status, message, field if isinstance(field, str) else None)

    async def _items(self, url: str, max_pages: int) -> list[dict[str, Any]]:
        """Every item of a paged list (`?limit=200&cursor=` is added), at most `max_pages`."""
        found: list[dict[str, Any]] = []
        cursor = ""
        joiner = "&" if "?" in url else "?"
        for _ in range(max_pages):
            status, body = await self._call("GET", f"{url}{joiner}limit=200&cursor={quote(cursor)}")
            if status != 200 or not isinstance(body, dict):
                raise self._rejected(status, body)
            found.extend(item for item in body.get("items", []) if isinstance(item, dict))
            cursor = body.get("next_cursor") or ""
            if not cursor:
                break
        return found

    async def facts(self, team_id: str, slack_id: str) -> dict[str, str]:
        """Every fact of the user as {key: value} (an unknown user has none)."""
        # at most 20 pages of 200: far beyond any real user
        items = await self._items(f"{self._user(team_id, slack_id)}/facts", max_pages=20)
        return {str(item["key"]): str(item["value"]) for item in items}

    async def set_fact(self, team_id: str, slack_id: str, key: str, value: str) -> str:
        """Create or replace a fact; returns the value as stored (normalised by the service)."""
        url = f"{self._user(team_id, slack_id)}/facts/{quote(key, safe='')}"
        status, body = await self._call("PUT", url, {"value": value})
        if status not in (200, 201) or not isinstance(body, dict):
            raise self._rejected(status, body)
        return str(body["value"])

    async def delete_fact(self, team_id: str, slack_id: str, key: str) -> bool:
        """Delete a fact; False when there was none."""
        url = f"{self._user(team_id, slack_id)}/facts/{quote(key, safe='')}"
        status, body = await self._call("DELETE", url)
        if status == 404:
            return False
        if status != 204:
            raise self._rejected(status, body)
        return True

    async def delete_user(self, team_id: str, slack_id: str) -> bool:
        """Delete the user and everything held about them; False when unknown."""
        status, body = await self._call("DELETE", self._user(team_id, slack_id))
        if status == 404:
            return False
        if status != 204:
            raise self._rejected(status, body)
        return True

    async def record_activity(
        self,
        team_id: str,
        slack_id: str,
        action: str,
        outcome: str,
        latency_ms: float,
        event_id: str | None = None,
        channel: str | None = None,
    ) -> bool:
        """Append one finished action call to the activity log (never message text).

        `outcome` is `ok`, `user_error`, `error` or `timeout`; with `event_id` a repeated call
        is recorded once (so it is safe to retry). True when this call recorded it.
        """
        body: dict[str, Any] = {
            "team_id": team_id,
            "slack_id": slack_id,
            "action": action,
            "outcome": outcome,
            "latency_ms": max(0, round(latency_ms)),
        }
        if event_id is not None:
            body["event_id"] = event_id
        if channel is not None:
            body["channel"] = channel
        url = f"{self._base}/v1/activity"
        status, answer = await self._call("POST", url, body, idempotent=event_id is not None)
        if status not in (200, 201):
            raise self._rejected(status, answer)
        return status == 201

    async def append_audit(self, record: dict[str, Any]) -> bool:
        """Append one audit record (`{"key"?, "actor", "kind", "target", "detail"?, …}`); with
        a `key` it is stored once however often it is sent. True when this call stored it."""
        url = f"{self._base}/v1/audit"
        status, answer = await self._call("POST", url, record, idempotent="key" in record)
        if status not in (200, 201):
            raise self._rejected(status, answer)
        return status == 201

    async def subscribe(
        self, team_id: str, slack_id: str, action: str, time: str, channel: str | None = None
    ) -> bool:
        """Subscribe the user to `action`'s daily alert at `time` (HH:MM, their time zone);
        True when new, False when an existing one was moved."""
        url = f"{self._user(team_id, slack_id)}/subscriptions/{quote(action, safe='')}"
        body: dict[str, Any] = {"time": time}
        if channel is not None:
            body["channel"] = channel
        status, answer = await self._call("PUT", url, body, idempotent=True)
        if status not in (200, 201):
            raise self._rejected(status, answer)
        return status == 201

    async def unsubscribe(self, team_id: str, slack_id: str, action: str) -> bool:
        """Remove the user's `action` alert; False when there was none."""
        url = f"{self._user(team_id, slack_id)}/subscriptions/{quote(action, safe='')}"
        status, answer = await self._call("DELETE", url)
        if status == 404:
            return False
        if status != 204:
            raise self._rejected(status, answer)
        return True

    async def subscriptions(self, action: str | None = None) -> list[dict[str, Any]]:
        """Every subscription (of `action`) with the user's ids and time zone, all pages."""
        query = f"?action={quote(action, safe='')}" if action else ""
        return await self._items(f"{self._base}/v1/subscriptions{query}", max_pages=500)
