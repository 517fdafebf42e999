"""The audit log as action runs use it (idempotent keys, filters, a cursor, secrets masked,
retention) and per-user alert subscriptions, against the real `jeeves-data` on PostgreSQL.

Real: the `jeeves-data` process and PostgreSQL (aged records are written with asyncpg, then the
service's own purge removes them). Nothing is faked.
"""

from __future__ import annotations

import itertools
from typing import Any

import asyncpg
import pytest
from data_service_support import ENCRYPTION_KEY

from jeeves.data.retention import purge_once
from support.services import ServiceProcess, http_json

pytestmark = pytest.mark.integration
_ids = itertools.count(1)


def call(service: ServiceProcess, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    return http_json(method, service.url + path, body)


def run_record(n: int, outcome: str, **detail: Any) -> dict[str, Any]:
    return {
        "key": f"run:E{n}:{outcome}",
        "actor": "U0ALICE",
        "kind": "action.run",
        "target": "deploy",
        "detail": {"outcome": outcome, "channel": "C0DEPLOYS", **detail},
    }


def test_a_record_sent_twice_is_stored_once(data_service: ServiceProcess) -> None:
    first = call(data_service, "POST", "/v1/audit", run_record(1, "ok"))
    again = call(data_service, "POST", "/v1/audit", run_record(1, "ok"))
    assert (first[0], again[0]) == (201, 200)
    assert again[1]["id"] == first[1]["id"]
    assert first[1]["key"] == "run:E1:ok"


def test_secret_looking_params_are_masked_whatever_the_writer_sent(
    data_service: ServiceProcess,
) -> None:
    record = run_record(2, "ok", command="login", params={"user": "ann", "api_key": "k-123"})
    status, stored = call(data_service, "POST", "/v1/audit", record)
    assert status == 201
    assert stored["detail"]["params"] == {"user": "ann", "api_key": "••••"}
    assert "k-123" not in data_service.logs()


def test_filters_combine_and_the_cursor_walks_newest_first(data_service: ServiceProcess) -> None:
    base = 100
    for n, outcome in enumerate(["ok", "denied", "ok", "error", "ok"], start=base):
        assert call(data_service, "POST", "/v1/audit", run_record(n, outcome))[0] == 201
    status, page = call(data_service, "GET", "/v1/audit?kind=action.run&outcome=ok&limit=2")
    assert status == 200
    keys = [item["key"] for item in page["items"]]
    assert keys == [f"run:E{base + 4}:ok", f"run:E{base + 2}:ok"]
    status, rest = call(
        data_service,
        "GET",
        f"/v1/audit?kind=action.run&outcome=ok&limit=2&cursor={page['next_cursor']}",
    )
    assert status == 200
    assert rest["items"][0]["key"] == f"run:E{base}:ok"
    denied = call(data_service, "GET", "/v1/audit?outcome=denied&channel=C0DEPLOYS")[1]["items"]
    assert [item["key"] for item in denied] == [f"run:E{base + 1}:denied"]
    future = call(data_service, "GET", "/v1/audit?since=2999-01-01T00:00:00Z")[1]["items"]
    assert future == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("since=yesterday", "since"),
        ("outcome=OK!", "outcome"),
        ("channel=%23general", "channel"),
        ("since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z", "until"),
    ],
)
def test_bad_filters_are_422_naming_the_field(
    data_service: ServiceProcess, query: str, field: str
) -> None:
    status, body = call(data_service, "GET", f"/v1/audit?{query}")
    assert status == 422
    assert body["error"]["field"] == field


async def test_retention_purges_only_what_is_older(
    data_service: ServiceProcess, migrated_url: str
) -> None:
    assert call(data_service, "POST", "/v1/audit", run_record(900, "ok"))[0] == 201
    conn = await asyncpg.connect(migrated_url)
    try:
        await conn.execute(
            "INSERT INTO audit_log (actor, kind, target, key, at) VALUES "
            "('U0OLD', 'action.run', 'deploy', 'run:OLD:ok', now() - interval '40 days')"
        )
        from prometheus_client import CollectorRegistry, Counter
        from sqlalchemy.ext.asyncio import create_async_engine

        from jeeves.data.crypto import TokenCipher
        from jeeves.data.migrating import sqlalchemy_url
        from jeeves.data.store import Store

        engine = create_async_engine(sqlalchemy_url(migrated_url))
        pool = await asyncpg.create_pool(migrated_url, min_size=1, max_size=1)
        try:
            store = Store(engine, lambda: pool, TokenCipher(ENCRYPTION_KEY))
            counter = Counter("purged", "test", registry=CollectorRegistry())
            assert await purge_once(store, 30, counter) == 1
            assert await purge_once(store, 30, counter) == 0
        finally:
            await pool.close()
            await engine.dispose()
        keys = {r["key"] for r in await conn.fetch("SELECT key FROM audit_log")}
        assert "run:OLD:ok" not in keys
        assert "run:E900:ok" in keys
    finally:
        await conn.close()


def test_subscribe_move_list_and_unsubscribe(data_service: ServiceProcess) -> None:
    user = f"U0SUB{next(_ids):04d}"
    path = f"/v1/users/T0TEST/{user}"
    assert call(data_service, "PUT", path + "/facts/timezone", {"value": "Europe/Lisbon"})[0] == 201
    created = call(data_service, "PUT", path + "/subscriptions/weather", {"time": "07:30"})
    assert created[0] == 201
    assert created[1]["channel"] == user  # a DM with the user by default
    moved = call(data_service, "PUT", path + "/subscriptions/weather", {"time": "08:15"})
    assert moved[0] == 200
    assert moved[1]["time"] == "08:15"
    everyone = call(data_service, "GET", "/v1/subscriptions?action=weather")[1]["items"]
    mine = [s for s in everyone if s["slack_id"] == user]
    assert mine == [
        {
            "action": "weather",
            "time": "08:15",
            "channel": user,
            "team_id": "T0TEST",
            "slack_id": user,
            "timezone": "Europe/Lisbon",
            "updated_at": mine[0]["updated_at"],
        }
    ]
    assert call(data_service, "DELETE", path + "/subscriptions/weather")[0] == 204
    assert call(data_service, "DELETE", path + "/subscriptions/weather")[0] == 404
    assert call(data_service, "GET", path + "/subscriptions")[1]["items"] == []


@pytest.mark.parametrize(
    ("body", "field"), [({"time": "7:30"}, "time"), ({"time": "25:00"}, "time"), ({}, "time")]
)
def test_a_bad_subscription_is_422(
    data_service: ServiceProcess, body: dict[str, Any], field: str
) -> None:
    status, answer = call(data_service, "PUT", "/v1/users/T0TEST/U0BAD/subscriptions/weather", body)
    assert status == 422
    assert answer["error"]["field"] == field
