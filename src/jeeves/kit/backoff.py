"""The one backoff rule of the kit: exponential steps with equal jitter, capped.

Used by the outbound HTTP client between retries of one request (`jeeves.kit.http`) and by the
queue between attempts of one job (`jeeves.kit.queue`). Half of each step is fixed and half
random, so retries spread out but never bunch at zero.
"""

from __future__ import annotations

import random


def backoff_delay(
    attempt: int, base_s: float, max_s: float, rng: random.Random | None = None
) -> float:
    """Delay before retrying after the `attempt`-th (1-based) failure: in [ceiling/2, ceiling]
    where ceiling = min(max_s, base_s · 2^(attempt-1))."""
    ceiling = min(max_s, base_s * 2.0 ** max(0, attempt - 1))
    jitter = (rng or random).uniform(0, ceiling / 2)
    return ceiling / 2 + jitter
