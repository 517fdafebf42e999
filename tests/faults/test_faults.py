"""Each fault, in turn, with 200 messages in flight: every message ends with exactly one reply
or a dead letter an admin can see — never lost, never answered twice (issue 14, item 10).

Real: the whole stack of `fault_stack`; the faults are SIGKILLs, restarts of PostgreSQL and
etcd, the Slack emulator answering 429 and 5xx, and the echo action answering after its
timeout. Nothing is faked. The table of every round is printed at the end of the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from fault_round import Fault, Row, run
from fault_stack import FaultStack

from jeeves.localstack.ports import wait_until
from support.services import ServiceProcess

pytestmark = pytest.mark.faults
STORM_HITS = 40  # Slack calls a storm answers with errors before it ends


def killed(name: str, process: Callable[[FaultStack], ServiceProcess]) -> Fault:
    return Fault(f"SIGKILL {name}", lambda s: process(s).kill(), lambda s: process(s).start())


def _storm_hits(stack: FaultStack, status: int, since: float) -> int:
    calls = stack.pipeline.slack.calls("chat.postMessage")
    return sum(1 for c in calls if int(c["status"]) == status and float(c["at"]) >= since)


def storm(name: str, status: int) -> Fault:
    started: dict[str, float] = {}

    def inject(stack: FaultStack) -> None:
        started["at"] = time.time()
        if status == 429:
            stack.pipeline.slack.rate_limit(
                None, retry_after=1, count=None, duration_s=120, methods=["chat.postMessage"]
            )
        else:
            stack.pipeline.slack.fail_next(STORM_HITS, status=status, methods=["chat.postMessage"])

    def restore(stack: FaultStack) -> None:
        wait_until(
            lambda: _storm_hits(stack, status, started["at"]) >= STORM_HITS,
            timeout=120,
            what=f"{STORM_HITS} calls answered {status}",
        )
        stack.pipeline.slack.clear_faults()

    return Fault(name, inject, restore)


def _slow_echo_taken(stack: FaultStack, count: int) -> bool:
    return sum(1 for c in stack.echo_calls() if c.get("fault_status") == 200) >= count


SLOW_CALLS = 30  # echo calls that answer after 3 s, past the 2 s the dispatcher waits


def _slow_calls_over(stack: FaultStack) -> None:
    wait_until(lambda: _slow_echo_taken(stack, SLOW_CALLS), timeout=120, what="the slow calls")
    stack.echo_plan(None)


FAULTS = [
    killed("gateway", lambda s: s.pipeline.ingresses[0]),
    killed("dispatcher", lambda s: s.pipeline.dispatcher),
    killed("poster", lambda s: s.pipeline.poster),
    killed("data", lambda s: s.data),
    killed("tokens", lambda s: s.dealer.process),
    Fault(
        "PostgreSQL restart",
        lambda s: s.postgres.stop("immediate"),
        lambda s: s.postgres.start(),
    ),
    Fault("etcd restart", lambda s: s.etcd.stop(), lambda s: s.etcd.start()),
    storm("Slack 429 storm", 429),
    storm("Slack 5xx storm", 503),
    Fault(
        "action timing out",
        lambda s: s.echo_plan({"status": 200, "count": SLOW_CALLS, "delay_s": 3}),
        lambda s: _slow_calls_over(s),
    ),
]


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_nothing_is_lost_or_doubled(fault: Fault, fault_stack: FaultStack, rows: list[Row]) -> None:
    row = run(fault_stack, fault)
    rows.append(row)
    assert row.lost == 0, row
    assert row.duplicates == 0, row
    assert row.replies + row.dead_letters >= row.messages, row
