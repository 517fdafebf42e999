"""Backoff arithmetic of the outbound client (pure)."""

from __future__ import annotations

import pytest

from jeeves.kit.etcd import parse_endpoints
from jeeves.kit.http import RetryPolicy

pytestmark = pytest.mark.unit


def test_backoff_is_bounded_and_grows() -> None:
    policy = RetryPolicy(attempts=5, base_delay_s=0.1, max_delay_s=1.0)
    for attempt in range(1, 8):
        ceiling = min(1.0, 0.1 * 2 ** (attempt - 1))
        assert all(0 <= policy.delay(attempt) <= ceiling for _ in range(50))


def test_parse_endpoints() -> None:
    assert parse_endpoints("http://a:1, b:2") == [("a", 1), ("b", 2)]
    with pytest.raises(ValueError, match="host:port"):
        parse_endpoints("a")
    with pytest.raises(ValueError, match="no etcd endpoint"):
        parse_endpoints(" , ")
