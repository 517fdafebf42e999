"""Secrets the data service keeps for others, on real PostgreSQL: Slack installations, tokens
refreshed under a lease (one refresher at a time, however many ask at once), one-time OAuth
states, and the revocation queue filled by deleting a connection or a user.

Real: the `jeeves-data` process, PostgreSQL (checked directly with asyncpg for ciphertext).
Nothing is faked; authentication is off here (scopes are checked in the e2e stacks).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from support.services import ServiceProcess, http_json

pytestmark = pytest.mark.integration
_ids = itertools.count(1)


def call(service: ServiceProcess, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    return http_json(method, service.url + path, body)


def team() -> str:
    return f"T0CRED{next(_ids):04d}"


def installation(token: str = "xoxb-one", refresh: str | None = None) -> dict[str, Any]:  # noqa: S107
    body: dict[str, Any] = {
        "team_name": "Acme",
        "app_id": "A0JEEVES",
        "bot_user_id": "U0BOT",
        "bot_id": "B0BOT",
        "scopes": ["app_mentions:read", "chat:write"],
        "installer_user_id": "U0ADMIN",
        "bot_token": token,
    }
    if refresh is not None:
        in_an_hour = datetime.now(UTC) + timedelta(hours=1)
        body |= {"bot_refresh_token": refresh, "bot_token_expires_at": in_an_hour.isoformat()}
    return body


def test_an_installation_is_stored_encrypted_and_shown_without_its_token(
    data_service: ServiceProcess, migrated_url: str
) -> None:
    t = team()
    status, shown = call(data_service, "PUT", f"/v1/installations/{t}", installation())
    assert status == 201
    assert "xoxb-one" not in str(shown)
    assert (shown["team_id"], shown["bot_user_id"], shown["refreshable"]) == (t, "U0BOT", False)
    assert shown["scopes"] == ["app_mentions:read", "chat:write"]
    again = call(data_service, "PUT", f"/v1/installations/{t}", installation("xoxb-two"))
    assert again[0] == 200, "a reinstall replaces the installation"
    status, secret = call(data_service, "GET", f"/v1/installations/{t}/token")
    assert (status, secret["token"], secret["bot_user_id"]) == (200, "xoxb-two", "U0BOT")
    listed = call(data_service, "GET", "/v1/installations?limit=200")[1]["items"]
    assert t in [i["team_id"] for i in listed]
    assert "xoxb-two" not in str(listed)

    async def ciphertext() -> bytes:
        conn = await asyncpg.connect(migrated_url)
        try:
            value = await conn.fetchval(
                "SELECT bot_token_ciphertext FROM installations WHERE team_id = $1", t
            )
        finally:
            await conn.close()
        return bytes(value)

    assert b"xoxb-two" not in asyncio.run(ciphertext())
    assert call(data_service, "DELETE", f"/v1/installations/{t}")[0] == 204
    assert call(data_service, "GET", f"/v1/installations/{t}/token")[0] == 404
    assert call(data_service, "DELETE", f"/v1/installations/{t}")[0] == 404


def test_one_refresh_lease_at_a_time_however_many_ask(data_service: ServiceProcess) -> None:
    t = team()
    call(data_service, "PUT", f"/v1/installations/{t}", installation("xoxe.xoxb-1", "xoxe-1-r1"))
    path = f"/v1/installations/{t}/token/lease"
    with ThreadPoolExecutor(16) as pool:
        answers = list(
            pool.map(lambda _: call(data_service, "POST", path, {"lease_s": 30}), range(16))
        )
    granted = [body for status, body in answers if status == 200]
    refused = [body for status, body in answers if status == 409]
    assert len(granted) == 1, answers
    assert len(refused) == 15
    assert {b["error"]["code"] for b in refused} == {"refresh_in_progress"}
    assert all(0 < b["error"]["retry_after_s"] <= 30 for b in refused)
    lease = granted[0]
    assert (lease["token"], lease["refresh_token"]) == ("xoxe.xoxb-1", "xoxe-1-r1")

    token_path = f"/v1/installations/{t}/token"
    fresh = {
        "lease_id": lease["lease_id"],
        "token": "xoxe.xoxb-2",
        "refresh_token": "xoxe-1-r2",
        "expires_at": (datetime.now(UTC) + timedelta(hours=12)).isoformat(),
    }
    stale = {**fresh, "lease_id": "not-the-lease"}
    assert call(data_service, "PUT", token_path, stale)[1]["error"]["code"] == "lease_lost"
    assert call(data_service, "PUT", token_path, fresh)[0] == 204
    assert call(data_service, "GET", token_path)[1]["token"] == "xoxe.xoxb-2"
    assert call(data_service, "PUT", token_path, fresh)[0] == 409, "a lease stores once"
    next_lease = call(data_service, "POST", path, {"lease_s": 30})[1]
    assert next_lease["refresh_token"] == "xoxe-1-r2", "the lease was released"


def test_an_expired_lease_can_be_taken_over(data_service: ServiceProcess) -> None:
    t = team()
    call(data_service, "PUT", f"/v1/installations/{t}", installation("xoxe.xoxb-1", "r1"))
    path = f"/v1/installations/{t}/token/lease"
    first = call(data_service, "POST", path, {"lease_s": 0.2})[1]
    time.sleep(0.3)  # the first refresher vanished; its lease runs out
    second = call(data_service, "POST", path, {"lease_s": 30})
    assert second[0] == 200
    body = {"lease_id": first["lease_id"], "token": "late"}
    assert call(data_service, "PUT", f"/v1/installations/{t}/token", body)[0] == 409


def test_a_token_without_a_refresh_token_cannot_be_leased(data_service: ServiceProcess) -> None:
    t = team()
    call(data_service, "PUT", f"/v1/installations/{t}", installation())
    status, body = call(data_service, "POST", f"/v1/installations/{t}/token/lease")
    assert (status, body["error"]["code"]) == (409, "not_refreshable")
    assert call(data_service, "POST", "/v1/installations/T0NOPE/token/lease")[0] == 404


def test_an_oauth_state_works_once_for_its_provider(data_service: ServiceProcess) -> None:
    bound = {"provider": "strava", "team_id": "T0S", "slack_id": "U0S"}
    status, made = call(data_service, "POST", "/v1/oauth-states", bound)
    assert status == 201
    state = made["state"]
    assert len(state) >= 40
    wrong = call(
        data_service, "POST", "/v1/oauth-states/consume", {"provider": "slack", "state": state}
    )
    assert wrong[1]["error"]["code"] == "invalid_state"
    consume = {"provider": "strava", "state": state}
    status, binding = call(data_service, "POST", "/v1/oauth-states/consume", consume)
    assert (status, binding) == (200, bound)
    status, again = call(data_service, "POST", "/v1/oauth-states/consume", consume)
    assert (status, again["error"]["code"]) == (404, "invalid_state")
    forged = {"provider": "strava", "state": "made-up-state"}
    assert call(data_service, "POST", "/v1/oauth-states/consume", forged)[0] == 404
    half = {"provider": "strava", "team_id": "T0S"}
    assert call(data_service, "POST", "/v1/oauth-states", half)[0] == 422


def test_an_expired_state_is_refused(data_service: ServiceProcess, migrated_url: str) -> None:
    state = call(data_service, "POST", "/v1/oauth-states", {"provider": "slack"})[1]["state"]

    async def expire() -> None:
        conn = await asyncpg.connect(migrated_url)
        try:
            await conn.execute("UPDATE oauth_states SET expires_at = now() - interval '1 s'")
        finally:
            await conn.close()

    asyncio.run(expire())
    body = {"provider": "slack", "state": state}
    assert call(data_service, "POST", "/v1/oauth-states/consume", body)[0] == 404


def test_deleted_connections_wait_to_be_revoked_then_go(data_service: ServiceProcess) -> None:
    user = f"/v1/users/T0REV/U{next(_ids):05d}"
    connection = {"token": "strava-access", "refresh_token": "strava-refresh", "account": "1234"}
    assert call(data_service, "PUT", user + "/connections/strava", connection)[0] == 201
    listed = call(data_service, "GET", user + "/connections")[1]["items"]
    assert (listed[0]["account"], listed[0]["refreshable"]) == ("1234", True)
    secret = call(data_service, "GET", user + "/connections/strava/token")[1]
    assert secret["token"] == "strava-access"

    assert call(data_service, "DELETE", user)[0] == 204  # "forget everything"
    claimed = call(data_service, "POST", "/v1/revocations/strava/claim", {"limit": 100})[1]
    mine = [i for i in claimed["items"] if i["token"] == "strava-access"]
    assert len(mine) == 1
    assert (mine[0]["refresh_token"], mine[0]["attempts"]) == ("strava-refresh", 1)
    again = call(data_service, "POST", "/v1/revocations/strava/claim", {"limit": 100})[1]
    assert mine[0]["id"] not in [i["id"] for i in again["items"]], "leased: nobody else gets it"
    path = f"/v1/revocations/strava/{mine[0]['id']}"
    assert call(data_service, "DELETE", path)[0] == 204
    assert call(data_service, "DELETE", path)[0] == 404


def test_deleting_one_connection_queues_its_token_too(data_service: ServiceProcess) -> None:
    user = f"/v1/users/T0REV/U{next(_ids):05d}"
    call(data_service, "PUT", user + "/connections/strava", {"token": "only-this-one"})
    assert call(data_service, "DELETE", user + "/connections/strava")[0] == 204
    claimed = call(data_service, "POST", "/v1/revocations/strava/claim", {"limit": 100})[1]
    assert "only-this-one" in [i["token"] for i in claimed["items"]]
    assert call(data_service, "POST", "/v1/revocations/other/claim")[1] == {"items": []}
