"""One round of the fault suite: 200 messages in flight, one fault, then the count.

A round sends `MESSAGES` mentions through the Slack emulator (half `echo`, half `remember …`,
which goes through the memory action to the data service), spread over 40 fresh channels, each
carrying a token `<tag>-<nnn>` that its reply repeats. Once the first replies are out the fault
is injected; `restore` ends it (a restart, the end of a storm) and returns. The round then waits
until every message is *resolved* — answered, or a dead letter an admin can see — and counts:

- replies: messages answered (their token appears in a bot message);
- dead letters: messages that are a dead letter of the dispatcher or the poster;
- duplicates: extra bot messages for one token (must be 0);
- lost: messages neither answered nor dead-lettered once the queue is quiet (must be 0);
- recovery: seconds from the end of the fault until the last message was resolved.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fault_stack import FaultStack

from e2e.pipeline_stack import fresh_channel
from jeeves.localstack.ports import wait_until

MESSAGES = 200
CHANNELS = 40
FIRST_REPLIES = 20  # the fault hits once this many replies are out: the rest are in flight
RESOLVE_TIMEOUT_S = 240.0


@dataclass(frozen=True)
class Fault:
    """A named fault: `inject` starts it, `restore` ends it (both block until done)."""

    name: str
    inject: Callable[[FaultStack], None]
    restore: Callable[[FaultStack], None]


@dataclass(frozen=True)
class Row:
    fault: str
    messages: int
    replies: int
    dead_letters: int
    duplicates: int
    lost: int
    recover_s: float

    HEADER = ("fault", "messages", "replies", "dead letters", "duplicates", "lost", "recovered")

    def cells(self) -> tuple[str, ...]:
        return (
            self.fault,
            str(self.messages),
            str(self.replies),
            str(self.dead_letters),
            str(self.duplicates),
            str(self.lost),
            f"{self.recover_s:.1f} s",
        )


def table(rows: list[Row]) -> str:
    """The rows as an aligned text table."""
    lines = [Row.HEADER, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(Row.HEADER))]
    rendered = [
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) for line in lines
    ]
    rendered.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(rendered)


class Round:
    """The messages of one fault and what became of them."""

    def __init__(self, stack: FaultStack) -> None:
        self.stack = stack
        self.tag = uuid.uuid4().hex[:6]
        self.channels = [fresh_channel() for _ in range(CHANNELS)]
        self.since = time.time()
        self.event_ids: dict[str, int] = {}  # event_id -> message number
        self.errors: list[BaseException] = []
        self._pattern = re.compile(rf"\b{self.tag}-(\d{{3}})\b")

    def text(self, n: int) -> str:
        token = f"{self.tag}-{n:03d}"
        return f"echo {token}" if n % 2 == 0 else f"remember my colour is {token}"

    def send_all(self) -> None:
        try:
            for n in range(MESSAGES):
                channel = self.channels[n % CHANNELS]
                event_id = self.stack.pipeline.slack.send_mention(self.text(n), channel=channel)
                self.event_ids[event_id] = n
        except BaseException as exc:  # reported by the round
            self.errors.append(exc)

    def bot_messages(self) -> list[dict[str, Any]]:
        wanted = set(self.channels)
        found = self.stack.pipeline.slack.messages(since=self.since, source="api,response_url")
        return [m for m in found if m["channel"] in wanted]

    def answered(self) -> Counter[int]:
        """Message number -> bot messages carrying its token."""
        counts: Counter[int] = Counter()
        for message in self.bot_messages():
            for token in set(self._pattern.findall(str(message.get("text", "")))):
                counts[int(token)] += 1
        return counts

    def dead(self) -> set[int]:
        """Message numbers that are a dead letter (dispatcher: its event; poster: its reply)."""
        numbers = set()
        for letter in self.stack.dead_letters():
            payload = letter.get("payload") or {}
            event_id = payload.get("event_id")
            if event_id in self.event_ids:
                numbers.add(self.event_ids[event_id])
        return numbers

    def resolved(self) -> bool:
        if len(self.event_ids) < MESSAGES:
            return False
        answered = set(self.answered())
        return len(answered | self.dead()) >= MESSAGES


def run(stack: FaultStack, fault: Fault) -> Row:
    """One round under `fault`; the Row of what happened."""
    round_ = Round(stack)
    sender = threading.Thread(target=round_.send_all, daemon=True)
    sender.start()
    wait_until(
        lambda: len(round_.answered()) >= FIRST_REPLIES,
        timeout=60,
        what="the first replies",
    )
    fault.inject(stack)
    fault.restore(stack)
    restored = time.monotonic()
    sender.join(timeout=120)
    assert not round_.errors, round_.errors
    wait_until(round_.resolved, timeout=RESOLVE_TIMEOUT_S, what=f"{MESSAGES} resolved messages")
    recover_s = time.monotonic() - restored
    wait_until(lambda: stack.queue_busy() == 0, timeout=60, what="a quiet queue")
    counts, dead = round_.answered(), round_.dead()
    replies = len(counts)
    lost = MESSAGES - len(set(counts) | dead)
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    return Row(fault.name, MESSAGES, replies, len(dead), duplicates, lost, recover_s)
