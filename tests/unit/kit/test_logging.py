"""The redaction processor: configured secrets and credential-looking fields never survive."""

from __future__ import annotations

import pytest

from jeeves.kit.logging import REDACTED, Redactor

pytestmark = pytest.mark.unit


def test_configured_secret_is_removed_everywhere() -> None:
    redact = Redactor(["hunter2-secret"])
    event = redact(
        None, "info", {"event": "x hunter2-secret y", "nested": {"a": ["hunter2-secret"]}}
    )
    assert "hunter2-secret" not in repr(event)
    assert event["event"] == f"x {REDACTED} y"


def test_credential_fields_and_bearer_tokens_are_masked() -> None:
    redact = Redactor([])
    event = redact(
        None,
        "info",
        {
            "authorization": "Basic abc",
            "headers": {"X-Slack-Signature": "v0=1"},
            "msg": "Bearer a.b.c",
        },
    )
    assert event["authorization"] == REDACTED
    assert event["headers"]["X-Slack-Signature"] == REDACTED
    assert event["msg"] == f"Bearer {REDACTED}"


def test_short_values_are_not_treated_as_secrets() -> None:
    # A 1-3 character "secret" would redact half the log; it is ignored.
    assert Redactor(["a"])(None, "info", {"event": "a cat"})["event"] == "a cat"
