"""The emulated workspace's message history, and the log of Web API calls received.

Every message lands here: those people "typed" through the control API (`source: "user"`), those
the bot posted through the Web API (`source: "api"`) and those answered to a `response_url`
(`source: "response_url"`). Timestamps are Slack-shaped (`"1700000000.000100"`), unique and
increasing. Both logs are bounded: the oldest entries go first.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

Source = Literal["user", "api", "response_url"]
SOURCES: tuple[Source, ...] = ("user", "api", "response_url")
Clock = Callable[[], float]


class TsClock:
    """Slack message timestamps: `<seconds>.<microseconds>`, strictly increasing."""

    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._last_us = 0

    def next(self) -> str:
        now_us = int(self._clock() * 1_000_000)
        self._last_us = max(now_us, self._last_us + 1)
        seconds, micros = divmod(self._last_us, 1_000_000)
        return f"{seconds}.{micros:06d}"


@dataclass
class Message:
    seq: int
    source: Source
    channel: str
    ts: str
    user: str
    text: str
    thread_ts: str | None = None
    blocks: list[dict[str, Any]] | None = None
    bot_id: str | None = None
    method: str | None = None  # the Web API method that posted it
    ephemeral_to: str | None = None  # set for chat.postEphemeral / ephemeral responses
    posted_at: float = 0.0  # epoch seconds
    edited_at: float | None = None
    metadata: dict[str, Any] | None = None  # {"event_type", "event_payload"} an app attached
    extra: dict[str, Any] = field(default_factory=dict)

    def slack_json(self, team_id: str, *, metadata: bool = True) -> dict[str, Any]:
        """The message as Slack's APIs show it (`message` in chat.postMessage's answer;
        conversations.* show `metadata` only when asked with `include_all_metadata`)."""
        data: dict[str, Any] = {"type": "message", "text": self.text, "user": self.user}
        data["ts"] = self.ts
        data["team"] = team_id
        if self.bot_id:
            data["bot_id"] = self.bot_id
        if self.blocks is not None:
            data["blocks"] = self.blocks
        if self.thread_ts is not None:
            data["thread_ts"] = self.thread_ts
        if self.edited_at is not None:
            data["edited"] = {"user": self.user, "ts": f"{self.edited_at:.6f}"}
        if metadata and self.metadata is not None:
            data["metadata"] = self.metadata
        return data

    def to_json(self) -> dict[str, Any]:
        """The record the control API lists."""
        return {
            "seq": self.seq,
            "source": self.source,
            "channel": self.channel,
            "ts": self.ts,
            "thread_ts": self.thread_ts,
            "user": self.user,
            "text": self.text,
            "blocks": self.blocks,
            "method": self.method,
            "ephemeral_to": self.ephemeral_to,
            "posted_at": self.posted_at,
            "edited_at": self.edited_at,
            "metadata": self.metadata,
            **self.extra,
        }


class MessageLog:
    """Every message in the emulated workspace, oldest first, at most `limit` of them."""

    def __init__(self, limit: int = 10_000, clock: Clock = time.time) -> None:
        self._clock = clock
        self._ts = TsClock(clock)
        self._messages: deque[Message] = deque(maxlen=limit)
        self._seq = itertools.count(1)

    def add(self, source: Source, channel: str, user: str, text: str, **fields: Any) -> Message:
        message = Message(
            seq=next(self._seq),
            source=source,
            channel=channel,
            ts=self._ts.next(),
            user=user,
            text=text,
            posted_at=self._clock(),
            **fields,
        )
        self._messages.append(message)
        return message

    def in_channel(self, channel: str) -> list[Message]:
        """Every message of `channel` that everyone sees (ephemeral ones left out), oldest first."""
        return [m for m in self._messages if m.channel == channel and m.ephemeral_to is None]

    def find(self, channel: str, ts: str) -> Message | None:
        return next((m for m in self._messages if m.channel == channel and m.ts == ts), None)

    def update(
        self, message: Message, text: str | None, blocks: list[dict[str, Any]] | None
    ) -> Message:
        if text is not None:
            message.text = text
        if blocks is not None:
            message.blocks = blocks
        message.edited_at = self._clock()
        return message

    def select(
        self,
        *,
        channel: str | None = None,
        since: float | None = None,
        sources: Iterable[Source] = ("api", "response_url"),
        thread_ts: str | None = None,
    ) -> list[Message]:
        wanted = set(sources)
        return [
            m
            for m in self._messages
            if m.source in wanted
            and (channel is None or m.channel == channel)
            and (since is None or m.posted_at > since or (m.edited_at or 0) > since)
            and (thread_ts is None or m.thread_ts == thread_ts or m.ts == thread_ts)
        ]

    def channels(self) -> list[str]:
        return sorted({m.channel for m in self._messages})

    def clear(self) -> None:
        self._messages.clear()


@dataclass(frozen=True)
class ApiCall:
    """One Web API request as the emulator answered it."""

    seq: int
    method: str
    channel: str | None
    status: int
    ok: bool
    error: str | None
    at: float
    retry_after: int | None = None
    team: str | None = None  # the workspace whose token made the call (None: refused)

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "method": self.method,
            "channel": self.channel,
            "status": self.status,
            "ok": self.ok,
            "error": self.error,
            "at": self.at,
            "retry_after": self.retry_after,
            "team": self.team,
        }


class CallLog:
    """Every Web API call received, oldest first, bounded."""

    def __init__(self, limit: int = 10_000, clock: Clock = time.time) -> None:
        self._clock = clock
        self._calls: deque[ApiCall] = deque(maxlen=limit)
        self._seq = itertools.count(1)

    def record(
        self,
        method: str,
        channel: str | None,
        status: int,
        error: str | None,
        retry_after: int | None = None,
        team: str | None = None,
    ) -> ApiCall:
        call = ApiCall(
            seq=next(self._seq),
            method=method,
            channel=channel,
            status=status,
            ok=error is None,
            error=error,
            at=self._clock(),
            retry_after=retry_after,
            team=team,
        )
        self._calls.append(call)
        return call

    def select(
        self, *, method: str | None = None, channel: str | None = None, team: str | None = None
    ) -> list[ApiCall]:
        return [
            c
            for c in self._calls
            if (method is None or c.method == method)
            and (channel is None or c.channel == channel)
            and (team is None or c.team == team)
        ]

    def clear(self) -> None:
        self._calls.clear()
