"""Validating `POST /v1/messages` bodies from actions that answer later (pure).

Body: `{"channel", "thread_ts"?, "text", "blocks"?, "key"?, "team_id"?, "ephemeral_to"?}`, the
pydantic model `PostMessage` (unknown fields refused). A valid body becomes a `ReplyJob`; an
invalid one raises `MessageError` naming the field (answered 422). `key` makes the request
idempotent: the same key posts one Slack message however often it is sent *by the same caller*.
Caller keys live in their own namespace per caller, `api:<caller>:<key>` (the caller is the
token's subject, percent-encoded so it holds no `:`; `anonymous` without authentication), so they
never collide with the dispatcher's `reply:<event>` nor with another caller's keys: one action
can never suppress another's message. Without a key every request is a new message.
`team_id` names the workspace to post in (a distributed app needs it: its token is that
workspace's); `ephemeral_to` a user who alone sees the message.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from jeeves.kit.jobs import ReplyJob
from jeeves.kit.validation import Invalid, NonBlank, check_model

MAX_TEXT = 40_000
MAX_BLOCKS = 50
MAX_KEY = 200
SlackId = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{2,30}$")]


class MessageError(Invalid):
    """A body that breaks the contract; `field` names the culprit."""


class PostMessage(BaseModel):
    """The body of `POST /v1/messages`."""

    model_config = ConfigDict(extra="forbid")

    channel: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9#_.-]{1,80}$")] = Field(
        description="Slack channel id such as C0123ABCD"
    )
    thread_ts: Annotated[str, StringConstraints(pattern=r"^\d{1,12}\.\d{1,9}$")] | None = None
    text: Annotated[NonBlank, Field(max_length=MAX_TEXT)]
    blocks: Annotated[list[dict[str, Any]], Field(max_length=MAX_BLOCKS)] | None = None
    key: Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,200}$")] | None = Field(
        default=None, description="idempotency key: 1-200 printable characters without spaces"
    )
    team_id: SlackId | None = Field(
        default=None, description="the workspace to post in (T0123ABCD); a distributed app's"
    )
    ephemeral_to: SlackId | None = Field(
        default=None, description="a user (U0123ABC) who alone sees the message"
    )


def reply_key_for(caller: str, key: str | None) -> str:
    """`api:<caller>:<key>` (a fresh unique key without one); `caller` cannot contain `:`."""
    return f"api:{quote(caller, safe='')}:{key or uuid.uuid4().hex}"


def parse_message(body: object, *, caller: str) -> ReplyJob:
    """The reply job for a `POST /v1/messages` body from `caller` (the token's subject);
    MessageError when it is not valid."""
    try:
        message = check_model(PostMessage, body)
    except Invalid as exc:
        raise MessageError(exc.field, exc.message) from None
    job: ReplyJob = {
        "reply_key": reply_key_for(caller, message.key),
        "channel": message.channel,
        "thread_ts": message.thread_ts,
        "text": message.text,
        "blocks": message.blocks,
        "event_id": None,
        "sent_at": None,
    }
    if message.team_id is not None:
        job["team_id"] = message.team_id
    if message.ephemeral_to is not None:
        job["ephemeral_to"] = message.ephemeral_to
    return job
