"""The data service's REST API against real PostgreSQL: ETags, preconditions, validation,
pagination, encryption at rest, export and deletion, activity and usage statistics.

Real: the `jeeves-data` process, PostgreSQL (checked directly with asyncpg). Nothing is faked.
"""

from __future__ import annotations

import itertools
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import asyncpg
import pytest

from jeeves.data.schema import USER_TABLES
from support.services import ServiceProcess, http_json

pytestmark = pytest.mark.integration
_ids = itertools.count(1)


def new_user() -> str:
    """A fresh `/v1/users/<team>/<user>` path, so tests do not share state."""
    return f"/v1/users/T0TEST/U{next(_ids):05d}"


def call(
    service: ServiceProcess, method: str, path: str, body: Any = None, **headers: str
) -> tuple[int, Any]:
    named = {k.replace("_", "-"): v for k, v in headers.items()}
    return http_json(method, service.url + path, body, named)


def etag_of(service: ServiceProcess, path: str) -> str:
    with urllib.request.urlopen(service.url + path, timeout=5) as response:
        return str(response.headers["ETag"])


def test_user_get_or_create_is_idempotent(data_service: ServiceProcess) -> None:
    user = new_user()
    first = call(data_service, "PUT", user)
    second = call(data_service, "PUT", user)
    assert first[0] == 201
    assert second[0] == 200
    assert first[1] == second[1]
    assert first[1]["is_admin"] is False
    assert set(first[1]) == {
        "team_id",
        "slack_id",
        "is_admin",
        "version",
        "created_at",
        "updated_at",
    }


def test_fact_etag_304_and_version_from_the_row(data_service: ServiceProcess) -> None:
    fact = new_user() + "/facts/location"
    assert call(data_service, "PUT", fact, {"value": "Porto"})[0] == 201
    etag = etag_of(data_service, fact)
    assert call(data_service, "GET", fact, If_None_Match=etag) == (304, None)
    assert call(data_service, "GET", fact, If_None_Match=f"W/{etag}") == (304, None)
    assert call(data_service, "PUT", fact, {"value": "Lisbon"})[1]["version"] == 2
    status, body = call(data_service, "GET", fact, If_None_Match=etag)
    assert status == 200
    assert body["value"] == "Lisbon"
    assert etag_of(data_service, fact) != etag


def test_if_match_guards_writes(data_service: ServiceProcess) -> None:
    fact = new_user() + "/facts/units"
    call(data_service, "PUT", fact, {"value": "Metric"})
    old = etag_of(data_service, fact)
    assert call(data_service, "PUT", fact, {"value": "imperial"}, If_Match=old)[0] == 200
    status, body = call(data_service, "PUT", fact, {"value": "metric"}, If_Match=old)
    assert status == 412
    assert body["error"]["code"] == "precondition_failed"
    assert call(data_service, "DELETE", fact, If_Match=old)[0] == 412
    assert call(data_service, "GET", fact)[1]["value"] == "imperial"
    assert call(data_service, "DELETE", fact, If_Match=etag_of(data_service, fact))[0] == 204
    assert call(data_service, "GET", fact)[0] == 404


def test_if_none_match_star_creates_only(data_service: ServiceProcess) -> None:
    fact = new_user() + "/facts/location"
    assert call(data_service, "PUT", fact, {"value": "Porto"}, If_None_Match="*")[0] == 201
    assert call(data_service, "PUT", fact, {"value": "Lisbon"}, If_None_Match="*")[0] == 412


def test_deleted_then_recreated_fact_never_matches_an_old_etag(
    data_service: ServiceProcess,
) -> None:
    fact = new_user() + "/facts/location"
    call(data_service, "PUT", fact, {"value": "Porto"})
    old = etag_of(data_service, fact)
    call(data_service, "DELETE", fact)
    call(data_service, "PUT", fact, {"value": "Berlin"})
    assert call(data_service, "GET", fact, If_None_Match=old)[0] == 200
    assert call(data_service, "PUT", fact, {"value": "Tokyo"}, If_Match=old)[0] == 412


def test_concurrent_writers_with_one_etag_only_one_wins(data_service: ServiceProcess) -> None:
    fact = new_user() + "/facts/location"
    call(data_service, "PUT", fact, {"value": "Porto"})
    etag = etag_of(data_service, fact)
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(
            pool.map(
                lambda n: call(data_service, "PUT", fact, {"value": f"City {n}"}, If_Match=etag)[0],
                range(8),
            )
        )
    assert sorted(statuses) == [200] + [412] * 7
    assert call(data_service, "GET", fact)[1]["version"] == 2


def test_user_admin_flag_with_if_match(data_service: ServiceProcess) -> None:
    user = new_user()
    call(data_service, "PUT", user)
    etag = etag_of(data_service, user)
    status, body = call(data_service, "PATCH", user, {"is_admin": True}, If_Match=etag)
    assert (status, body["is_admin"], body["version"]) == (200, True, 2)
    assert call(data_service, "PATCH", user, {"is_admin": False}, If_Match=etag)[0] == 412
    assert call(data_service, "PATCH", "/v1/users/T0TEST/NOBODY", {"is_admin": True})[0] == 404


@pytest.mark.parametrize(
    ("path_suffix", "body", "field"),
    [
        ("/facts/location", {"value": "Porto", "extra": 1}, "extra"),  # unknown field
        ("/facts/location", {"value": 42}, "value"),  # wrong type
        ("/facts/location", {"value": "x" * 501}, "value"),  # oversized
        ("/facts/location", {}, "value"),  # missing
        ("/facts/location", {"value": "   "}, "value"),  # blank
        ("/facts/location", ["Porto"], "body"),  # not an object
        ("/facts/Bad-Key!", {"value": "x"}, "key"),  # bad key
        ("/facts/timezone", {"value": "Mars/Olympus"}, "value"),  # not an IANA zone
        ("/facts/units", {"value": "kelvin"}, "value"),  # not a known unit system
        ("/connections/strava", {"token": "t", "scopes": "read"}, "scopes"),  # wrong type
        ("/connections/strava", {"token": "t", "secret": "s"}, "secret"),  # unknown field
        ("/connections/Strava!", {"token": "t"}, "provider"),
    ],
)
def test_bad_payloads_are_422_naming_the_field(
    data_service: ServiceProcess, path_suffix: str, body: Any, field: str
) -> None:
    status, answer = call(data_service, "PUT", new_user() + path_suffix, body)
    assert status == 422
    assert answer["error"]["code"] == "validation_failed"
    assert answer["error"]["field"] == field


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("PUT", "/v1/users/T0TEST/bad%20id", None, "slack_id"),
        ("PUT", "/v1/users/T0TEST/U1", {"is_admin": True}, "is_admin"),
        ("PATCH", "/v1/users/T0TEST/U1", {"is_admin": "yes"}, "is_admin"),
        ("GET", "/v1/users/T0TEST/U1/facts?limit=0", None, "limit"),
        ("GET", "/v1/users/T0TEST/U1/facts?cursor=not-a-cursor", None, "cursor"),
        ("GET", "/v1/stats/usage?from=yesterday", None, "from"),
        ("GET", "/v1/stats/usage?from=2026-01-01&to=2026-12-31", None, "from"),
        ("POST", "/v1/activity", {"team_id": "T", "slack_id": "U", "action": "x"}, "outcome"),
        (
            "POST",
            "/v1/activity",
            {"team_id": "T", "slack_id": "U", "action": "x", "outcome": "ok", "latency_ms": -1},
            "latency_ms",
        ),
        (
            "POST",
            "/v1/activity",
            {
                "team_id": "T",
                "slack_id": "U",
                "action": "x",
                "outcome": "ok",
                "latency_ms": 1,
                "text": "message text is never stored",
            },
            "text",
        ),
    ],
)
def test_bad_requests_elsewhere_are_422_naming_the_field(
    data_service: ServiceProcess, method: str, path: str, body: Any, field: str
) -> None:
    status, answer = call(data_service, method, path, body)
    assert status == 422
    assert answer["error"]["field"] == field


def test_malformed_json_is_422_body(data_service: ServiceProcess) -> None:
    request = urllib.request.Request(
        data_service.url + new_user() + "/facts/location",
        data=b"{not json",
        method="PUT",
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 422


def test_fact_pages_follow_an_opaque_cursor(data_service: ServiceProcess) -> None:
    user = new_user()
    keys = [f"k{i:02d}" for i in range(7)]
    for key in keys:
        call(data_service, "PUT", f"{user}/facts/{key}", {"value": key.upper()})
    seen: list[str] = []
    cursor = ""
    for _ in range(10):
        status, page = call(data_service, "GET", f"{user}/facts?limit=3&cursor={cursor}")
        assert status == 200
        seen += [item["key"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert seen == keys
    listing = f"{user}/facts?limit=3"
    assert (
        call(data_service, "GET", listing, If_None_Match=etag_of(data_service, listing))[0] == 304
    )
    assert call(data_service, "GET", "/v1/users/T0TEST/NOBODY/facts")[1]["items"] == []


async def test_tokens_are_encrypted_at_rest_and_never_returned(
    data_service: ServiceProcess, migrated_url: str
) -> None:
    user = new_user()
    token = "strava-access-token-1234567890"
    body = {
        "token": token,
        "scopes": ["read", "activity:read"],
        "expires_at": "2030-01-01T00:00:00Z",
    }
    status, answer = call(data_service, "PUT", user + "/connections/strava", body)
    assert status == 201
    assert "token" not in answer
    assert "token_ciphertext" not in answer
    for path in (user + "/connections", user + "/export"):
        _, listing = call(data_service, "GET", path)
        assert token not in repr(listing)
        assert "ciphertext" not in repr(listing)
    conn = await asyncpg.connect(migrated_url)
    try:
        stored = await conn.fetchval(
            "SELECT token_ciphertext FROM connections c JOIN users u ON u.id = c.user_id "
            "WHERE u.slack_id = $1",
            user.rsplit("/", 1)[1],
        )
    finally:
        await conn.close()
    assert token.encode() not in bytes(stored)
    assert token not in data_service.logs()


async def test_export_then_delete_leaves_nothing_in_any_table(
    data_service: ServiceProcess, migrated_url: str
) -> None:
    user = new_user()
    slack_id = user.rsplit("/", 1)[1]
    other = new_user()
    for who in (user, other):
        call(data_service, "PUT", who + "/facts/location", {"value": "São Paulo"})
        call(data_service, "PUT", who + "/connections/strava", {"token": "secret-token"})
        call(data_service, "PUT", who + "/subscriptions/weather", {"time": "07:30"})
        call(
            data_service,
            "POST",
            "/v1/activity",
            {
                "team_id": "T0TEST",
                "slack_id": who.rsplit("/", 1)[1],
                "action": "weather",
                "outcome": "ok",
                "latency_ms": 40,
            },
        )
    status, exported = call(data_service, "GET", user + "/export")
    assert status == 200
    assert exported["user"]["slack_id"] == slack_id
    assert [f["value"] for f in exported["facts"]] == ["São Paulo"]
    assert [c["provider"] for c in exported["connections"]] == ["strava"]
    assert [a["action"] for a in exported["activity"]] == ["weather"]
    assert [(a["action"], a["time"]) for a in exported["subscriptions"]] == [("weather", "07:30")]

    assert call(data_service, "DELETE", user)[0] == 204
    assert call(data_service, "GET", user)[0] == 404
    assert call(data_service, "GET", user + "/export")[0] == 404
    assert call(data_service, "DELETE", user)[0] == 404
    conn = await asyncpg.connect(migrated_url)
    try:
        tables = {
            r["tablename"]
            for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")
        } - {"alembic_version"}
        assert set(USER_TABLES) <= tables  # the audit log, installations, … hold no user rows
        uid = await conn.fetchval("SELECT id FROM users WHERE slack_id = $1", slack_id)
        assert uid is None
        for table in set(USER_TABLES) - {"users"}:
            orphans = await conn.fetchval(
                f"SELECT count(*) FROM {table} WHERE user_id NOT IN (SELECT id FROM users)"
            )
            assert orphans == 0, table
        texts = await conn.fetchval("SELECT count(*) FROM users u WHERE u.slack_id = $1", slack_id)
        assert texts == 0
        kept = await conn.fetchval(
            "SELECT count(*) FROM facts f JOIN users u ON u.id = f.user_id WHERE u.slack_id = $1",
            other.rsplit("/", 1)[1],
        )
        assert kept == 1
    finally:
        await conn.close()


async def test_activity_is_idempotent_and_feeds_usage_stats(
    data_service: ServiceProcess, migrated_url: str
) -> None:
    conn = await asyncpg.connect(migrated_url)
    try:
        await conn.execute("DELETE FROM activity")
    finally:
        await conn.close()
    calls = [
        ("UA", "weather", "ok", 100),
        ("UA", "weather", "error", 300),
        ("UB", "weather", "timeout", 10000),
        ("UB", "memory", "ok", 20),
        ("UC", "memory", "user_error", 5),
    ]
    for index, (who, action, outcome, latency) in enumerate(calls):
        body = {
            "team_id": "T0STATS",
            "slack_id": who,
            "action": action,
            "outcome": outcome,
            "latency_ms": latency,
            "event_id": f"stats-{index}",
        }
        assert call(data_service, "POST", "/v1/activity", body)[0] == 201
        assert call(data_service, "POST", "/v1/activity", body) == (200, {"recorded": False})
    status, stats = call(data_service, "GET", "/v1/stats/usage")
    assert status == 200
    assert stats["totals"] == {"calls": 5, "failed": 2, "error_rate": 0.4, "active_users": 3}
    rows = {r["action"]: r for r in stats["per_action_per_day"]}
    assert rows["weather"]["calls"] == 3
    assert rows["weather"]["failed"] == 2
    assert rows["weather"]["error_rate"] == pytest.approx(0.6667)
    assert rows["memory"]["user_errors"] == 1
    assert rows["memory"]["failed"] == 0
    assert stats["active_users_per_day"][0]["users"] == 3


def test_users_list_pages_with_cursor(data_service: ServiceProcess) -> None:
    seen: list[str] = []
    cursor = ""
    for _ in range(100):
        status, page = call(data_service, "GET", f"/v1/users?limit=2&cursor={cursor}")
        assert status == 200
        seen += [u["slack_id"] for u in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)) > 3
