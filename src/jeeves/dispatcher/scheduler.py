"""Firing schedules: the actions' `spec.schedule` and the users' daily alerts, from every
dispatcher replica, each tick exactly once.

Every replica runs the same loop (no leader to elect or lose): every `JEEVES_SCHEDULE_POLL_S`
it reads the ledger's state (one query), computes for each schedule the tick that is due
(`jeeves_actionspec.schedule.due`: one tick however many passed) and claims it with ONE
statement that moves the ledger forward only if no replica did yet and queues the run as a
`dispatch` job (`ticks.claim`). The run then goes through the durable queue like a message:
the dispatcher calls the action (typed by its commands), posts to the schedule's channel, and
audits it. A replica that is down misses nothing the others do; when all are down, the first
one back runs each missed schedule once, flagged as a catch-up.

Alerts: users subscribe through an action ("weather every day at 7:30"); their subscriptions
live in the data service and are re-read every `JEEVES_ALERTS_REFRESH_S`. Each is a daily
schedule at the user's time in the user's `timezone` fact (UTC when they have none), posting to
the subscription's channel (a DM by default) and calling the action as that user.

The same loop also expires confirmations and approvals nobody answered (`Guard.expire_overdue`),
each audited once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg
from prometheus_client import CollectorRegistry, Counter

from jeeves.dispatcher import ticks
from jeeves.kit.actions import ActionRegistry, ActionSpec
from jeeves.kit.data_client import DataClient, DataRejected, DataUnavailable
from jeeves.kit.jobs import DispatchJob
from jeeves.kit.logging import get_logger
from jeeves_actionspec.schedule import Due, Schedule, due

log = get_logger(__name__)
SCHEDULE_TEAM = "-"  # the team id a scheduled action run carries (it is nobody's request)
LEDGER_KEEP_DAYS = 7
PRUNE_EVERY_S = 3600.0


@dataclass(frozen=True)
class Plan:
    """One schedule to fire: its ledger key, expression, and how to word its run."""

    key: str
    schedule: Schedule
    action: str
    trigger: str  # schedule | alert
    user_id: str
    team_id: str
    text: str

    @property
    def spec(self) -> str:
        return f"{self.schedule.cron}|{self.schedule.timezone}"

    def job(self, found: Due, now: float) -> DispatchJob:
        tick = found.tick.astimezone(UTC)
        return {
            "event_id": f"schedule:{self.key}:{int(tick.timestamp())}",
            "kind": "schedule",
            "team_id": self.team_id,
            "user_id": self.user_id,
            "channel": self.schedule.channel,
            "ts": None,
            "thread_ts": None,
            "text": self.text,
            "received_at": now,
            "schedule": {
                "key": self.key,
                "action": self.action,
                "tick": tick.isoformat(),
                "missed": found.missed,
                "trigger": "alert" if self.trigger == "alert" else "schedule",
            },
        }


def action_plans(actions: Iterable[ActionSpec], bot_user_id: str) -> list[Plan]:
    """A plan per enabled action with a schedule."""
    plans = []
    for spec in actions:
        schedule = spec.declaration.schedule
        if schedule is None or not spec.enabled:
            continue
        plans.append(
            Plan(
                key=f"action:{spec.name}",
                schedule=schedule,
                action=spec.name,
                trigger="schedule",
                user_id=bot_user_id,
                team_id=SCHEDULE_TEAM,
                text=schedule.text or spec.label,
            )
        )
    return plans


def _zone(name: Any) -> str:
    if isinstance(name, str) and name:
        with contextlib.suppress(ZoneInfoNotFoundError, ValueError):
            ZoneInfo(name)
            return name
    return "UTC"


def alert_plans(
    subscriptions: Iterable[dict[str, Any]], actions: dict[str, ActionSpec]
) -> list[Plan]:
    """A daily plan per subscription to an enabled action, in the user's time zone."""
    plans = []
    for sub in subscriptions:
        spec = actions.get(str(sub.get("action")))
        at = str(sub.get("time") or "")
        if spec is None or not spec.enabled or len(at) != 5:
            continue
        hour, minute = int(at[:2]), int(at[3:])
        team, user = str(sub["team_id"]), str(sub["slack_id"])
        plans.append(
            Plan(
                key=f"alert:{spec.name}:{team}:{user}",
                schedule=Schedule(
                    cron=f"{minute} {hour} * * *",
                    timezone=_zone(sub.get("timezone")),
                    channel=str(sub.get("channel") or user),
                ),
                action=spec.name,
                trigger="alert",
                user_id=user,
                team_id=team,
                text=spec.label,
            )
        )
    return plans


class SchedulerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.runs = Counter(
            "jeeves_schedule_runs_total",
            "Scheduled runs this replica claimed, by kind (schedule, alert) and catch_up",
            ["kind", "catch_up"],
            registry=registry,
        )
        self.failures = Counter(
            "jeeves_schedule_loop_failures_total",
            "Scheduler rounds that failed (database or data service unreachable)",
            registry=registry,
        )


class Scheduler:
    """The loop; `round` is one pass (tests call it with their own `now`)."""

    def __init__(
        self,
        *,
        registry: ActionRegistry,
        pool: Callable[[], asyncpg.Pool],
        bot_user_id: str,
        metrics: SchedulerMetrics,
        poll_s: float,
        data: DataClient | None = None,
        alerts_refresh_s: float = 30.0,
        on_expired: Callable[[], Awaitable[int]] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._registry = registry
        self._pool = pool
        self._bot = bot_user_id
        self._metrics = metrics
        self._poll_s = poll_s
        self._data = data
        self._alerts_refresh_s = alerts_refresh_s
        self._on_expired = on_expired
        self._clock = clock
        self._subscriptions: list[dict[str, Any]] = []
        self._subscriptions_at = float("-inf")
        self._pruned_at = float("-inf")
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._loop(), name="jeeves-scheduler")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        failing = False
        while not self._stopping.is_set():
            try:
                await self.round(self._clock())
                if failing:
                    log.info("scheduler_recovered")
                failing = False
            except Exception as exc:
                self._metrics.failures.inc()
                if not failing:
                    log.warning(
                        "scheduler_round_failed", error_type=type(exc).__name__, exc_info=exc
                    )
                failing = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._poll_s)

    async def _refresh_subscriptions(self) -> None:
        if self._data is None:
            return
        started = time.monotonic()
        if started - self._subscriptions_at < self._alerts_refresh_s:
            return
        self._subscriptions_at = started  # a failure waits for the next refresh too
        try:
            self._subscriptions = await self._data.subscriptions()
        except (DataUnavailable, DataRejected) as exc:  # keep the last known ones
            log.warning("alerts_refresh_failed", error=str(exc)[:200])

    def plans(self) -> list[Plan]:
        actions = dict(self._registry.actions())
        return action_plans(actions.values(), self._bot) + alert_plans(self._subscriptions, actions)

    async def round(self, now: datetime) -> int:
        """One pass: claim every due tick; returns how many runs this replica queued."""
        await self._refresh_subscriptions()
        plans = self.plans()
        queued = 0
        pool = self._pool()
        known = await ticks.states(pool) if plans else {}
        for plan in plans:
            state = known.get(plan.key)
            if state is None or state.spec != plan.spec:
                await ticks.seed(pool, plan.key, plan.spec, plan.schedule.latest_tick(now))
                continue
            found = due(plan.schedule, state.last_tick, now)
            if found is None:
                continue
            job = plan.job(found, time.time())
            if await ticks.claim(
                pool, key=plan.key, spec=plan.spec, tick=found.tick, missed=found.missed, job=job
            ):
                queued += 1
                self._metrics.runs.labels(plan.trigger, str(found.catch_up).lower()).inc()
                log.info(
                    "schedule_fired",
                    key=plan.key,
                    tick=found.tick.isoformat(),
                    missed=found.missed,
                )
        if self._on_expired is not None:
            await self._on_expired()
        await self._prune(pool)
        return queued

    async def _prune(self, pool: asyncpg.Pool) -> None:
        started = time.monotonic()
        if started - self._pruned_at >= PRUNE_EVERY_S:
            self._pruned_at = started
            await ticks.prune(pool, LEDGER_KEEP_DAYS)
