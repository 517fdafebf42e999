"""The outbound log's claim rule and the reply payload check (pure parts of the poster).

Nothing is faked: `decide` and `parse_reply_job` are pure.
"""

from __future__ import annotations

import pytest

from jeeves.kit.jobs import parse_reply_job
from jeeves.poster.outbound import Claim, decide

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("state", "age", "claim"),
    [
        ("posted", 1.0, Claim.DONE),
        ("posted", None, Claim.DONE),
        ("sending", 1.0, Claim.BUSY),
        ("sending", 31.0, Claim.SEND),
        ("retry", 1.0, Claim.SEND),
        ("failed", 1.0, Claim.SEND),
    ],
)
def test_a_key_is_claimed_only_when_nobody_holds_it(
    state: str, age: float | None, claim: Claim
) -> None:
    assert decide(state, age, lease_s=30.0) is claim


def test_a_reply_payload_is_checked() -> None:
    job = parse_reply_job({"reply_key": "k", "channel": "C1", "text": "hi"})
    assert job["thread_ts"] is None
    with pytest.raises(ValueError, match="'channel'"):
        parse_reply_job({"reply_key": "k", "text": "hi"})
    with pytest.raises(ValueError, match="'thread_ts'"):
        parse_reply_job({"reply_key": "k", "channel": "C1", "text": "hi", "thread_ts": 5})
    with pytest.raises(ValueError, match="'blocks'"):
        parse_reply_job({"reply_key": "k", "channel": "C1", "text": "hi", "blocks": {}})
