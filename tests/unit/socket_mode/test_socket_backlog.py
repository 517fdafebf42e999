"""jeeves-socket shares the gateway's bounded writer: with the waiting line full (the database
hung), an envelope is refused at once and left unacknowledged, so Slack delivers it again.

Real: the kit's `EventWriter` (never started, as if every writer were stuck on the database) and
the socket's `EnvelopeHandler`. Nothing touches a database or a network.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from jeeves.kit.slack.inbound import EventWriter
from jeeves.socket.domain import Envelope
from jeeves.socket.ingesting import EnvelopeHandler, EnvelopeMetrics
from jeeves.socket.linking import NO_ACK

pytestmark = pytest.mark.unit
NOW = 1_700_000_000.0


def mention(event_id: str) -> Envelope:
    payload = {
        "type": "event_callback",
        "team_id": "T1",
        "event_id": event_id,
        "event": {"type": "app_mention", "user": "U1", "text": "hi", "ts": "1.1", "channel": "C1"},
    }
    return Envelope("e-" + event_id, "events_api", payload)


def unused_pool() -> object:
    raise AssertionError("no writer runs in this test")


async def test_a_full_waiting_line_leaves_the_envelope_unacked_at_once() -> None:
    registry = CollectorRegistry()
    writer = EventWriter(unused_pool, registry, writers=1, backlog=1)  # type: ignore[arg-type]
    handler = EnvelopeHandler(
        writer=writer,
        bot_user_id="UBOT",
        timeout_s=2,  # without the bound, Ev2 would wait this long, then count no refusal
        metrics=EnvelopeMetrics(registry),
        clock=lambda: NOW,
    )
    first = asyncio.create_task(handler(mention("Ev1")))  # takes the only place in line
    await asyncio.sleep(0)
    try:
        with capture_logs() as logged:
            second = await handler(mention("Ev2"))
    finally:
        first.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await first
    assert second == NO_ACK
    assert registry.get_sample_value("jeeves_gateway_backlog_full_total") == 1
    assert (
        registry.get_sample_value(
            "jeeves_socket_envelopes_total", {"type": "app_mention", "outcome": "unstored"}
        )
        == 1
    )
    [record] = [r for r in logged if r["event"] == "envelope_not_stored"]
    assert record["error"] == "Backlogged: 1 events already wait for the database"
