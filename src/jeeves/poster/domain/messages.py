"""Validating `POST /v1/messages` bodies from actions that answer later (pure).

Body: `{"channel", "thread_ts"?, "text", "blocks"?, "key"?, "team_id"?, "ephemeral_to"?}`. A
valid body becomes a `ReplyJob`; an invalid one raises `MessageError` naming the field
(answered 422). `key` makes the request idempotent: the same key posts one Slack message
however often it is sent. Caller keys live in their own namespace (`api:<key>`), so they never
collide with the dispatcher's `reply:<event>`. Without a key every request is a new message.
`team_id` names the workspace to post in (a distributed app needs it: its token is that
workspace's); `ephemeral_to` a user who alone sees the message.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from jeeves.kit.jobs import ReplyJob

MAX_TEXT = 40_000
MAX_BLOCKS = 50
MAX_KEY = 200
_CHANNEL = re.compile(r"^[A-Za-z0-9#_.-]{1,80}$")
_TS = re.compile(r"^\d{1,12}\.\d{1,9}$")
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
_SLACK_ID = re.compile(r"^[A-Z0-9]{2,30}$")
FIELDS = frozenset({"channel", "thread_ts", "text", "blocks", "key", "team_id", "ephemeral_to"})


class MessageError(ValueError):
    """A body that breaks the contract; `field` names the culprit."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"'{field_name}' {message}")
        self.field = field_name


def _text(body: dict[str, Any]) -> str:
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise MessageError("text", "must be a non-empty string")
    if len(text) > MAX_TEXT:
        raise MessageError("text", f"must be at most {MAX_TEXT} characters")
    return text


def _blocks(body: dict[str, Any]) -> list[dict[str, Any]] | None:
    blocks = body.get("blocks")
    if blocks is None:
        return None
    if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
        raise MessageError("blocks", "must be a list of Block Kit objects")
    if len(blocks) > MAX_BLOCKS:
        raise MessageError("blocks", f"must hold at most {MAX_BLOCKS} blocks")
    return blocks


def _optional(body: dict[str, Any], name: str, pattern: re.Pattern[str], what: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not pattern.match(value):
        raise MessageError(name, f"must be {what}")
    return value


def parse_message(body: object) -> ReplyJob:
    """The reply job for a `POST /v1/messages` body; MessageError when it is not valid."""
    if not isinstance(body, dict):
        raise MessageError("body", "must be a JSON object")
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise MessageError(unknown[0], "is not a known field")
    channel = body.get("channel")
    if not isinstance(channel, str) or not _CHANNEL.match(channel):
        raise MessageError("channel", "must be a Slack channel id such as C0123ABCD")
    thread_ts = _optional(body, "thread_ts", _TS, "a Slack ts such as 1700000000.000100")
    key = _optional(body, "key", _KEY, f"1-{MAX_KEY} printable characters without spaces")
    job: ReplyJob = {
        "reply_key": f"api:{key}" if key else f"api:{uuid.uuid4().hex}",
        "channel": channel,
        "thread_ts": thread_ts,
        "text": _text(body),
        "blocks": _blocks(body),
        "event_id": None,
        "sent_at": None,
    }
    team_id = _optional(body, "team_id", _SLACK_ID, "a Slack team id such as T0123ABCD")
    ephemeral_to = _optional(body, "ephemeral_to", _SLACK_ID, "a Slack user id such as U0123ABC")
    if team_id is not None:
        job["team_id"] = team_id
    if ephemeral_to is not None:
        job["ephemeral_to"] = ephemeral_to
    return job
