"""Which dispatches become usage statistics, and as what (pure).

One action call — one event routed to one action, however many times the queue retried it —
is one activity record for the data service (`POST /v1/activity`): who, which action, how it
ended, how long the action took. Never message text. The record carries the call's `id`
(`<event_id>:<action>`, the same idempotency key the action receives) as its `event_id`, so a
record sent twice is stored once.

Outcomes are the data service's vocabulary:

| dispatch outcome | activity outcome |
|---|---|
| replied, deferred | `ok` |
| rejected (4xx) | `user_error` — except 401/403, which are ours: `error` |
| invalid_reply | `error` |
| failed, unreachable on the last attempt (the job becomes a dead letter) | `error` |
| timeout on the last attempt | `timeout` |
| failed, unreachable, timeout before the last attempt | nothing yet: the queue retries |
| builtin (help, login), unknown, disabled | nothing: no action was called |
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from jeeves.dispatcher.domain.protocol import Outcome, action_call_id
from jeeves.kit.jobs import DispatchJob

MAX_EVENT_ID = 128  # the data service's limit on `event_id`
_FINAL_FAILURES = {
    Outcome.FAILED: "error",
    Outcome.UNREACHABLE: "error",
    Outcome.TIMEOUT: "timeout",
}


@dataclass(frozen=True)
class ActivityRecord:
    """One finished action call, as `DataClient.record_activity` takes it."""

    team_id: str
    slack_id: str
    action: str
    outcome: str  # ok, user_error, error, timeout
    latency_ms: float
    event_id: str
    channel: str | None = None  # where it was asked (usage per channel)


def activity_outcome(outcome: Outcome, status: int | None, *, last_attempt: bool) -> str | None:
    """The activity outcome of a dispatch outcome; None when there is nothing to record (yet)."""
    if outcome in (Outcome.REPLIED, Outcome.DEFERRED):
        return "ok"
    if outcome is Outcome.REJECTED:
        return "error" if status in (401, 403) else "user_error"
    if outcome is Outcome.INVALID:
        return "error"
    if outcome in _FINAL_FAILURES:
        return _FINAL_FAILURES[outcome] if last_attempt else None
    return None


def activity_event_id(event_id: str, action: str) -> str:
    """The call's id, or (beyond the data service's 128 characters) a stable digest of it."""
    call_id = action_call_id(event_id, action)
    if len(call_id) <= MAX_EVENT_ID:
        return call_id
    return "sha256:" + hashlib.sha256(call_id.encode()).hexdigest()


def activity_record(
    job: DispatchJob,
    action: str,
    outcome: Outcome,
    status: int | None,
    latency_ms: float,
    *,
    last_attempt: bool,
) -> ActivityRecord | None:
    """The record for a call of `action` on `job`'s event, or None (see the module table)."""
    recorded = activity_outcome(outcome, status, last_attempt=last_attempt)
    if recorded is None:
        return None
    return ActivityRecord(
        team_id=job["team_id"],
        slack_id=job["user_id"],
        action=action,
        outcome=recorded,
        latency_ms=latency_ms,
        event_id=activity_event_id(job["event_id"], action),
        channel=job["channel"],
    )
