"""The emulator signs like Slack: slack_sdk's own SignatureVerifier accepts what it produces.

Real: slack_sdk's verifier. Nothing is faked; no processes.
"""

from __future__ import annotations

import time

import pytest
from slack_sdk.signature import SignatureVerifier

from jeeves.emulators.slack.domain.signing import sign, signed_headers

pytestmark = pytest.mark.unit
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def test_signature_matches_slack_sdk() -> None:
    body = b'{"type":"event_callback","event_id":"Ev1"}'
    timestamp = int(time.time())
    verifier = SignatureVerifier(SECRET)
    assert sign(SECRET, timestamp, body) == verifier.generate_signature(
        timestamp=str(timestamp), body=body
    )
    headers = signed_headers(SECRET, timestamp, body)
    assert verifier.is_valid_request(body, headers)


def test_known_vector_from_slacks_documentation() -> None:
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
        b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect"
        b"&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554"
        b"%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    assert (
        sign(SECRET, 1531420618, body)
        == "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    )


def test_any_change_breaks_the_signature() -> None:
    verifier = SignatureVerifier(SECRET)
    timestamp = int(time.time())
    headers = signed_headers(SECRET, timestamp, b"original")
    assert not verifier.is_valid_request(b"tampered", headers)
    assert not SignatureVerifier("other-secret").is_valid_request(b"original", headers)
