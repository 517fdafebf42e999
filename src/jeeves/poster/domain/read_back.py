"""Deciding whether an unconfirmed reply is already in Slack (pure; see `jeeves.poster.outbound`).

After a call to chat.postMessage whose answer was never recorded (a crash, a timeout, a 5xx),
the poster reads the conversation back — `conversations.replies` for a threaded reply, else
`conversations.history` — from a little before that call until now, with
`include_all_metadata`, looking for the message metadata it attached (`jeeves_reply` with the
reply key). Each page read gives one `Step`:

- `found`: the reply is there (its ts is recorded as posted; nothing is sent);
- `more`: not on this page, another follows (`cursor`), within `MAX_PAGES`;
- `absent`: every page of the window read, the reply is not there: post it;
- `retry`: Slack could not answer now (429 with its Retry-After, 5xx, timeout): ask later;
- `unverifiable`: the question cannot be answered (`missing_scope`, `not_in_channel`,
  `thread_not_found`, an unknown method, more than `MAX_PAGES` pages of traffic in the window):
  posting anyway is the lesser evil, counted as `resent_unverified`.

`read_back_delay` keeps a read-back from running while the unconfirmed call may still be
landing: not before `settle_s` (the lease) after that call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from jeeves.poster.domain.slack import find_reply, parse_retry_after

CLOCK_SKEW_S = 60.0  # the window opens this long before the call (poster vs Slack clocks)
PAGE_LIMIT = 200  # messages asked per page (Slack may cap it lower, e.g. 15 for some apps)
MAX_PAGES = 5  # pages read before giving up as unverifiable
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


class Verdict(StrEnum):
    FOUND = "found"
    MORE = "more"
    ABSENT = "absent"
    RETRY = "retry"
    UNVERIFIABLE = "unverifiable"


@dataclass(frozen=True)
class Step:
    verdict: Verdict
    ts: str | None = None  # FOUND: the reply's ts
    cursor: str = ""  # MORE: the next page
    retry_after_s: float | None = None  # RETRY: Slack's Retry-After, when it sent one
    reason: str = ""  # RETRY / UNVERIFIABLE: Slack's error or what went wrong


def window_oldest(posting_at: float | None, now: float) -> str:
    """`oldest` for the read-back: a clock skew before the unconfirmed call (else before now)."""
    start = posting_at if posting_at is not None else now
    return f"{max(0.0, start - CLOCK_SKEW_S):.6f}"


def read_back_delay(posting_age_s: float | None, settle_s: float) -> float:
    """Seconds to wait before a read-back can be trusted (0: read now)."""
    if posting_age_s is None:
        return 0.0
    return max(0.0, settle_s - posting_age_s)


def judge_page(
    status: int,
    data: Mapping[str, Any] | None,
    headers: Mapping[str, str],
    reply_key: str,
    *,
    page: int,
    max_pages: int = MAX_PAGES,
) -> Step:
    """What one conversations.history/.replies answer (page number `page`, 1-based) says."""
    error = str(data.get("error", "")) if data else ""
    if status == 429 or error == "ratelimited":
        return Step(
            Verdict.RETRY,
            retry_after_s=parse_retry_after(headers.get("Retry-After")),
            reason="ratelimited",
        )
    if status >= 500 or error in TRANSIENT_ERRORS or data is None:
        return Step(Verdict.RETRY, reason=error or f"http {status}")
    if data.get("ok") is not True:
        return Step(Verdict.UNVERIFIABLE, reason=error or f"http {status}")
    ts = find_reply(data, reply_key)
    if ts is not None:
        return Step(Verdict.FOUND, ts=ts)
    metadata = data.get("response_metadata")
    cursor = metadata.get("next_cursor") if isinstance(metadata, Mapping) else None
    if not data.get("has_more"):
        return Step(Verdict.ABSENT)
    if not isinstance(cursor, str) or not cursor:
        return Step(Verdict.UNVERIFIABLE, reason="has_more without a cursor")
    if page >= max_pages:
        return Step(Verdict.UNVERIFIABLE, reason=f"more than {max_pages} pages to read")
    return Step(Verdict.MORE, cursor=cursor)


def transport_failure(name: str) -> Step:
    """No answer at all (timeout, connection refused): ask again later."""
    return Step(Verdict.RETRY, reason=name)
