"""Schedules with TWO dispatcher processes, in real time (the slow tier: ~4 minutes).

Real: every process of `support.guarded` with two `jeeves-dispatcher`s sharing one database:
a JeevesAction-like registry entry `tick` (the echo action, which answers each scheduled run
with its tick) scheduled every 10 s into one channel, and the weather action with a user's daily
alert. Posts are counted in the Slack emulator. Nothing is faked and no clock is bent: the
acceptance is about real replicas racing in real time.

- for one minute, each 10-second tick is posted exactly once (never twice, none missing);
- both dispatchers stopped for 30 s, then started again: the ticks they missed give ONE
  catch-up post, then the schedule goes on;
- a user's daily alert, subscribed for the coming minute, reaches their DM exactly once.
"""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jeeves.localstack.ports import wait_until
from jeeves.localstack.postgres import PostgresServer
from support.guarded import GuardedStack, start_guarded
from support.services import ServiceProcess, http_json

pytestmark = pytest.mark.e2e
TICKS = "C0TICKS"
ALERTED = "U0ALERTED"
TICK = re.compile(r"\[tick ([0-9T:+-]+)(, catch-up for (\d+) missed)?\]")


def actions(echo: dict[str, str], weather: str) -> dict[str, dict[str, Any]]:
    return {
        "tick": {
            "keywords": ["tick"],
            "url": echo["tick"],
            "schedule": {
                "cron": "*/10 * * * * *",
                "timezone": "UTC",
                "channel": TICKS,
                "text": "tick",
            },
        },
        "weather": {"keywords": ["weather"], "url": weather, "timeout_s": 8},
    }


@pytest.fixture(name="stack", scope="module")
def fixture_stack(postgres_server: PostgresServer) -> Iterator[GuardedStack]:
    suffix = uuid.uuid4().hex[:8]
    started: list[ServiceProcess] = []
    try:
        yield start_guarded(
            postgres_server.create_database(f"jeeves_slow_sched_{suffix}"),
            postgres_server.create_database(f"jeeves_slow_sched_data_{suffix}"),
            started,
            actions,
            echo_names=("tick",),
            dispatchers=2,
        )
    finally:
        for service in reversed(started):
            print(f"===== {service.command}\n{service.logs()[-3000:]}")  # shown on failure
            service.close()


def posted_ticks(stack: GuardedStack) -> list[tuple[datetime, int]]:
    """(tick, missed) of every scheduled post in the ticks channel, in posting order."""
    found = []
    for message in stack.slack.messages(TICKS):
        match = TICK.search(message["text"])
        assert match is not None, message["text"]
        found.append((datetime.fromisoformat(match[1]), int(match[3] or 0)))
    return found


def wait_for(check: Callable[[], list[Any]], timeout: float, what: str) -> list[Any]:
    """Poll `check` until it finds something; what it found."""
    wait_until(lambda: bool(check()), timeout=timeout, what=what)
    return check()


def subscribe_for_the_coming_minute(stack: GuardedStack) -> datetime:
    """ALERTED asks for the daily weather two minutes from now (UTC: no time zone fact)."""
    token = stack.dealer.token("cli", "data")
    headers = {"Authorization": f"Bearer {token}"}
    base = f"{stack.data.url}/v1/users/T0E2E/{ALERTED}"
    assert http_json("PUT", base + "/facts/location", {"value": "Lisbon"}, headers)[0] == 201
    at = (datetime.now(UTC) + timedelta(minutes=2)).replace(second=0, microsecond=0)
    body = {"time": at.strftime("%H:%M")}
    assert http_json("PUT", base + "/subscriptions/weather", body, headers)[0] == 201
    return at


def test_each_tick_runs_once_with_two_dispatchers_and_an_outage_gives_one_catch_up(
    stack: GuardedStack,
) -> None:
    alert_at = subscribe_for_the_coming_minute(stack)

    # one minute of ticks, both dispatchers racing for each
    first = wait_for(lambda: posted_ticks(stack), 30, "the first scheduled post")[0][0]
    window_end = first + timedelta(seconds=60)
    wait_until(
        lambda: any(t >= window_end for t, _ in posted_ticks(stack)),
        timeout=90,
        what="a minute of ticks",
    )
    time.sleep(2)  # a duplicate would be posted within the poll interval; give it the chance
    in_window = [t for t, _ in posted_ticks(stack) if first <= t <= window_end]
    expected = [first + timedelta(seconds=10 * n) for n in range(7)]
    assert sorted(in_window) == expected, Counter(in_window)  # each exactly once, none missing

    # the daily alert (due during or just after that minute) reaches the DM once
    dm = wait_for(lambda: stack.slack.messages(ALERTED), 150, "the daily alert")
    time.sleep(2)
    dm = stack.slack.messages(ALERTED)
    assert len(dm) == 1, [m["text"] for m in dm]
    assert dm[0]["text"].startswith("Your daily weather: Lisbon")
    record = next(r for r in stack.audit(target="weather") if r["detail"]["trigger"] == "alert")
    assert record["actor"] == ALERTED
    assert record["detail"]["tick"] == alert_at.isoformat()

    # both dispatchers down for 30 s, then back: one catch-up for everything missed
    for dispatcher in stack.dispatchers:
        dispatcher.stop()
    stopped_at = datetime.now(UTC)
    before = len(posted_ticks(stack))
    time.sleep(30)
    restarting_at = datetime.now(UTC)  # the outage ends: from here a dispatcher may run
    for dispatcher in stack.dispatchers:
        dispatcher.start()
    restarted_at = datetime.now(UTC)  # both ready (under load this can take over a tick)
    late = wait_for(
        lambda: [p for p in posted_ticks(stack)[before:] if p[1] > 0], 30, "the catch-up post"
    )
    (catch_up_tick, missed), *others = late
    assert others == []
    assert missed >= 2  # 30 s of a 10 s schedule: at least 3 ticks, run as one
    assert stopped_at < catch_up_tick < restarted_at
    wait_until(
        lambda: any(t > restarted_at for t, _ in posted_ticks(stack)[before:]),
        timeout=30,
        what="the schedule going on",
    )
    time.sleep(2)
    after = posted_ticks(stack)[before:]
    # ONE run for the outage, not one per missed tick: nothing else has a tick from the time no
    # dispatcher ran (the catch-up's own tick is there unless a tick passed while starting)
    during = [t for t, _ in after if stopped_at < t < restarting_at]
    assert during in ([catch_up_tick], []), (during, catch_up_tick, restarting_at)
    counts = Counter(t for t, _ in posted_ticks(stack))
    assert max(counts.values()) == 1  # and never a tick twice, across the whole test
    audited = stack.audit(target="tick")
    assert sum(1 for r in audited if r["detail"].get("missed", 0) > 0) == 1
