"""What echo does (reply with the user's text) and the fault plan tests can load into it.

Pure: no I/O; the handler in `app.py` applies a planned fault's delay and status.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jeeves.kit.action_app import ActionError, ActionRequest, Reply, escape_mrkdwn

MAX_FAULT_COUNT = 1000
MAX_DELAY_S = 120.0
MAX_CALLS_KEPT = 10_000


def echo(request: ActionRequest) -> Reply:
    """The reply: the text as received, escaped so it shows as typed (`<!channel>` pings no
    one); a blank text is the user's mistake. A typed command is echoed as its name and typed
    params (`deploy service=api env=prod`), a scheduled run with its tick, so what the
    dispatcher sent can be seen in Slack."""
    command, params = request.args.get("command"), request.args.get("params")
    if isinstance(command, str) and isinstance(params, Mapping):
        shown = " ".join(f"{name}={value}" for name, value in params.items())
        text = f"{command} {shown}".strip()
    else:
        text = request.text.strip()
    schedule = request.args.get("schedule")
    if not text and isinstance(schedule, Mapping):
        text = str(request.args.get("keyword") or request.action)  # a bare scheduled run
    if not text:
        raise ActionError(400, "Nothing to echo: try `echo hello`.")
    if isinstance(schedule, Mapping):
        late = f", catch-up for {schedule.get('missed')} missed" if schedule.get("missed") else ""
        text += f" [tick {schedule.get('tick')}{late}]"
    return Reply(text=escape_mrkdwn(text))


class FaultRequestError(ValueError):
    """A bad `/_test/fail` body; the message names the field."""


@dataclass(frozen=True)
class Fault:
    """How to answer one call instead of echoing: a status (2xx replies normally) and a delay."""

    status: int = 200
    delay_s: float = 0.0


def parse_fault_request(data: Any) -> tuple[Fault, int]:
    """`{"status": 500, "count": 3, "delay_s": 0}` → (fault, count)."""
    if not isinstance(data, Mapping):
        raise FaultRequestError("the body must be a JSON object")
    status = data.get("status", 500)
    if (
        not isinstance(status, int)
        or isinstance(status, bool)
        or not (status in (200, 202) or 400 <= status <= 599)
    ):
        raise FaultRequestError("'status' must be 200, 202 or 400-599")
    count = data.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_FAULT_COUNT:
        raise FaultRequestError(f"'count' must be a whole number from 1 to {MAX_FAULT_COUNT}")
    delay = data.get("delay_s", 0)
    if (
        isinstance(delay, bool)
        or not isinstance(delay, int | float)
        or not 0 <= delay <= MAX_DELAY_S
    ):
        raise FaultRequestError(f"'delay_s' must be seconds from 0 to {MAX_DELAY_S:.0f}")
    return Fault(status=status, delay_s=float(delay)), count


@dataclass
class FaultPlan:
    """Faults for the next calls, in order; each planned fault answers exactly one call."""

    queue: deque[Fault] = field(default_factory=deque)

    def add(self, fault: Fault, count: int) -> None:
        self.queue.extend([fault] * count)

    def take(self) -> Fault | None:
        return self.queue.popleft() if self.queue else None

    def clear(self) -> None:
        self.queue.clear()


@dataclass
class CallLog:
    """The envelope ids that reached the handler (repeats served from the cache do not)."""

    calls: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=MAX_CALLS_KEPT))

    def record(self, request: ActionRequest, fault: Fault | None) -> None:
        self.calls.append(
            {
                "id": request.id,
                "action": request.action,
                "channel": request.channel,
                "user": request.user.slack_id,
                "command": request.args.get("command"),
                "params": request.args.get("params"),
                "fault_status": fault.status if fault else None,
                "at": time.time(),
            }
        )


@dataclass
class EchoState:
    """Test-only state: the fault plan and the calls seen."""

    faults: FaultPlan = field(default_factory=FaultPlan)
    calls: CallLog = field(default_factory=CallLog)
