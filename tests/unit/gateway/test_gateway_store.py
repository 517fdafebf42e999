"""The group-commit writer's pure parts: repeats within one batch, and the statement's columns.

Nothing runs: the tests are async only because each `_Pending` owns a future of the loop.
"""

from __future__ import annotations

import json

import pytest

from jeeves.kit.jobs import DispatchJob
from jeeves.kit.slack.inbound import _Pending, event_columns, split_repeats
from support.jobs import dispatch_job

pytestmark = pytest.mark.unit


def job(event_id: str, text: str = "hi") -> DispatchJob:
    return dispatch_job(event_id, text)


def pending(items: list[tuple[DispatchJob, str | None]]) -> list[_Pending]:
    """Needs a running loop (each item owns a future): call from async tests."""
    return [_Pending(j, request_id) for j, request_id in items]


async def test_a_retry_in_the_same_batch_is_a_repeat_of_the_first() -> None:
    batch = pending([(job("E1"), None), (job("E2"), None), (job("E1"), None)])
    unique, repeats = split_repeats(batch)
    assert [p.job["event_id"] for p in unique] == ["E1", "E2"]
    assert repeats == [batch[2]]


async def test_columns_carry_the_same_json_as_body_and_payload_and_the_request_id() -> None:
    batch = pending([(job("E1", "héllo"), "req-1"), (job("E2"), None)])
    ids, kinds, teams, users, channels, bodies, payloads, headers = event_columns(batch)
    assert (ids, kinds, teams, users, channels) == (
        ["E1", "E2"],
        ["message", "message"],
        ["T1", "T1"],
        ["U1", "U1"],
        ["C1", "C1"],
    )
    assert json.loads(bodies[0]) == job("E1", "héllo")
    assert payloads[0] == bodies[0].encode()
    assert headers == [json.dumps({"request_id": "req-1"}), None]
