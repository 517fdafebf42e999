"""Shapes of what the emulator sends: Events API envelopes, slash commands, block_actions.

Pure builders; nothing is faked. The expected shapes are Slack's documented payloads.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlencode

import pytest

from jeeves.emulators.slack.domain.envelopes import (
    Identity,
    block_actions_payload,
    channel_type,
    event_callback,
    interactivity_form,
    mentions,
    message_event,
    new_event_id,
    new_trigger_id,
    rich_text_elements,
    slash_command_form,
    with_mention,
)

pytestmark = pytest.mark.unit
ID = Identity()


def test_app_mention_envelope_has_every_field_an_app_reads() -> None:
    event = message_event(
        ID,
        event_type="app_mention",
        user="U0ALICE",
        text="<@U0JEEVES> weather in Lisbon",
        channel="C0GENERAL",
        ts="1700000000.000100",
    )
    envelope = event_callback(ID, event, event_id="Ev0123456789", event_time=1700000000)
    assert envelope["type"] == "event_callback"
    assert envelope["event_id"] == "Ev0123456789"
    assert envelope["event_time"] == 1700000000
    assert envelope["team_id"] == "T0TEAM"
    assert envelope["api_app_id"] == "A0JEEVES"
    assert envelope["authorizations"][0]["user_id"] == "U0JEEVES"
    assert envelope["authorizations"][0]["is_bot"] is True
    inner = envelope["event"]
    assert inner["type"] == "app_mention"
    assert (inner["user"], inner["channel"], inner["ts"]) == (
        "U0ALICE",
        "C0GENERAL",
        "1700000000.000100",
    )
    assert inner["event_ts"] == inner["ts"]
    assert "thread_ts" not in inner
    assert "channel_type" not in inner
    [block] = inner["blocks"]
    assert block["type"] == "rich_text"
    assert block["elements"][0]["elements"] == [
        {"type": "user", "user_id": "U0JEEVES"},
        {"type": "text", "text": " weather in Lisbon"},
    ]
    json.dumps(envelope)  # all JSON-serialisable


def test_thread_reply_message_event() -> None:
    event = message_event(
        ID,
        event_type="message",
        user="U0BOB",
        text="more please",
        channel="D0BOB",
        ts="1700000001.000200",
        thread_ts="1700000000.000100",
        parent_user_id="U0JEEVES",
    )
    assert event["thread_ts"] == "1700000000.000100"
    assert event["parent_user_id"] == "U0JEEVES"
    assert event["channel_type"] == "im"


def test_rich_text_elements_decode_slack_entities() -> None:
    elements = rich_text_elements("hi <@U1> see <#C2|general> and <https://x.io|x> <!here>")
    assert elements == [
        {"type": "text", "text": "hi "},
        {"type": "user", "user_id": "U1"},
        {"type": "text", "text": " see "},
        {"type": "channel", "channel_id": "C2"},
        {"type": "text", "text": " and "},
        {"type": "link", "url": "https://x.io", "text": "x"},
        {"type": "text", "text": " "},
        {"type": "broadcast", "range": "here"},
    ]
    assert rich_text_elements("") == []


def test_mentions_and_channel_types() -> None:
    assert mentions("<@U0JEEVES> hi", "U0JEEVES")
    assert mentions("hey <@U0JEEVES|jeeves>", "U0JEEVES")
    assert not mentions("@jeeves hi", "U0JEEVES")
    assert with_mention("help", "U0JEEVES") == "<@U0JEEVES> help"
    assert with_mention("<@U0JEEVES> help", "U0JEEVES") == "<@U0JEEVES> help"
    assert [channel_type(c) for c in ("C1", "D1", "G1")] == ["channel", "im", "group"]


def test_slash_command_form_round_trips_as_slack_sends_it() -> None:
    form = slash_command_form(
        ID,
        user="U0ALICE",
        user_name="alice",
        channel="C0GENERAL",
        channel_name="general",
        command="/jeeves",
        text="weather in Lisbon",
        response_url="http://127.0.0.1:1/_emulator/hooks/abc",
        trigger_id="1.2.abc",
    )
    decoded = {k: v[0] for k, v in parse_qs(urlencode(form), keep_blank_values=True).items()}
    assert decoded["command"] == "/jeeves"
    assert decoded["text"] == "weather in Lisbon"
    expected = {"token", "team_id", "channel_id", "user_id", "response_url", "trigger_id"}
    assert expected <= decoded.keys()


def test_block_actions_payload_travels_in_a_payload_field() -> None:
    payload = block_actions_payload(
        ID,
        user="U0ALICE",
        user_name="alice",
        channel="C0GENERAL",
        channel_name="general",
        action_id="replay",
        value="42",
        block_id="actions",
        message={"ts": "1700000000.000100", "text": "dead letter 42"},
        response_url="http://127.0.0.1:1/_emulator/hooks/x",
        trigger_id="1.2.abc",
        action_ts="1700000001.000000",
    )
    form = interactivity_form(payload)
    decoded = json.loads(parse_qs(urlencode(form))["payload"][0])
    assert decoded["type"] == "block_actions"
    assert decoded["actions"][0]["action_id"] == "replay"
    assert decoded["actions"][0]["value"] == "42"
    assert decoded["container"]["message_ts"] == "1700000000.000100"
    assert decoded["user"]["id"] == "U0ALICE"


def test_ids_look_like_slacks() -> None:
    assert re.fullmatch(r"Ev[A-Z0-9]{10}", new_event_id())
    assert new_event_id() != new_event_id()
    assert re.fullmatch(r"1700000000\.\d+\.[0-9a-f]{32}", new_trigger_id(1700000000.5))


def test_bot_and_subtype_messages_carry_what_apps_filter_on() -> None:
    event = message_event(
        ID,
        event_type="message",
        user="U0JEEVES",
        text="Lisbon: 21°C",
        channel="C0GENERAL",
        ts="1700000002.000300",
        bot_id="B0JEEVES",
    )
    assert event["bot_id"] == "B0JEEVES"
    assert "client_msg_id" not in event
    assert "subtype" not in event
    edited = message_event(
        ID,
        event_type="message",
        user="U0ALICE",
        text="x",
        channel="C0GENERAL",
        ts="1700000003.000400",
        subtype="message_changed",
    )
    assert edited["subtype"] == "message_changed"
