"""Tests of the pure part of `leadership`: which peers outrank this replica, and how long a
replica waits at start-up for every live peer to announce itself. No I/O; the clock is passed in.
"""

from __future__ import annotations

import datetime

import pytest

from jeeves_operator.leadership import heartbeat_period, outranked

pytestmark = pytest.mark.unit

NOW = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)


def _peer(priority: int, seconds_ago: float, lifetime: int = 15) -> dict[str, object]:
    lastseen = NOW - datetime.timedelta(seconds=seconds_ago)
    return {"priority": priority, "lifetime": lifetime, "lastseen": lastseen.isoformat()}


def test_alone_is_never_outranked() -> None:
    assert outranked({"me": _peer(5, 0)}, "me", 5, NOW) is None


def test_live_higher_or_equal_peer_outranks() -> None:
    assert outranked({"me": _peer(5, 0), "b": _peer(9, 1)}, "me", 5, NOW) == "b"
    assert outranked({"me": _peer(5, 0), "c": _peer(5, 1)}, "me", 5, NOW) == "c"


def test_lower_or_dead_peers_do_not() -> None:
    peers = {"low": _peer(1, 0), "dead": _peer(99, 20, lifetime=15), "junk": "x"}
    assert outranked(peers, "me", 5, NOW) is None


@pytest.mark.parametrize(("lifetime", "period"), [(3, 1), (15, 10), (60, 55)])
def test_heartbeat_period_matches_kopf_keepalive(lifetime: int, period: int) -> None:
    assert heartbeat_period(lifetime) == period
