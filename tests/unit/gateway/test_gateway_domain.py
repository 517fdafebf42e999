"""The gateway's pure decisions: Slack signatures, event filters, command and click parsing.

Nothing is faked and nothing runs: these are functions of bytes, a secret and a clock value.
Signatures are computed here with hashlib, independently of slack_sdk.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlencode

import pytest

from jeeves.gateway.domain import check_signature
from jeeves.kit.errors import APIError
from jeeves.kit.slack.events import (
    Accept,
    Challenge,
    Ignore,
    parse_command,
    parse_event,
    parse_interaction,
    type_label,
)

pytestmark = pytest.mark.unit
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = 1_700_000_000.0
BOT = "UBOT"


def sign(body: bytes, timestamp: str, secret: str = SECRET) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def callback(event: dict[str, Any], **envelope: Any) -> bytes:
    body = {"type": "event_callback", "team_id": "T1", "event_id": "Ev1", "event": event}
    return json.dumps({**body, **envelope}).encode()


MENTION = {"type": "app_mention", "user": "U1", "text": "<@UBOT> weather Lisbon", "ts": "1.1",
           "channel": "C1"}  # fmt: skip
DM = {"type": "message", "channel_type": "im", "user": "U1", "text": "help", "ts": "2.2",
      "channel": "D1"}  # fmt: skip


class TestSignature:
    def test_a_correct_signature_passes(self) -> None:
        body = b'{"type":"event_callback"}'
        ts = str(int(NOW))
        check_signature(SECRET, body, ts, sign(body, ts), NOW)

    @pytest.mark.parametrize(
        ("timestamp", "signature", "code"),
        [
            (None, "v0=00", "invalid_signature"),
            (str(int(NOW)), None, "invalid_signature"),
            ("yesterday", "v0=00", "invalid_signature"),
            (str(int(NOW)), "v0=" + "0" * 64, "invalid_signature"),
            (str(int(NOW) - 301), None, "invalid_signature"),
        ],
    )
    def test_missing_or_wrong_headers_are_401(
        self, timestamp: str | None, signature: str | None, code: str
    ) -> None:
        with pytest.raises(APIError) as caught:
            check_signature(SECRET, b"{}", timestamp, signature, NOW)
        assert (caught.value.status, caught.value.code) == (401, code)

    @pytest.mark.parametrize("offset", [301, -301, 86_400])
    def test_timestamps_more_than_five_minutes_off_are_stale(self, offset: int) -> None:
        ts = str(int(NOW) + offset)
        with pytest.raises(APIError) as caught:
            check_signature(SECRET, b"{}", ts, sign(b"{}", ts), NOW)
        assert (caught.value.status, caught.value.code) == (401, "stale_timestamp")

    def test_a_signature_made_with_another_secret_or_body_fails(self) -> None:
        ts = str(int(NOW))
        for signature in (sign(b"{}", ts, "other-secret"), sign(b"{ }", ts)):
            with pytest.raises(APIError):
                check_signature(SECRET, b"{}", ts, signature, NOW)

    def test_four_minutes_of_skew_is_fine(self) -> None:
        ts = str(int(NOW) - 240)
        check_signature(SECRET, b"{}", ts, sign(b"{}", ts), NOW)


class TestEvents:
    def test_url_verification_answers_the_challenge(self) -> None:
        body = json.dumps({"type": "url_verification", "challenge": "abc"}).encode()
        assert parse_event(body, BOT, NOW) == Challenge("abc")

    def test_a_channel_mention_becomes_a_message_job_answered_in_the_channel(self) -> None:
        outcome = parse_event(callback(MENTION), BOT, NOW)
        assert isinstance(outcome, Accept)
        assert outcome.type == "app_mention"
        assert outcome.job == {
            "event_id": "Ev1",
            "kind": "message",
            "team_id": "T1",
            "user_id": "U1",
            "channel": "C1",
            "ts": "1.1",
            "thread_ts": None,
            "text": "<@UBOT> weather Lisbon",
            "blocks": None,
            "bot_user_id": BOT,
            "received_at": NOW,
        }

    def test_a_mention_inside_a_thread_is_answered_in_that_thread(self) -> None:
        outcome = parse_event(callback({**MENTION, "thread_ts": "0.5"}), BOT, NOW)
        assert isinstance(outcome, Accept)
        assert outcome.job["thread_ts"] == "0.5"

    def test_a_direct_message_is_answered_inline_or_in_its_thread(self) -> None:
        outcome = parse_event(callback(DM), BOT, NOW)
        assert isinstance(outcome, Accept)
        assert (outcome.job["channel"], outcome.job["thread_ts"]) == ("D1", None)
        threaded = parse_event(callback({**DM, "thread_ts": "0.9"}), BOT, NOW)
        assert isinstance(threaded, Accept)
        assert threaded.job["thread_ts"] == "0.9"

    @pytest.mark.parametrize(
        ("event", "reason"),
        [
            ({**DM, "bot_id": "B1"}, "sent by a bot"),
            ({**DM, "user": BOT}, "sent by this bot"),
            ({**DM, "subtype": "message_changed"}, "subtype message_changed"),
            ({**DM, "subtype": "message_deleted"}, "subtype message_deleted"),
            ({**DM, "subtype": "channel_join"}, "subtype channel_join"),
            ({**DM, "subtype": "bot_message"}, "subtype bot_message"),
            ({**DM, "channel_type": "channel"}, "channel message without a mention"),
            ({**DM, "user": ""}, "no user"),
            ({**MENTION, "user": "UOTHERBOT"}, "sent by this bot"),
        ],
    )
    def test_bots_edits_and_system_messages_are_ignored(
        self, event: dict[str, Any], reason: str
    ) -> None:
        auth = [{"user_id": "UOTHERBOT", "is_bot": True}]
        outcome = parse_event(callback(event, authorizations=auth), BOT, NOW)
        assert isinstance(outcome, Ignore)
        assert outcome.reason == reason

    def test_user_subtypes_are_kept(self) -> None:
        outcome = parse_event(callback({**DM, "subtype": "file_share"}), BOT, NOW)
        assert isinstance(outcome, Accept)

    def test_unknown_event_types_are_ignored(self) -> None:
        outcome = parse_event(callback({"type": "reaction_added", "user": "U1"}), BOT, NOW)
        assert outcome == Ignore("reaction_added", "event type not handled")
        assert parse_event(b'{"type": "app_rate_limited"}', BOT, NOW) == Ignore(
            "app_rate_limited", "not an event callback"
        )
        assert type_label("reaction_added") == "other"

    @pytest.mark.parametrize(
        "body",
        [
            b"not json",
            b"[1, 2]",
            b'{"type": "event_callback", "event": {"type": "message"}}',
            b'{"type": "event_callback", "event_id": "Ev1", "event": "x"}',
            b'{"type": "url_verification"}',
            b"\xff\xfe",
        ],
    )
    def test_malformed_bodies_are_400(self, body: bytes) -> None:
        with pytest.raises(APIError) as caught:
            parse_event(body, BOT, NOW)
        assert (caught.value.status, caught.value.code) == (400, "malformed_body")


COMMAND = {
    "team_id": "T1",
    "user_id": "U1",
    "channel_id": "C1",
    "command": "/jeeves",
    "text": "weather in Porto & more",
    "response_url": "https://hooks.slack.com/commands/1",
    "trigger_id": "13345224609.738474920.8088930838d88f008e0",
}


class TestCommands:
    def test_a_slash_command_becomes_a_command_job(self) -> None:
        outcome = parse_command(urlencode(COMMAND).encode(), NOW)
        assert outcome.job == {
            "event_id": "command:13345224609.738474920.8088930838d88f008e0",
            "kind": "command",
            "team_id": "T1",
            "user_id": "U1",
            "channel": "C1",
            "ts": None,
            "thread_ts": None,
            "text": "weather in Porto & more",
            "response_url": "https://hooks.slack.com/commands/1",
            "received_at": NOW,
        }

    @pytest.mark.parametrize("missing", ["team_id", "user_id", "channel_id", "trigger_id"])
    def test_a_command_without_its_ids_is_400(self, missing: str) -> None:
        form = {k: v for k, v in COMMAND.items() if k != missing}
        with pytest.raises(APIError, match=missing):
            parse_command(urlencode(form).encode(), NOW)

    @pytest.mark.parametrize("body", [b"\xff\xfe", b"a=1&&&b", b""])
    def test_a_broken_form_is_400(self, body: bytes) -> None:
        with pytest.raises(APIError) as caught:
            parse_command(body, NOW)
        assert caught.value.status == 400


CLICK = {
    "type": "block_actions",
    "team": {"id": "T1"},
    "user": {"id": "U1"},
    "channel": {"id": "C1"},
    "container": {"type": "message", "message_ts": "5.5", "channel_id": "C1"},
    "trigger_id": "trig-1",
    "response_url": "https://hooks.slack.com/actions/1",
    "actions": [{"action_id": "retry", "block_id": "b1", "value": "weather Porto",
                 "action_ts": "6.6"}],
}  # fmt: skip


def interaction(payload: dict[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


class TestInteractions:
    def test_a_button_click_becomes_an_interaction_job(self) -> None:
        outcome = parse_interaction(interaction(CLICK), NOW)
        assert isinstance(outcome, Accept)
        assert outcome.job == {
            "event_id": "interaction:trig-1",
            "kind": "interaction",
            "team_id": "T1",
            "user_id": "U1",
            "channel": "C1",
            "ts": "5.5",
            "thread_ts": "5.5",
            "text": "weather Porto",
            "response_url": "https://hooks.slack.com/actions/1",
            "interaction": {"action_id": "retry", "value": "weather Porto", "block_id": "b1"},
            "received_at": NOW,
        }

    def test_other_interaction_types_are_ignored(self) -> None:
        outcome = parse_interaction(interaction({"type": "view_submission"}), NOW)
        assert outcome == Ignore("view_submission", "interaction type not handled")

    @pytest.mark.parametrize(
        "body",
        [
            b"nopayload=1",
            urlencode({"payload": "{not json"}).encode(),
            interaction({**CLICK, "actions": []}),
            interaction({**CLICK, "user": {}}),
        ],
    )
    def test_broken_interactions_are_400(self, body: bytes) -> None:
        with pytest.raises(APIError) as caught:
            parse_interaction(body, NOW)
        assert caught.value.status == 400
