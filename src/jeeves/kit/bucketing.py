"""Deterministic per-user buckets for percentage routing (action canaries, feature flags).

A user's bucket is a number in [0, 100) derived from a hash of the subject's name (an action or
a flag) and the user id, so the same user always lands on the same side of a rollout and
different rollouts split users independently. Pure functions, no state.
"""

from __future__ import annotations

import hashlib

_SCALE = float(2**64)


def bucket(subject: str, user_id: str) -> float:
    """The user's bucket for `subject`: a stable value in [0, 100)."""
    digest = hashlib.sha256(f"{subject}\x00{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE * 100.0


def in_rollout(subject: str, user_id: str, percent: float) -> bool:
    """True when `user_id` falls inside the first `percent` percent of `subject`'s rollout."""
    if percent <= 0:
        return False
    if percent >= 100:
        return True
    return bucket(subject, user_id) < percent
