"""Brute-force brake: free failures, exponential lockout, cap, reset, forgetting. Fake clock."""

from __future__ import annotations

import pytest

from jeeves.tokens.domain.throttle import FailureThrottle

pytestmark = pytest.mark.unit


def throttle(**kwargs: float) -> FailureThrottle:
    settings: dict[str, float] = {"free_failures": 3, "base_s": 1.0, "max_s": 8.0}
    settings.update(kwargs)
    return FailureThrottle(
        free_failures=int(settings["free_failures"]),
        base_s=settings["base_s"],
        max_s=settings["max_s"],
        forget_after_s=settings.get("forget_after_s", 100.0),
        capacity=int(settings.get("capacity", 100)),
    )


def test_free_failures_cost_nothing() -> None:
    brake = throttle()
    assert [brake.failure("c", now=0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert brake.retry_after("c", now=0.0) == 0.0


def test_lockout_doubles_and_is_capped() -> None:
    brake, now, lockouts = throttle(), 0.0, []
    for _ in range(3):
        brake.failure("c", now)
    for _ in range(6):
        lockouts.append(brake.failure("c", now))
        now += lockouts[-1]  # the attacker waits out each lockout exactly
    assert lockouts == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_locked_client_waits_and_others_do_not() -> None:
    brake = throttle(free_failures=0, base_s=4.0)
    brake.failure("c", now=10.0)
    assert brake.retry_after("c", now=10.0) == 4.0
    assert brake.retry_after("c", now=13.0) == pytest.approx(1.0)
    assert brake.retry_after("c", now=14.0) == 0.0
    assert brake.retry_after("other", now=10.0) == 0.0


def test_success_clears_the_record() -> None:
    brake = throttle(free_failures=1)
    brake.failure("c", now=0.0)
    brake.success("c")
    assert brake.failures("c", now=0.0) == 0
    assert brake.failure("c", now=0.0) == 0.0


def test_quiet_clients_are_forgotten() -> None:
    brake = throttle(free_failures=0, forget_after_s=50.0)
    brake.failure("c", now=0.0)
    assert brake.failures("c", now=49.0) == 1
    assert brake.failures("c", now=50.0) == 0


def test_memory_is_bounded() -> None:
    brake = throttle(capacity=2)
    for name in ("a", "b", "c"):
        brake.failure(name, now=0.0)
    assert [brake.failures(n, now=0.0) for n in ("a", "b", "c")] == [0, 1, 1]
