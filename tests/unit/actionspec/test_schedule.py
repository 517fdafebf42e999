"""Schedules: cron with seconds, time zones, the due tick, one catch-up after an outage, DST.

Pure functions of `jeeves_actionspec.schedule`; times are given, never read from a clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from jeeves_actionspec import SpecError
from jeeves_actionspec.schedule import Due, Schedule, due, parse_schedule

pytestmark = pytest.mark.unit

T0 = datetime(2024, 5, 6, 12, 0, 0, tzinfo=UTC)  # a Monday
LISBON = ZoneInfo("Europe/Lisbon")


def every_10s() -> Schedule:
    return Schedule("*/10 * * * * *", channel="C0OPS")


def test_six_fields_put_seconds_first() -> None:
    schedule = every_10s()
    assert schedule.next_tick(T0) == T0 + timedelta(seconds=10)
    assert schedule.latest_tick(T0 + timedelta(seconds=9, microseconds=900)) == T0
    assert schedule.latest_tick(T0) == T0  # a tick is due at its own instant


def test_nothing_is_due_before_the_next_tick() -> None:
    assert due(every_10s(), T0, T0 + timedelta(seconds=9.9)) is None


def test_the_tick_on_time_is_due_with_nothing_missed() -> None:
    assert due(every_10s(), T0, T0 + timedelta(seconds=10.2)) == Due(T0 + timedelta(seconds=10), 0)


def test_an_outage_gives_one_run_for_the_newest_tick() -> None:
    found = due(every_10s(), T0, T0 + timedelta(seconds=35))
    assert found == Due(T0 + timedelta(seconds=30), 2)
    assert found is not None
    assert found.catch_up


def test_a_long_outage_is_still_one_run() -> None:
    found = due(Schedule("* * * * * *", channel="C0OPS"), T0, T0 + timedelta(days=1))
    assert found is not None
    assert found.tick == T0 + timedelta(days=1)
    assert found.missed >= 999  # counted up to a bound, never run


def test_the_time_zone_decides_the_hour() -> None:
    weekday_730 = Schedule("30 7 * * 1-5", timezone="Europe/Lisbon", channel="C0OPS")
    tick = weekday_730.next_tick(T0)  # Monday noon UTC → Tuesday 7:30 in Lisbon (UTC+1)
    assert tick == datetime(2024, 5, 7, 6, 30, tzinfo=UTC)
    assert tick.astimezone(LISBON).hour == 7


def test_a_fixed_hour_runs_once_when_clocks_go_back() -> None:
    daily = Schedule("30 1 * * *", timezone="Europe/Lisbon", channel="C0OPS")
    start = datetime(2024, 10, 26, 12, 0, tzinfo=UTC)
    ticks = daily.ticks_after(start)
    first, second = next(ticks), next(ticks)
    assert first == datetime(2024, 10, 27, 0, 30, tzinfo=UTC)  # 01:30 summer time
    assert second == datetime(2024, 10, 28, 1, 30, tzinfo=UTC)  # not 01:30 again that night


def test_an_interval_runs_through_both_passes_of_the_repeated_hour() -> None:
    every_20m = Schedule("*/20 * * * *", timezone="Europe/Lisbon", channel="C0OPS")
    start = datetime(2024, 10, 26, 23, 50, tzinfo=UTC)
    ticks = every_20m.ticks_after(start)
    got = [next(ticks) for _ in range(7)]
    assert got == [
        datetime(2024, 10, 27, 0, 0, tzinfo=UTC) + timedelta(minutes=20 * i) for i in range(7)
    ]


def test_macros_are_accepted() -> None:
    hourly = parse_schedule("@hourly", None, "C0OPS")
    assert hourly is not None
    assert hourly.next_tick(T0) == T0 + timedelta(hours=1)


@pytest.mark.parametrize(
    ("values", "path", "message"),
    [
        (
            ("* * *", None, "C0OPS"),
            "cron",
            "has 3 fields: write 5 (minute hour day month weekday) or 6 with seconds first "
            "(`*/10 * * * * *`)",
        ),
        (("61 * * * *", None, "C0OPS"), "cron", "`61 * * * *` is not a valid cron expression"),
        (
            ("@reboot", None, "C0OPS"),
            "cron",
            "`@reboot` is not one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, "
            "@hourly",
        ),
        (
            ("* * * * *", "Mars/Olympus", "C0OPS"),
            "timezone",
            "`Mars/Olympus` is not a time zone: use an IANA name like Europe/Lisbon",
        ),
        (
            ("* * * * *", None, None),
            "channel",
            "a schedule needs the Slack channel id it posts to (like C0123ABCD)",
        ),
        ((None, None, "C0OPS"), "cron", "is missing, but channel/timezone/text are set"),
    ],
)
def test_bad_schedules_are_named(
    values: tuple[str | None, str | None, str | None], path: str, message: str
) -> None:
    with pytest.raises(SpecError) as caught:
        parse_schedule(*values)
    assert (caught.value.path, caught.value.message) == (path, message)


def test_no_cron_is_no_schedule() -> None:
    assert parse_schedule(None) is None
