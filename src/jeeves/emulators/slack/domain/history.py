"""Reading a conversation back: `conversations.history` and `conversations.replies` (pure).

Both list what everyone sees in a channel (ephemeral messages never appear), as Slack does:
- **history**: the channel's top-level messages (thread replies stay in their thread), newest
  first; a thread's parent carries `reply_count`, `reply_users`, `reply_users_count` and
  `latest_reply`;
- **replies**: one thread, oldest first: the parent, then its replies. `ts` may name the parent
  or any reply in the thread; a `ts` that names no message is `thread_not_found`. The parent
  leads the first page whatever `oldest`/`latest` say; later pages hold replies only.

`oldest` and `latest` bound the messages' ts, exclusive unless `inclusive`; `limit` is capped
(999 for history, 1000 for replies). Pages are chained by Slack-shaped opaque cursors
(`base64("next_ts:<ts digits>")`) naming the first message of the next page; `has_more` says
whether one follows. Timestamps are compared as integer microseconds, never as floats.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from jeeves.emulators.slack.domain.messages import Message

HISTORY_LIMIT = (100, 999)  # (default, maximum) for conversations.history
REPLIES_LIMIT = (1000, 1000)  # (default, maximum) for conversations.replies
CURSOR_PREFIX = "next_ts:"
TRUE_VALUES = frozenset({"1", "true", "yes"})


class HistoryError(Exception):
    """A request Slack would refuse; `error` is Slack's error code."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def ts_micros(value: Any, error: str) -> int:
    """A Slack ts (`"1700000000.000100"`, or a number) as integer microseconds."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise HistoryError(error)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise HistoryError(error) from None
    if not number.is_finite() or number < 0:
        raise HistoryError(error)
    return int(number * 1_000_000)


def flag(value: Any) -> bool:
    """A boolean parameter as Slack reads it: `true`/`1` (slack_sdk sends `1`/`0`)."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in TRUE_VALUES


def encode_cursor(ts_us: int) -> str:
    return base64.b64encode(f"{CURSOR_PREFIX}{ts_us}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    """The ts (microseconds) a cursor starts at; `invalid_cursor` for anything else."""
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise HistoryError("invalid_cursor") from None
    digits = text.removeprefix(CURSOR_PREFIX)
    if not text.startswith(CURSOR_PREFIX) or not digits.isdigit():
        raise HistoryError("invalid_cursor")
    return int(digits)


@dataclass(frozen=True)
class Query:
    """The paging parameters shared by both methods."""

    oldest_us: int = 0
    latest_us: int | None = None  # None: now (everything)
    inclusive: bool = False
    limit: int = 100
    cursor_us: int | None = None  # where this page starts (None: the first page)
    metadata: bool = False  # include_all_metadata

    def in_window(self, ts_us: int) -> bool:
        if self.inclusive:
            after = ts_us >= self.oldest_us
            before = self.latest_us is None or ts_us <= self.latest_us
        else:
            after = ts_us > self.oldest_us
            before = self.latest_us is None or ts_us < self.latest_us
        return after and before


def _limit(value: Any, default: int, maximum: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(str(value).strip())
    except ValueError:
        raise HistoryError("invalid_arguments") from None
    return default if number <= 0 else min(number, maximum)


def parse_query(params: Mapping[str, Any], limits: tuple[int, int]) -> Query:
    """The paging parameters of one call; HistoryError with Slack's code when one is bad."""
    oldest = params.get("oldest")
    latest = params.get("latest")
    cursor = params.get("cursor")
    return Query(
        oldest_us=0 if oldest in (None, "") else ts_micros(oldest, "invalid_ts_oldest"),
        latest_us=None if latest in (None, "") else ts_micros(latest, "invalid_ts_latest"),
        inclusive=flag(params.get("inclusive", False)),
        limit=_limit(params.get("limit"), *limits),
        cursor_us=decode_cursor(str(cursor)) if cursor not in (None, "") else None,
        metadata=flag(params.get("include_all_metadata", False)),
    )


@dataclass(frozen=True)
class Page:
    messages: list[dict[str, Any]]
    next_cursor: str  # "" on the last page

    def body(self) -> dict[str, Any]:
        """The fields Slack answers besides `ok`."""
        return {
            "messages": self.messages,
            "has_more": bool(self.next_cursor),
            "response_metadata": {"next_cursor": self.next_cursor},
        }


def _us(message: Message) -> int:
    return ts_micros(message.ts, "invalid_ts")


def _is_reply(message: Message) -> bool:
    return message.thread_ts is not None and message.thread_ts != message.ts


def _threads(messages: Sequence[Message]) -> dict[str, list[Message]]:
    """Replies by their thread's ts, oldest first."""
    threads: dict[str, list[Message]] = {}
    for message in messages:
        if _is_reply(message):
            threads.setdefault(str(message.thread_ts), []).append(message)
    return threads


def _render(
    message: Message, replies: Sequence[Message], team_id: str, query: Query
) -> dict[str, Any]:
    data = message.slack_json(team_id, metadata=query.metadata)
    if replies and not _is_reply(message):
        users = list(dict.fromkeys(r.user for r in replies))
        data.update(
            thread_ts=message.ts,
            reply_count=len(replies),
            reply_users=users,
            reply_users_count=len(users),
            latest_reply=replies[-1].ts,
        )
    return data


def _cut(candidates: list[Message], limit: int) -> tuple[list[Message], str]:
    page = candidates[:limit]
    rest = candidates[limit:]
    return page, encode_cursor(_us(rest[0])) if rest else ""


def history(messages: Sequence[Message], query: Query, team_id: str) -> Page:
    """One page of a channel's top-level messages, newest first (`messages`: the channel's)."""
    threads = _threads(messages)
    candidates = [
        m
        for m in reversed(messages)
        if not _is_reply(m)
        and query.in_window(_us(m))
        and (query.cursor_us is None or _us(m) <= query.cursor_us)
    ]
    page, cursor = _cut(candidates, query.limit)
    return Page([_render(m, threads.get(m.ts, []), team_id, query) for m in page], cursor)


def replies(messages: Sequence[Message], ts: str, query: Query, team_id: str) -> Page:
    """One page of the thread `ts` belongs to, oldest first (`messages`: the channel's)."""
    named = next((m for m in messages if m.ts == ts), None)
    thread_ts = named.thread_ts if named is not None and _is_reply(named) else ts
    parent = next((m for m in messages if m.ts == thread_ts), None)
    thread = _threads(messages).get(str(thread_ts), [])
    if parent is None and not thread:
        raise HistoryError("thread_not_found")
    candidates = [
        m
        for m in thread
        if query.in_window(_us(m)) and (query.cursor_us is None or _us(m) >= query.cursor_us)
    ]
    lead = [parent] if parent is not None and query.cursor_us is None else []
    page, cursor = _cut(candidates, max(1, query.limit - len(lead)))
    rendered = [_render(parent, thread, team_id, query) for parent in lead]
    for reply in page:
        data = _render(reply, [], team_id, query)
        if parent is not None:
            data["parent_user_id"] = parent.user
        rendered.append(data)
    return Page(rendered, cursor)
