"""The audit record of one action run (pure): who, where, what, under which decision, how it
ended, how long it took.

Every run the dispatcher settles — called, denied, cancelled, rejected, expired, skipped — becomes
ONE record for the data service's audit log (`POST /v1/audit`, kind `action.run`), sent
through the durable queue (`audit` jobs, see `jeeves.dispatcher.auditor`). Its `key`
(`run:<event>:<outcome>`) makes a record sent twice stored once, while a dead letter replayed
later to success still adds its own `ok` record. Never message text: typed params only,
secrets masked.

| detail field | what |
|---|---|
| `command`, `params` | the typed command and its params (masked); absent for free text |
| `channel`, `team_id` | where it was asked |
| `trigger` | `message`, `command` (slash), `interaction`, `schedule`, `alert` |
| `decision` | `allowed`, or `denied:<why>` (side_effects, user, channel, groups_unavailable) |
| `confirmed_by`, `approved_by`, `rejected_by` | who clicked, when the policy asked |
| `outcome` | `ok`, `user_error`, `error`, `timeout`; `denied`, `cancelled`, `rejected`, `expired` |
| `status`, `duration_ms` | the action's HTTP status and how long the call took |
| `tick`, `missed` | scheduled runs: the tick (ISO time) and how many ticks it stands for |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

KIND = "action.run"
OUTCOMES = (
    "ok",
    "user_error",
    "error",
    "timeout",
    "denied",
    "cancelled",
    "rejected",
    "expired",
    "skipped",
)


@dataclass(frozen=True)
class RunFacts:
    """Everything known about a settled run."""

    event_id: str  # the request's event (its idempotency key)
    action: str
    actor: str  # the Slack user who asked, or `schedule`
    team_id: str
    channel: str
    trigger: str
    outcome: str
    decision: str = "allowed"
    command: str | None = None
    params: Mapping[str, Any] | None = None  # already masked
    status: int | None = None
    duration_ms: float = 0.0
    clicks: Mapping[str, str] = field(default_factory=dict)  # confirmed_by, approved_by, …
    schedule: Mapping[str, Any] = field(default_factory=dict)  # tick, missed


def audit_record(facts: RunFacts) -> dict[str, Any]:
    """The body of `POST /v1/audit` for `facts`."""
    if facts.outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome {facts.outcome!r}")
    detail: dict[str, Any] = {
        "event_id": facts.event_id,
        "trigger": facts.trigger,
        "channel": facts.channel,
        "team_id": facts.team_id,
        "decision": facts.decision,
        "outcome": facts.outcome,
        "duration_ms": round(facts.duration_ms, 1),
    }
    if facts.command is not None:
        detail["command"] = facts.command
        detail["params"] = dict(facts.params or {})
    if facts.status is not None:
        detail["status"] = facts.status
    detail.update(facts.clicks)
    detail.update(facts.schedule)
    return {
        "key": f"run:{facts.event_id}:{facts.outcome}"[:200],
        "actor": facts.actor[:128],
        "kind": KIND,
        "target": facts.action[:256],
        "detail": detail,
    }
