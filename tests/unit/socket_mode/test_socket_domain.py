"""The Socket Mode ingress's pure decisions: frames, envelopes, acks, reconnect backoff.

Nothing runs; frames are Slack's shapes written out by hand.
"""

from __future__ import annotations

import json

import pytest

from jeeves.kit.errors import APIError
from jeeves.kit.slack.events import Accept
from jeeves.socket.domain import (
    Disconnect,
    Envelope,
    Hello,
    Other,
    ack_frame,
    ack_payload,
    backoff_s,
    decide,
    parse_frame,
)
from jeeves.socket.linking import DISABLED_FAILURES, next_failures

pytestmark = pytest.mark.unit
NOW = 1_700_000_000.0


def test_hello_disconnect_and_envelopes_are_told_apart() -> None:
    hello = {"type": "hello", "num_connections": 3, "debug_info": {}, "connection_info": {}}
    assert parse_frame(json.dumps(hello)) == Hello(3)
    assert parse_frame('{"type":"disconnect","reason":"refresh_requested"}') == Disconnect(
        "refresh_requested"
    )
    frame = {
        "envelope_id": "e-1",
        "type": "events_api",
        "payload": {"type": "event_callback"},
        "retry_attempt": 2,
        "retry_reason": "timeout",
        "accepts_response_payload": False,
    }
    assert parse_frame(json.dumps(frame)) == Envelope(
        "e-1", "events_api", {"type": "event_callback"}, 2, False
    )
    assert parse_frame("not json") == Other("unreadable")
    assert parse_frame('{"type": "pong"}') == Other("pong")


def test_an_events_api_envelope_is_classified_like_an_http_event() -> None:
    payload = {
        "type": "event_callback",
        "team_id": "T1",
        "event_id": "Ev1",
        "event": {"type": "app_mention", "user": "U1", "text": "hi", "ts": "1.1", "channel": "C1"},
    }
    outcome = decide(Envelope("e", "events_api", payload), "UBOT", NOW)
    assert isinstance(outcome, Accept)
    assert outcome.job["event_id"] == "Ev1"


def test_an_unknown_envelope_type_is_malformed() -> None:
    with pytest.raises(APIError):
        decide(Envelope("e", "app_rate_limited", {}), "", NOW)


def test_acks_echo_the_envelope_id_and_commands_get_a_first_answer() -> None:
    assert json.loads(ack_frame("e-1")) == {"envelope_id": "e-1"}
    command = Envelope("e-2", "slash_commands", {}, accepts_response_payload=True)
    assert json.loads(ack_frame("e-2", ack_payload(command))) == {
        "envelope_id": "e-2",
        "payload": {"response_type": "ephemeral", "text": "Working on it…"},
    }
    assert ack_payload(Envelope("e-3", "events_api", {})) is None


def highest(low: float, high: float) -> float:
    return high


def test_backoff_doubles_up_to_its_cap_and_is_nothing_after_success() -> None:
    delays = [backoff_s(n, base_s=0.5, cap_s=30, rand=highest) for n in range(9)]
    assert delays == [0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert backoff_s(1000, base_s=0.5, cap_s=30, rand=highest) == 30.0


def test_backoff_is_jittered_over_the_whole_range() -> None:
    assert backoff_s(3, base_s=1, cap_s=30, rand=lambda low, high: low) == 0.0


@pytest.mark.parametrize(
    ("reason", "greeted", "before", "after"),
    [
        ("refresh_requested", True, 4, 0),  # Slack asked: reconnect at once
        ("closed", True, 4, 1),  # a greeted link dropped: a short pause
        ("closed", False, 4, 5),  # never greeted: back off further
        ("too_many_websockets", True, 2, 3),
        ("link_disabled", True, 0, DISABLED_FAILURES),  # Socket Mode is off: the longest wait
    ],
)
def test_failures_after_a_link_ends(reason: str, greeted: bool, before: int, after: int) -> None:
    assert next_failures(reason, greeted, before) == after
