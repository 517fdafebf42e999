"""The rate governor: when may the next message to a channel be posted? (pure, clock given)

Slack allows about one message per second per channel with short bursts, and answers 429 with
`Retry-After` beyond that. The governor paces posts before Slack has to: one token bucket per
channel (`channel_rate` per second, `channel_burst` at once) and one for the whole process
(`global_rate`, `global_burst`), both as GCRA schedules that hand out *reservations* — the
caller learns how long to wait and the slot is its own, so concurrent posters never race.
The global cap paces admissions (when a post may start waiting for its channel), so a channel
that is backed up never holds the other channels' share of the global rate.
A 429 blocks only its channel until `Retry-After` has passed; other channels keep flowing.

Times are plain floats from the caller's clock (monotonic seconds), so tests use a fake clock.
Each poster process governs its own traffic; with several replicas Slack's 429s still pace them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Schedule:
    """A token bucket in GCRA form: `next_free` is when the bucket is full enough to send."""

    rate: float  # tokens per second
    burst: int  # tokens available at once
    theoretical: float = float("-inf")  # GCRA's theoretical arrival time
    blocked_until: float = float("-inf")  # set by 429 Retry-After

    @property
    def interval(self) -> float:
        return 1.0 / self.rate

    def earliest(self, at: float) -> float:
        """The first time >= `at` when a send would conform."""
        tolerance = (self.burst - 1) * self.interval
        return max(at, self.theoretical - tolerance, self.blocked_until)

    def take(self, at: float) -> None:
        """Record a send at `at` (which must be >= earliest(at))."""
        self.theoretical = max(self.theoretical, at) + self.interval

    def idle(self, now: float) -> bool:
        """True when this schedule is indistinguishable from a fresh one."""
        return self.theoretical <= now and self.blocked_until <= now


@dataclass
class Governor:
    """Per-channel and global pacing of posts, plus 429 back-off per channel."""

    channel_rate: float = 1.0
    channel_burst: int = 3
    global_rate: float = 100.0
    global_burst: int = 100
    channels: dict[str, Schedule] = field(default_factory=dict)
    overall: Schedule | None = None
    _reservations: int = 0

    def __post_init__(self) -> None:
        if min(self.channel_rate, self.global_rate) <= 0:
            raise ValueError("rates must be positive")
        if min(self.channel_burst, self.global_burst) < 1:
            raise ValueError("bursts must be at least 1")
        if self.overall is None:
            self.overall = Schedule(self.global_rate, self.global_burst)

    def _channel(self, channel: str) -> Schedule:
        schedule = self.channels.get(channel)
        if schedule is None:
            schedule = self.channels[channel] = Schedule(self.channel_rate, self.channel_burst)
        return schedule

    def _global(self) -> Schedule:
        assert self.overall is not None
        return self.overall

    def delay(self, channel: str, now: float) -> float:
        """Seconds until a post to `channel` may go, without reserving it."""
        admitted = self._global().earliest(now)
        return self._channel(channel).earliest(admitted) - now

    def reserve(self, channel: str, now: float) -> float:
        """Reserve the next slot for `channel`; returns the seconds to wait before posting."""
        admitted = self._global().earliest(now)
        self._global().take(admitted)
        schedule = self._channel(channel)
        when = schedule.earliest(admitted)
        schedule.take(when)
        self._reservations += 1
        if self._reservations % 1000 == 0:
            self.prune(now)
        return when - now

    def block(self, channel: str, until: float) -> None:
        """Slack said 429 for `channel`: nothing goes there before `until`."""
        schedule = self._channel(channel)
        schedule.blocked_until = max(schedule.blocked_until, until)

    def blocked_for(self, channel: str, now: float) -> float:
        """Seconds `channel` stays blocked by a 429 (0 when it is not)."""
        schedule = self.channels.get(channel)
        return max(0.0, schedule.blocked_until - now) if schedule else 0.0

    def prune(self, now: float) -> None:
        """Forget channels that have been quiet long enough to be fresh again."""
        for name in [n for n, s in self.channels.items() if s.idle(now)]:
            del self.channels[name]
