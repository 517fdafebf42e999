"""Percentage buckets: stable per user, independent per subject, proportional to the percent.

Pure functions; nothing is faked.
"""

from __future__ import annotations

import pytest

from jeeves.kit.bucketing import bucket, in_rollout

pytestmark = pytest.mark.unit
USERS = [f"U{n:06d}" for n in range(4000)]


def test_a_user_always_gets_the_same_bucket() -> None:
    assert bucket("weather", "U1") == bucket("weather", "U1")
    assert 0 <= bucket("weather", "U1") < 10_000


def test_subjects_split_users_independently() -> None:
    a = [in_rollout("weather", u, 50) for u in USERS]
    b = [in_rollout("memory", u, 50) for u in USERS]
    agreement = sum(x == y for x, y in zip(a, b, strict=True)) / len(USERS)
    assert 0.4 < agreement < 0.6


@pytest.mark.parametrize("percent", [1, 10, 25, 50, 90])
def test_share_in_rollout_follows_the_percent(percent: float) -> None:
    share = sum(in_rollout("weather", u, percent) for u in USERS) / len(USERS) * 100
    assert abs(share - percent) < 3


def test_growing_the_percent_never_removes_a_user() -> None:
    at_10 = {u for u in USERS if in_rollout("flag", u, 10)}
    at_30 = {u for u in USERS if in_rollout("flag", u, 30)}
    assert at_10 <= at_30


def test_edges_are_all_or_nothing() -> None:
    assert not any(in_rollout("x", u, 0) for u in USERS[:100])
    assert all(in_rollout("x", u, 100) for u in USERS[:100])
