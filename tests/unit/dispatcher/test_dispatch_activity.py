"""Usage statistics from the dispatcher: which calls become activity records, and the recorder
that sends them in the background without ever holding up a dispatch.

Real: `jeeves.dispatcher.domain.activity` (pure) and `ActivityRecorder` with its asyncio
workers and Prometheus counter. Faked: the data service, replaced by small in-test clients
with the shape of `DataClient.record_activity` (answering, refusing, failing or hanging).
"""

from __future__ import annotations

import asyncio
import time

import pytest
from prometheus_client import CollectorRegistry

from jeeves.dispatcher.activity import ActivityRecorder, activity_counter
from jeeves.dispatcher.domain.activity import (
    MAX_EVENT_ID,
    ActivityRecord,
    activity_event_id,
    activity_outcome,
    activity_record,
)
from jeeves.dispatcher.domain.protocol import Outcome
from jeeves.kit.data_client import DataRejected, DataUnavailable
from jeeves.kit.jobs import DispatchJob

pytestmark = pytest.mark.unit


def job(event_id: str = "Ev1") -> DispatchJob:
    return {
        "event_id": event_id,
        "kind": "message",
        "team_id": "T1",
        "user_id": "U42",
        "channel": "C1",
        "ts": "1.0",
        "thread_ts": None,
        "text": "<@U0JEEVES> echo a secret message",
        "received_at": time.time(),
    }


@pytest.mark.parametrize(
    ("outcome", "status", "last", "expected"),
    [
        (Outcome.REPLIED, 200, False, "ok"),
        (Outcome.DEFERRED, 202, False, "ok"),
        (Outcome.REJECTED, 422, False, "user_error"),
        (Outcome.REJECTED, 404, False, "user_error"),
        (Outcome.REJECTED, 401, False, "error"),
        (Outcome.REJECTED, 403, False, "error"),
        (Outcome.INVALID, 200, False, "error"),
        (Outcome.FAILED, 500, False, None),
        (Outcome.FAILED, 500, True, "error"),
        (Outcome.UNREACHABLE, None, True, "error"),
        (Outcome.TIMEOUT, None, False, None),
        (Outcome.TIMEOUT, None, True, "timeout"),
        (Outcome.BUILTIN, None, True, None),
        (Outcome.UNKNOWN, None, True, None),
        (Outcome.DISABLED, None, True, None),
    ],
)
def test_activity_outcome(
    outcome: Outcome, status: int | None, last: bool, expected: str | None
) -> None:
    assert activity_outcome(outcome, status, last_attempt=last) == expected


def test_a_record_names_the_call_and_never_carries_the_text() -> None:
    record = activity_record(job(), "echo", Outcome.REPLIED, 200, 12.5, last_attempt=True)
    assert record is not None
    assert record == ActivityRecord("T1", "U42", "echo", "ok", 12.5, "Ev1:echo", record.channel)
    assert record.channel is not None  # usage per channel
    assert "secret" not in repr(record)
    assert activity_record(job(), "help", Outcome.BUILTIN, None, 0, last_attempt=True) is None


def test_long_call_ids_become_a_stable_digest_within_the_data_service_limit() -> None:
    long_event = "cmd-" + "x" * 200
    first = activity_event_id(long_event, "echo")
    assert first == activity_event_id(long_event, "echo")
    assert first != activity_event_id(long_event, "weather")
    assert first.startswith("sha256:")
    assert len(first) <= MAX_EVENT_ID
    assert activity_event_id("Ev1", "echo") == "Ev1:echo"


class Client:
    """Answers like the data service: True the first time a call id is seen, then False."""

    def __init__(self) -> None:
        self.seen: list[str | None] = []

    async def record_activity(
        self,
        team_id: str,
        slack_id: str,
        action: str,
        outcome: str,
        latency_ms: float,
        event_id: str | None = None,
        channel: str | None = None,
    ) -> bool:
        fresh = event_id not in self.seen
        self.seen.append(event_id)
        return fresh


class Failing(Client):
    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    async def record_activity(self, *args: object, **kwargs: object) -> bool:  # type: ignore[override]
        raise self.error


class Hanging(Client):
    """Never answers until released (a data service that accepts and stalls)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.waiting = 0

    async def record_activity(self, *args: object, **kwargs: object) -> bool:  # type: ignore[override]
        self.waiting += 1
        await self.release.wait()
        return True


def record(n: int) -> ActivityRecord:
    return ActivityRecord("T1", "U42", "echo", "ok", 1.0, f"Ev{n}:echo")


def counts(registry: CollectorRegistry) -> dict[str, float]:
    found: dict[str, float] = {}
    for metric in registry.collect():
        for sample in metric.samples:
            if sample.name == "jeeves_dispatch_activity_total":
                found[sample.labels["result"]] = sample.value
    return found


async def test_records_are_sent_once_each_and_counted() -> None:
    registry = CollectorRegistry()
    client = Client()
    recorder = ActivityRecorder(client, activity_counter(registry))
    recorder.start()
    for n in (1, 2, 2):
        recorder.submit(record(n))
    await recorder.stop(grace_s=5)
    assert sorted(client.seen, key=str) == ["Ev1:echo", "Ev2:echo", "Ev2:echo"]
    assert counts(registry) == {
        "recorded": 2,
        "duplicate": 1,
        "failed": 0,
        "rejected": 0,
        "dropped": 0,
    }


@pytest.mark.parametrize(
    ("error", "result"),
    [(DataUnavailable("down"), "failed"), (DataRejected(422, "bad action"), "rejected")],
)
async def test_failures_are_counted_and_the_workers_go_on(error: Exception, result: str) -> None:
    registry = CollectorRegistry()
    recorder = ActivityRecorder(Failing(error), activity_counter(registry))
    recorder.start()
    for n in range(10):
        recorder.submit(record(n))
    await recorder.stop(grace_s=5)
    assert counts(registry)[result] == 10
    assert counts(registry)["recorded"] == 0


async def test_a_stalled_data_service_never_blocks_submit_and_overflow_is_dropped() -> None:
    registry = CollectorRegistry()
    client = Hanging()
    recorder = ActivityRecorder(client, activity_counter(registry), backlog=5)
    recorder.start()
    await asyncio.sleep(0)  # the workers start waiting for records
    for n in range(50):
        recorder.submit(record(n))  # synchronous: returns whatever the data service does
    while client.waiting < 4:  # every worker is stuck on one record
        await asyncio.sleep(0)
    assert counts(registry)["dropped"] == 50 - 5  # the backlog held 5, the rest was dropped
    await recorder.stop(grace_s=0)  # nothing can be sent: the rest is dropped, not awaited
    assert counts(registry)["dropped"] == 50  # the 4 in flight and the 1 still waiting too
    assert counts(registry)["recorded"] == 0
