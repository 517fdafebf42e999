"""Test data: a minimal valid `dispatch` job (what the gateway queues for one message)."""

from __future__ import annotations

from jeeves.kit.jobs import DispatchJob


def dispatch_job(event_id: str = "Ev1", text: str = "hi", received_at: float = 1.5) -> DispatchJob:
    """A plain channel message from U1 in C1 of team T1, as the gateway normalises it."""
    return {
        "event_id": event_id,
        "kind": "message",
        "team_id": "T1",
        "user_id": "U1",
        "channel": "C1",
        "ts": "1.1",
        "thread_ts": None,
        "text": text,
        "received_at": received_at,
    }
