"""`queue_snapshot`: queue depth per state and the oldest waiting job's age, from query rows.

Pure; nothing is faked."""

from __future__ import annotations

import pytest

from jeeves.kit.queue import queue_snapshot

pytestmark = pytest.mark.unit


def test_every_entrypoint_and_state_reads_zero_without_rows() -> None:
    counts, oldest = queue_snapshot(["reply"], [])
    assert counts == {("reply", "queued"): 0, ("reply", "picked"): 0, ("reply", "dead_letter"): 0}
    assert oldest == {"reply": 0.0}


def test_dead_letters_count_but_never_age_the_queue() -> None:
    rows = [
        {"entrypoint": "reply", "status": "queued", "n": 3, "oldest": 12.5},
        {"entrypoint": "reply", "status": "picked", "n": 1, "oldest": 40.0},
        {"entrypoint": "reply", "status": "failed", "n": 7, "oldest": 9000.0},
        {"entrypoint": "dispatch", "status": "queued", "n": 1, "oldest": -0.2},  # clock skew
    ]
    counts, oldest = queue_snapshot(["reply", "dispatch"], rows)
    assert counts[("reply", "queued")] == 3
    assert counts[("reply", "picked")] == 1
    assert counts[("reply", "dead_letter")] == 7
    assert oldest == {"reply": 40.0, "dispatch": 0.0}
