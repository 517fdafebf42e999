"""When an action runs by itself: cron + time zone, the due tick, and the single catch-up.

`spec.schedule` is a cron expression of 5 fields (minute hour day month weekday), or 6 with
seconds first (as Quartz and Spring write it: `*/10 * * * * *` is every 10 s), or a macro
(`@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`). It is read in `scheduleTimezone` (an
IANA name, default UTC), so `30 7 * * 1-5` is 7:30 on weekdays where the team is, through
daylight-saving changes. Each run posts to `scheduleChannel` and "says" `scheduleText` (parsed
like a user's message; default: the action's first keyword).

Ticks are instants. Whoever fires a schedule remembers the last tick it ran; `due` returns the
newest tick that has come since — ONE tick however many passed (an outage of an hour on a
minutely schedule gives one run on recovery, flagged with how many were missed) — or None.

Daylight saving: when clocks go forward the skipped wall-clock times run at the first instant
after the gap (croniter's rule); when they go back, a schedule at fixed hours runs once (the
first pass), while one with an hour wildcard or step (`*/20 * * * *`) runs in both passes, as
an interval should.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from jeeves_actionspec.errors import SpecError
from jeeves_actionspec.policy import CHANNEL_ID

MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
MAX_WALK = 1_000  # ticks walked to count missed ones; beyond it the count is "at least"
MAX_TEXT = 500


@dataclass(frozen=True)
class Schedule:
    cron: str
    timezone: str = "UTC"
    channel: str = ""
    text: str = ""

    @property
    def seconds_first(self) -> bool:
        return len(self.cron.split()) == 6

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def fixed_hours(self) -> bool:
        """True when the hour field names hours (not `*` or a step): such ticks run once on
        the day clocks go back."""
        hour = croniter(self.cron, second_at_beginning=self.seconds_first).expressions[1]
        return "*" not in hour and "/" not in hour

    def _cron(self, start: datetime) -> croniter:
        local = start.astimezone(self.zone)
        return croniter(self.cron, local, second_at_beginning=self.seconds_first)

    def ticks_after(self, start: datetime) -> Iterator[datetime]:
        """Every tick strictly after `start`, as aware UTC instants (see DST notes above)."""
        cron = self._cron(start)
        previous_wall: datetime | None = None
        while True:
            tick = cron.get_next(datetime)
            wall = tick.replace(tzinfo=None)
            if self.fixed_hours and previous_wall is not None and wall <= previous_wall:
                continue  # the repeated hour when clocks go back
            previous_wall = wall
            yield tick.astimezone(UTC)

    def next_tick(self, after: datetime) -> datetime:
        return next(self.ticks_after(after))

    def latest_tick(self, now: datetime) -> datetime:
        """The newest tick at or before `now`."""
        start = now.replace(microsecond=0) + timedelta(seconds=1)  # get_prev is exclusive
        tick: datetime = self._cron(start).get_prev(datetime)
        return tick.astimezone(UTC)


@dataclass(frozen=True)
class Due:
    """The tick to run now; `missed` ticks before it were skipped (0: it is on time)."""

    tick: datetime
    missed: int

    @property
    def catch_up(self) -> bool:
        return self.missed > 0


def due(schedule: Schedule, last: datetime, now: datetime) -> Due | None:
    """The one tick to run at `now` when the last one run was `last`, or None (not yet)."""
    count, newest = 0, None
    for tick in schedule.ticks_after(last):
        if tick > now:
            break
        count, newest = count + 1, tick
        if count >= MAX_WALK:
            newest = schedule.latest_tick(now)
            break
    if newest is None:
        return None
    return Due(newest, count - 1)


# --- reading a declaration ---------------------------------------------------------------------


def check_cron(cron: str, path: str = "schedule") -> str:
    """The expression, normalised to single spaces; SpecError when it is not one we run."""
    if not isinstance(cron, str) or not cron.strip():
        raise SpecError(path, "must be a cron expression like `30 7 * * 1-5`")
    cron = " ".join(cron.split())
    fields = len(cron.split())
    if cron.startswith("@"):
        if cron not in MACROS:
            raise SpecError(path, f"`{cron}` is not one of {', '.join(MACROS)}")
    elif fields not in (5, 6):
        raise SpecError(
            path,
            f"has {fields} fields: write 5 (minute hour day month weekday) or 6 with seconds "
            "first (`*/10 * * * * *`)",
        )
    if not croniter.is_valid(cron, second_at_beginning=fields == 6):
        raise SpecError(path, f"`{cron}` is not a valid cron expression")
    return cron


def check_timezone(name: str, path: str = "scheduleTimezone") -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SpecError(
            path, f"`{name}` is not a time zone: use an IANA name like Europe/Lisbon"
        ) from None
    return name


def parse_schedule(
    cron: str | None,
    timezone: str | None = None,
    channel: str | None = None,
    text: str | None = None,
    *,
    names: tuple[str, str, str, str] = ("cron", "timezone", "channel", "text"),
) -> Schedule | None:
    """A schedule from its four values (None when there is no cron); `names` are the field
    names used in error paths (the CRD's `schedule`, `scheduleTimezone`, …)."""
    if cron is None:
        if channel or timezone or text:
            raise SpecError(names[0], f"is missing, but {names[2]}/{names[1]}/{names[3]} are set")
        return None
    cron = check_cron(cron, names[0])
    zone = check_timezone(timezone or "UTC", names[1])
    if not isinstance(channel, str) or not CHANNEL_ID.match(channel):
        raise SpecError(
            names[2], "a schedule needs the Slack channel id it posts to (like C0123ABCD)"
        )
    if text is not None and (not isinstance(text, str) or len(text) > MAX_TEXT):
        raise SpecError(names[3], f"must be text of at most {MAX_TEXT} characters")
    return Schedule(cron=cron, timezone=zone, channel=channel, text=(text or "").strip())
