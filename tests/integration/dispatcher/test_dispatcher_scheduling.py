"""The schedule ledger, held runs and daily alerts against real PostgreSQL (and a real data
service), with two schedulers standing for two dispatcher replicas.

Real: PostgreSQL migrated by `jeeves-dispatcher migrate` (queue, ledger, pending runs), two
`Scheduler`s each with its own connection pool racing on the same rows, `jeeves-data` holding
the subscriptions and time zones. The clock is the test's: each round is given its `now`, so an
hour of ticks or a day of alerts takes milliseconds and nothing depends on the machine's speed.
Nothing is faked.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from prometheus_client import CollectorRegistry

from integration.data.data_service_support import start_data_service
from jeeves.dispatcher import pending
from jeeves.dispatcher.domain.calls import Call
from jeeves.dispatcher.domain.guarding import State
from jeeves.dispatcher.pending import PendingRun
from jeeves.dispatcher.scheduler import Scheduler, SchedulerMetrics
from jeeves.kit.actions import ActionSpec, StaticRegistry
from jeeves.kit.data_client import DataClient
from jeeves.kit.http import HttpClient
from jeeves.localstack.postgres import PostgresServer
from support.services import ServiceProcess, http_json, migrate

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(name="migrated_url", scope="module")
def fixture_migrated_url(database_url: str) -> str:
    migrate("jeeves-dispatcher", database_url)
    return database_url


@pytest.fixture(name="pools")
async def fixture_pools(migrated_url: str) -> AsyncIterator[tuple[asyncpg.Pool, asyncpg.Pool]]:
    first = await asyncpg.create_pool(migrated_url, min_size=1, max_size=2)
    second = await asyncpg.create_pool(migrated_url, min_size=1, max_size=2)
    async with first.acquire() as conn:
        await conn.execute("TRUNCATE schedule_state, schedule_runs, pending_runs")
        await conn.execute("DELETE FROM pgqueuer WHERE entrypoint = 'dispatch'")
    yield first, second
    await first.close()
    await second.close()


def report(cron: str = "*/10 * * * * *") -> ActionSpec:
    return ActionSpec.from_json(
        "report",
        {
            "keywords": ["report"],
            "url": "http://report:8080",
            "schedule": {"cron": cron, "timezone": "UTC", "channel": "C0OPS", "text": "report"},
        },
    )


def scheduler(
    pool: asyncpg.Pool, specs: list[ActionSpec], data: DataClient | None = None
) -> Scheduler:
    """A replica; it reads the subscriptions once (a new one reads them again)."""
    return Scheduler(
        registry=StaticRegistry(specs),
        pool=lambda: pool,
        bot_user_id="UBOT",
        metrics=SchedulerMetrics(CollectorRegistry()),
        poll_s=1.0,
        data=data,
        alerts_refresh_s=3600,
    )


async def queued_runs(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT payload FROM pgqueuer WHERE entrypoint = 'dispatch' ORDER BY id"
    )
    return [json.loads(row["payload"]) for row in rows]


async def race(replicas: list[Scheduler], now: datetime) -> int:
    """Both replicas run their round at the same instant; how many runs they queued."""
    return sum(await asyncio.gather(*(r.round(now) for r in replicas)))


async def test_two_replicas_run_each_tick_exactly_once(
    pools: tuple[asyncpg.Pool, asyncpg.Pool],
) -> None:
    replicas = [scheduler(pool, [report()]) for pool in pools]
    await race(replicas, T0 - timedelta(seconds=0.5))  # first sight: seeded, nothing run
    assert await queued_runs(pools[0]) == []
    for step in range(1, 121):  # a minute, every half second, both replicas each time
        await race(replicas, T0 + timedelta(seconds=step / 2))
    runs = await queued_runs(pools[0])
    ticks = [run["schedule"]["tick"] for run in runs]
    expected = [(T0 + timedelta(seconds=10 * n)).isoformat() for n in range(7)]
    assert ticks == expected  # 12:00:00 … 12:01:00: each once, in order
    assert {run["schedule"]["missed"] for run in runs} == {0}
    assert {run["channel"] for run in runs} == {"C0OPS"}


async def test_an_outage_gives_one_catch_up_run(pools: tuple[asyncpg.Pool, asyncpg.Pool]) -> None:
    replicas = [scheduler(pool, [report()]) for pool in pools]
    await race(replicas, T0 + timedelta(seconds=0.5))  # seeded at 12:00:00
    assert await race(replicas, T0 + timedelta(seconds=10.2)) == 1  # 12:00:10 on time
    # both replicas down from 12:00:11 to 12:00:45: the ticks at :20, :30 and :40 pass
    assert await race(replicas, T0 + timedelta(seconds=45)) == 1
    assert await race(replicas, T0 + timedelta(seconds=46)) == 0
    runs = await queued_runs(pools[0])
    assert [(r["schedule"]["tick"][-8:-6], r["schedule"]["missed"]) for r in runs] == [
        ("10", 0),
        ("40", 2),
    ]
    assert await race(replicas, T0 + timedelta(seconds=50.1)) == 1  # back on schedule


async def test_a_changed_schedule_starts_afresh(pools: tuple[asyncpg.Pool, asyncpg.Pool]) -> None:
    old = scheduler(pools[0], [report("*/10 * * * * *")])
    await old.round(T0 + timedelta(seconds=1))
    new = scheduler(pools[0], [report("0 * * * *")])  # now hourly
    assert await new.round(T0 + timedelta(seconds=30)) == 0  # re-seeded, no catch-up
    assert await new.round(T0 + timedelta(hours=1, seconds=1)) == 1


def held(run_id: str, state: State = State.CONFIRM) -> PendingRun:
    return PendingRun(
        id=run_id,
        event_id=f"Ev-{run_id}",
        action="report",
        call=Call("report", "report", "now", "report now", "report", {"when": "now"}),
        requester="U0ANN",
        team_id="T0",
        channel="C0OPS",
        thread_ts="1.0",
        trigger="message",
        state=state,
        needs_approval=False,
        confirm_by=T0 + timedelta(minutes=2),
    )


async def test_of_two_clicks_at_once_exactly_one_wins(
    pools: tuple[asyncpg.Pool, asyncpg.Pool],
) -> None:
    made = await pending.create(pools[0], held("run-a"))
    retried = replace(held("run-a"), id="run-other-id")  # a retried job: same event, new id
    again = await pending.create(pools[1], retried)
    assert again.id == made.id == "run-a"
    results = await asyncio.gather(
        pending.advance(
            pools[0], "run-a", from_state=State.CONFIRM, to_state=State.RUNNING, event_id="click-1"
        ),
        pending.advance(
            pools[1],
            "run-a",
            from_state=State.CONFIRM,
            to_state=State.CANCELLED,
            event_id="click-2",
        ),
    )
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    winner = winners[0]
    assert winner.call is not None  # the call comes back even when the change clears it
    repeat = await pending.advance(
        pools[1],
        "run-a",
        from_state=State.CONFIRM,
        to_state=winner.state,
        event_id=winner.decided_event or "",
    )
    assert repeat is not None  # the winning click's job, run again, carries on
    stored = await pending.load(pools[0], "run-a")
    assert stored is not None
    assert (stored.call is None) == (winner.state is State.CANCELLED)


async def test_a_held_run_past_its_deadline_expires_once(
    pools: tuple[asyncpg.Pool, asyncpg.Pool],
) -> None:
    await pending.create(pools[0], held("run-late"))
    late = T0 + timedelta(minutes=3)
    first, second = await asyncio.gather(
        pending.expire_overdue(pools[0], late), pending.expire_overdue(pools[1], late)
    )
    expired = [run.id for run in first + second]
    assert expired == ["run-late"]
    assert (first + second)[0].call is not None  # for its audit record
    stored = await pending.load(pools[0], "run-late")
    assert stored is not None
    assert (stored.state, stored.call) == (State.EXPIRED, None)


@pytest.fixture(name="data_service", scope="module")
def fixture_data_service(postgres_server: PostgresServer) -> Iterator[ServiceProcess]:
    service = start_data_service(postgres_server.create_database("jeeves_sched_data"))
    yield service
    service.close()


@pytest.fixture(name="data_client")
async def fixture_data_client(data_service: ServiceProcess) -> AsyncIterator[DataClient]:
    http = HttpClient()
    yield DataClient(http, data_service.url)
    await http.close()


async def test_a_daily_alert_fires_once_a_day_at_the_users_time(
    pools: tuple[asyncpg.Pool, asyncpg.Pool],
    data_service: ServiceProcess,
    data_client: DataClient,
) -> None:
    user = "/v1/users/T0/U0ANN"
    assert (
        http_json("PUT", data_service.url + user + "/facts/timezone", {"value": "Europe/Lisbon"})[0]
        == 201
    )
    assert await data_client.subscribe("T0", "U0ANN", "weather", "07:30")
    weather = ActionSpec.from_json("weather", {"keywords": ["weather"], "url": "http://w:1"})
    replicas = [scheduler(pool, [weather], data_client) for pool in pools]
    summer = datetime(2026, 7, 1, 5, 0, tzinfo=UTC)  # 6:00 in Lisbon (UTC+1)
    await race(replicas, summer)  # seeded
    fired = 0
    for minute in range(0, 24 * 60 + 1, 15):  # a day, both replicas every 15 minutes
        fired += await race(replicas, summer + timedelta(minutes=minute))
    runs = await queued_runs(pools[0])
    assert fired == len(runs) == 1
    (run,) = runs
    assert run["schedule"]["tick"] == "2026-07-01T06:30:00+00:00"  # 7:30 in Lisbon
    assert (run["user_id"], run["channel"], run["schedule"]["trigger"]) == (
        "U0ANN",
        "U0ANN",
        "alert",
    )
    assert await data_client.unsubscribe("T0", "U0ANN", "weather")
    replicas = [scheduler(pool, [weather], data_client) for pool in pools]  # read them again
    assert await race(replicas, summer + timedelta(days=2)) == 0  # opted out: nothing more
