"""The rate governor under a fake clock: per-channel pacing, bursts, the global cap, 429 blocks.

Pure: time is a number the test advances; nothing sleeps and nothing is faked beyond the clock.
"""

from __future__ import annotations

import pytest

from jeeves.poster.domain.governor import Governor

pytestmark = pytest.mark.unit


def test_a_burst_goes_at_once_then_one_per_second() -> None:
    governor = Governor(channel_rate=1.0, channel_burst=3)
    waits = [governor.reserve("C1", 100.0) for _ in range(6)]
    assert waits == pytest.approx([0, 0, 0, 1, 2, 3])


def test_the_bucket_refills_while_the_channel_is_quiet() -> None:
    governor = Governor(channel_rate=1.0, channel_burst=3)
    for _ in range(3):
        governor.reserve("C1", 0.0)
    assert governor.reserve("C1", 10.0) == 0
    assert governor.reserve("C1", 10.0) == 0
    assert governor.reserve("C1", 10.0) == 0
    assert governor.reserve("C1", 10.0) == pytest.approx(1.0)


def test_channels_do_not_share_a_bucket() -> None:
    governor = Governor(channel_rate=1.0, channel_burst=1)
    assert governor.reserve("C1", 0.0) == 0
    assert governor.reserve("C1", 0.0) == pytest.approx(1.0)
    assert governor.reserve("C2", 0.0) == 0


def test_the_global_cap_spreads_many_channels() -> None:
    governor = Governor(channel_rate=1.0, channel_burst=1, global_rate=10.0, global_burst=2)
    waits = [governor.reserve(f"C{n}", 0.0) for n in range(6)]
    assert waits == pytest.approx([0, 0, 0.1, 0.2, 0.3, 0.4])


def test_delay_peeks_without_reserving() -> None:
    governor = Governor(channel_rate=1.0, channel_burst=1)
    governor.reserve("C1", 0.0)
    assert governor.delay("C1", 0.0) == pytest.approx(1.0)
    assert governor.delay("C1", 0.0) == pytest.approx(1.0)
    assert governor.reserve("C1", 0.5) == pytest.approx(0.5)


def test_retry_after_blocks_only_its_channel() -> None:
    governor = Governor(channel_rate=1.0, channel_burst=3)
    governor.block("C1", until=12.0)
    assert governor.blocked_for("C1", 10.0) == pytest.approx(2.0)
    assert governor.reserve("C1", 10.0) == pytest.approx(2.0)
    assert governor.reserve("C2", 10.0) == 0
    assert governor.blocked_for("C2", 10.0) == 0
    assert governor.blocked_for("C1", 12.5) == 0


def test_a_shorter_block_never_shortens_a_longer_one() -> None:
    governor = Governor()
    governor.block("C1", until=30.0)
    governor.block("C1", until=20.0)
    assert governor.blocked_for("C1", 0.0) == pytest.approx(30.0)


def test_quiet_channels_are_forgotten() -> None:
    governor = Governor(channel_rate=1.0, channel_burst=1)
    governor.reserve("C1", 0.0)
    governor.reserve("C2", 0.0)
    governor.block("C3", until=50.0)
    governor.prune(10.0)
    assert set(governor.channels) == {"C3"}


@pytest.mark.parametrize(
    "kwargs",
    [{"channel_rate": 0}, {"global_rate": -1}, {"channel_burst": 0}, {"global_burst": 0}],
)
def test_nonsense_rates_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        Governor(**kwargs)  # type: ignore[arg-type]
