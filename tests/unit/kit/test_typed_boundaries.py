"""Typed boundaries (pydantic): the published action protocol schema, and what the models catch
that the hand-written validators let through. Pure; nothing faked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jeeves.kit.actions import ActionSpec
from jeeves.kit.jobs import parse_dispatch_job, parse_reply_job
from jeeves.kit.protocol import ActionEnvelope, protocol_schema, render_schema
from jeeves.kit.validation import Invalid
from support.jobs import dispatch_job

pytestmark = pytest.mark.unit
PUBLISHED = Path(__file__).parents[3] / "docs" / "action-protocol.schema.json"
DISPATCH: dict[str, Any] = dict(dispatch_job(received_at=1700000000.5))
REPLY: dict[str, Any] = {"reply_key": "reply:Ev1", "channel": "C1", "thread_ts": None, "text": "hi"}


def test_the_published_schema_is_the_models() -> None:
    assert PUBLISHED.exists(), "run `make protocol-schema`"
    assert PUBLISHED.read_text() == render_schema(), (
        "docs/action-protocol.schema.json drifted from jeeves.kit.protocol: "
        "run `make protocol-schema` and commit the result"
    )


def test_the_schema_describes_the_envelope_and_every_answer() -> None:
    schema = protocol_schema()
    envelope = schema["$defs"]["ActionEnvelope"]
    assert set(envelope["required"]) == {"id", "action", "text", "user", "channel"}
    assert envelope["properties"]["id"]["maxLength"] == 200
    answers = schema["x-jeeves-protocol"]["responses"]
    assert answers["200"] == {"$ref": "#/$defs/ActionReply"}
    assert set(answers) == {"200", "202", "4xx", "5xx"}
    json.dumps(schema)  # plain JSON


def test_the_dispatchers_envelope_validates_against_the_model() -> None:
    sent = {
        "id": "Ev1:echo",
        "action": "echo",
        "text": "hi",
        "args": {"keyword": "echo"},
        "user": {"slack_id": "U1", "team_id": "T1"},
        "channel": "C1",
        "thread_ts": None,
        "sent_at": 1700000000.5,
    }
    assert ActionEnvelope.model_validate(sent).model_dump(mode="json") == sent


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**REPLY, "blocks": [1, "two"]}, "blocks.0"),
        ({**REPLY, "text": "   "}, "text"),
        ({**REPLY, "sent_at": "yesterday"}, "sent_at"),
    ],
)
def test_reply_jobs_are_checked_item_by_item(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse_reply_job(payload)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**DISPATCH, "blocks": [1]}, "blocks.0"),
        ({**DISPATCH, "event_id": "   "}, "event_id"),
        ({**DISPATCH, "received_at": True}, "received_at"),
        ({**DISPATCH, "interaction": ["x"]}, "interaction"),
    ],
)
def test_dispatch_jobs_are_checked_item_by_item(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse_dispatch_job(payload)
    assert caught.value.field == field


def test_a_registration_field_of_the_wrong_type_is_refused_not_stringified() -> None:
    with pytest.raises(ValueError, match="'description'"):
        ActionSpec.from_json("a", {"keywords": ["a"], "url": "http://x", "description": {"a": 1}})
