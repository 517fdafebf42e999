"""A typed client for the data service's API, for actions and other services: users, facts,
activity, the audit log, alert subscriptions, and the secrets it keeps (OAuth states, Slack
installations, stored tokens).

Only the data service touches user tables; everyone else asks it over HTTP through this client
(`JEEVES_DATA_URL`). Requests go through the kit's shared `HttpClient` with audience `data`, so
they carry a token once authentication is on. Failures surface as two exceptions: the data
service refused the request (`DataRejected`, with the field it named) or could not be used
(`DataUnavailable`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
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

    async def _delete(self, url: str) -> bool:
        """DELETE `url`: True when it removed something, False when there was nothing (404)."""
        status, answer = await self._call("DELETE", url)
        if status == 404:
            return False
        if status != 204:
            raise self._rejected(status, answer)
        return True

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
        return await self._delete(url)

    async def delete_user(self, team_id: str, slack_id: str) -> bool:
        """Delete the user and everything held about them; False when unknown."""
        return await self._delete(self._user(team_id, slack_id))

    async def record_audit(self, actor: str, kind: str, target: str, detail: Any = None) -> None:
        """Append one record to the shared audit log (`POST /v1/audit`, scope `admin`):
        `kind` dotted (`alert.silence`), `actor` who did it, `target` what it was done to."""
        body = {"actor": actor, "kind": kind, "target": target, "detail": detail}
        status, answer = await self._call("POST", f"{self._base}/v1/audit", body)
        if status != 201:
            raise self._rejected(status, answer)

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
        return await self._delete(url)

    async def subscriptions(self, action: str | None = None) -> list[dict[str, Any]]:
        """Every subscription (of `action`) with the user's ids and time zone, all pages."""
        query = f"?action={quote(action, safe='')}" if action else ""
        return await self._items(f"{self._base}/v1/subscriptions{query}", max_pages=500)

    # -- OAuth states, installations, stored tokens (see docs/data.md) ----------------------

    async def create_state(
        self,
        provider: str,
        *,
        team_id: str | None = None,
        slack_id: str | None = None,
        ttl_s: int = 600,
    ) -> str:
        """A one-time OAuth `state` (bound to a Slack user when given one)."""
        body: dict[str, Any] = {"provider": provider, "ttl_s": ttl_s}
        if team_id is not None and slack_id is not None:
            body |= {"team_id": team_id, "slack_id": slack_id}
        status, answer = await self._call(
            "POST", f"{self._base}/v1/oauth-states", body, idempotent=False
        )
        if status != 201 or not isinstance(answer, dict):
            raise self._rejected(status, answer)
        return str(answer["state"])

    async def consume_state(self, provider: str, state: str) -> StateBinding | None:
        """What a state was bound to, once; None when it is unknown, used or expired."""
        body = {"provider": provider, "state": state}
        status, answer = await self._call(
            "POST", f"{self._base}/v1/oauth-states/consume", body, idempotent=False
        )
        if status == 404:
            return None
        if status != 200 or not isinstance(answer, dict):
            raise self._rejected(status, answer)
        return StateBinding(answer.get("team_id"), answer.get("slack_id"))

    def _installation(self, team_id: str) -> str:
        return f"{self._base}/v1/installations/{quote(team_id, safe='')}"

    async def put_installation(self, team_id: str, installation: dict[str, Any]) -> bool:
        """Store (or replace) a workspace's installation; True when it is new."""
        status, answer = await self._call("PUT", self._installation(team_id), installation)
        if status not in (200, 201):
            raise self._rejected(status, answer)
        return status == 201

    async def installation(self, team_id: str) -> dict[str, Any] | None:
        """A workspace's installation (never its token); None when not installed."""
        status, answer = await self._call("GET", self._installation(team_id))
        if status == 404:
            return None
        if status != 200 or not isinstance(answer, dict):
            raise self._rejected(status, answer)
        return answer

    async def installed_teams(self) -> list[str]:
        """The team id of every installation."""
        # 200 per page: 200 000 workspaces at most
        items = await self._items(f"{self._base}/v1/installations", max_pages=1000)
        return [str(item["team_id"]) for item in items]

    async def delete_installation(self, team_id: str) -> bool:
        """Forget a workspace's installation; False when there was none."""
        return await self._delete(self._installation(team_id))

    def credential(self, kind: str, *path: str) -> StoredCredential:
        """One refreshable token: `credential("installation", team)` (a bot token) or
        `credential("connection", team, user, provider)` (a third-party token)."""
        if kind == "installation":
            return StoredCredential(self, self._installation(*path) + "/token")
        team_id, slack_id, provider = path
        base = self._user(team_id, slack_id)
        return StoredCredential(self, f"{base}/connections/{quote(provider, safe='')}/token")

    async def put_connection(
        self, team_id: str, slack_id: str, provider: str, connection: dict[str, Any]
    ) -> None:
        """Store (or replace) a user's connection: token, scopes, expiry, refresh token."""
        url = f"{self._user(team_id, slack_id)}/connections/{quote(provider, safe='')}"
        status, answer = await self._call("PUT", url, connection)
        if status not in (200, 201):
            raise self._rejected(status, answer)

    async def delete_connection(self, team_id: str, slack_id: str, provider: str) -> bool:
        """Delete a connection (its tokens are queued for revocation); False when none."""
        url = f"{self._user(team_id, slack_id)}/connections/{quote(provider, safe='')}"
        return await self._delete(url)

    async def claim_revocations(
        self, provider: str, *, limit: int = 10, lease_s: float = 60.0
    ) -> list[dict[str, Any]]:
        """Tokens of deleted connections to revoke at `provider`, leased to this caller."""
        url = f"{self._base}/v1/revocations/{quote(provider, safe='')}/claim"
        body = {"limit": limit, "lease_s": lease_s}
        status, answer = await self._call("POST", url, body, idempotent=False)
        if status != 200 or not isinstance(answer, dict):
            raise self._rejected(status, answer)
        return list(answer.get("items", []))

    async def finish_revocation(self, provider: str, revocation_id: int) -> None:
        """The token is revoked at the provider: forget it."""
        url = f"{self._base}/v1/revocations/{quote(provider, safe='')}/{revocation_id}"
        status, answer = await self._call("DELETE", url)
        if status not in (204, 404):
            raise self._rejected(status, answer)


@dataclass(frozen=True)
class StateBinding:
    """Whom a consumed OAuth state was made for (both None: nobody in particular)."""

    team_id: str | None
    slack_id: str | None


@dataclass(frozen=True)
class StoredToken:
    token: str
    expires_at: float | None  # epoch seconds; None: it does not expire
    refreshable: bool
    extra: dict[str, Any]


@dataclass(frozen=True)
class Leased:
    lease_id: str
    refresh_token: str
    expires_at: float | None


@dataclass(frozen=True)
class Busy:
    """Another caller holds the refresh lease; its result can be read after `retry_after_s`."""

    retry_after_s: float


class StoredCredential:
    """A token kept by the data service: read it, lease its refresh, store the refreshed one."""

    def __init__(self, client: DataClient, url: str) -> None:
        self._client = client
        self._url = url

    async def read(self) -> StoredToken | None:
        status, answer = await self._client._call("GET", self._url)
        if status == 404:
            return None
        if status != 200 or not isinstance(answer, dict):
            raise self._client._rejected(status, answer)
        return StoredToken(
            token=str(answer["token"]),
            expires_at=_epoch(answer.get("expires_at")),
            refreshable=bool(answer.get("refreshable")),
            extra={k: v for k, v in answer.items() if k not in ("token", "expires_at")},
        )

    async def lease(self, lease_s: float) -> Leased | Busy | None:
        """The refresh lease, or Busy, or None when the token is gone or not refreshable."""
        status, answer = await self._client._call(
            "POST", self._url + "/lease", {"lease_s": lease_s}, idempotent=False
        )
        if status == 200 and isinstance(answer, dict):
            return Leased(
                str(answer["lease_id"]),
                str(answer["refresh_token"]),
                _epoch(answer.get("expires_at")),
            )
        error = answer.get("error", {}) if isinstance(answer, dict) else {}
        if status == 409 and error.get("code") == "refresh_in_progress":
            return Busy(float(error.get("retry_after_s") or 0.5))
        if status in (404, 409):
            return None
        raise self._client._rejected(status, answer)

    async def store(
        self, lease_id: str, token: str, refresh_token: str | None, expires_at: float | None
    ) -> bool:
        """Store a refreshed token under its lease; False when the lease was lost."""
        body: dict[str, Any] = {"lease_id": lease_id, "token": token}
        if refresh_token is not None:
            body["refresh_token"] = refresh_token
        if expires_at is not None:
            body["expires_at"] = datetime.fromtimestamp(expires_at, UTC).isoformat()
        status, answer = await self._client._call("PUT", self._url, body)
        if status == 204:
            return True
        if status in (404, 409):
            return False
        raise self._client._rejected(status, answer)


def _epoch(value: Any) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
