"""Fault injection rules of the emulated Web API, driven by a fake clock (no sleeping).

Pure logic; the clock is the only thing faked.
"""

from __future__ import annotations

import pytest

from jeeves.emulators.slack.domain.faults import FaultBook, FaultSpecError


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(name="clock")
def fixture_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(name="book")
def fixture_book(clock: FakeClock) -> FaultBook:
    return FaultBook(clock)


pytestmark = pytest.mark.unit


def test_rate_limit_for_the_next_k_calls(book: FaultBook) -> None:
    book.add({"kind": "rate_limit", "retry_after": 7, "count": 2})
    first = book.take("chat.postMessage", "C1")
    assert first is not None
    assert (first.status, first.error, dict(first.headers)) == (
        429,
        "ratelimited",
        {"Retry-After": "7"},
    )
    assert book.take("chat.postMessage", "C1") is not None
    assert book.take("chat.postMessage", "C1") is None
    assert book.to_json() == []


def test_rate_limit_for_t_seconds(book: FaultBook, clock: FakeClock) -> None:
    book.add({"kind": "rate_limit", "duration_s": 5})
    for _ in range(10):
        assert book.take("chat.postMessage", "C1") is not None
    clock.now += 5.01
    assert book.take("chat.postMessage", "C1") is None


def test_channel_and_method_scope(book: FaultBook) -> None:
    book.add({"kind": "slack_error", "error": "not_in_channel", "channel": "C2", "count": 5})
    book.add({"kind": "server_error", "status": 503, "methods": ["chat.update"], "count": 5})
    assert book.take("chat.postMessage", "C1") is None
    scoped = book.take("chat.postMessage", "C2")
    assert scoped is not None
    assert (scoped.status, scoped.error) == (200, "not_in_channel")
    method_scoped = book.take("chat.update", "C1")
    assert method_scoped is not None
    assert (method_scoped.status, method_scoped.error) == (503, "service_unavailable")
    assert book.take("auth.test", None) is None


def test_first_added_matching_fault_wins_and_counts_hits(book: FaultBook) -> None:
    book.add({"kind": "server_error", "count": 1})
    book.add({"kind": "rate_limit", "count": 1})
    first, second = book.take("chat.postMessage", "C1"), book.take("chat.postMessage", "C1")
    assert first is not None
    assert first.status == 500
    assert second is not None
    assert second.status == 429


def test_default_is_one_call_and_faults_can_be_removed(book: FaultBook) -> None:
    fault = book.add({"kind": "server_error"})
    assert fault.remaining == 1
    assert book.remove(fault.id)
    assert not book.remove(fault.id)
    assert book.take("chat.postMessage", "C1") is None
    book.add({"kind": "server_error", "duration_s": 60})
    book.clear()
    assert book.take("chat.postMessage", "C1") is None


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"kind": "boom"}, "kind"),
        ({"kind": "rate_limit", "count": 0}, "count"),
        ({"kind": "rate_limit", "count": 1.5}, "count"),
        ({"kind": "rate_limit", "duration_s": "5"}, "duration_s"),
        ({"kind": "rate_limit", "retry_after": -1}, "retry_after"),
        ({"kind": "server_error", "status": 404}, "status"),
        ({"kind": "slack_error"}, "error"),
        ({"kind": "slack_error", "error": "x", "channel": 5}, "channel"),
        ({"kind": "server_error", "methods": []}, "methods"),
    ],
)
def test_bad_specs_name_the_field(book: FaultBook, spec: dict[str, object], field: str) -> None:
    with pytest.raises(FaultSpecError, match=f"'{field}'"):
        book.add(spec)


def test_slow_faults_delay_answers_without_replacing_them(book: FaultBook) -> None:
    book.add({"kind": "slow", "delay_s": 0.5, "methods": ["chat.postMessage"], "count": 2})
    book.add({"kind": "server_error", "count": 1})
    assert book.take_delay("conversations.history", "C1") == 0.0
    error = book.take("chat.postMessage", "C1")  # errors are looked up apart from delays
    assert error is not None
    assert error.status == 500
    assert book.take("chat.postMessage", "C1") is None
    assert [book.take_delay("chat.postMessage", "C1") for _ in range(3)] == [0.5, 0.5, 0.0]


def test_slow_fault_specs(book: FaultBook) -> None:
    shown = book.add({"kind": "slow", "duration_s": 5}).to_json(1000.0)
    assert (shown["delay_s"], shown["error"]) == (1.0, None)
    with pytest.raises(FaultSpecError, match="delay_s"):
        book.add({"kind": "slow", "delay_s": 600})
