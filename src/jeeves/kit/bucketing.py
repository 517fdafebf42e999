"""Deterministic per-user bucketing for percentage rollouts (feature flags, canaries).

A user's bucket for a name is sha256("<name>:<user>") read as an integer, modulo 10,000. It is
the same in every process, on every machine and after every restart (Python's `hash()` is
salted per process, so it is never used). A user is inside a rollout of `percent` when their
bucket is below `percent * 100`, so raising the percentage only ever adds users.
"""

from __future__ import annotations

import hashlib

BUCKETS = 10_000


def bucket(name: str, user: str) -> int:
    """The bucket 0..9999 of `user` for the flag or canary called `name`."""
    digest = hashlib.sha256(f"{name}:{user}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def in_rollout(name: str, user: str, percent: float) -> bool:
    """Whether `user` falls inside a `percent` (0-100) rollout of `name`."""
    if percent <= 0:
        return False
    if percent >= 100:
        return True
    return bucket(name, user) < percent * (BUCKETS // 100)
