"""The payloads that travel on the durable queue between gateway, dispatcher and poster.

These are the contract between the three pipeline services; each side validates what it reads
with pydantic (`parse_dispatch_job`, `parse_reply_job`): a job that breaks the contract names its
first bad field and can never succeed (the worker dead-letters it).
Queue entrypoints: `dispatch` (gateway → dispatcher; the dispatcher's scheduler queues its
scheduled runs there too), `reply` (dispatcher/poster API → poster) and `audit` (dispatcher →
its own worker → the data service's audit log).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import (
    Annotated,
    Any,
    Literal,
    NotRequired,  # pydantic needs these on Python 3.11
)

from pydantic import Field, TypeAdapter
from typing_extensions import TypedDict

from jeeves.kit.validation import EpochSeconds, Invalid, NonBlank, check

DISPATCH = "dispatch"
REPLY = "reply"
AUDIT = "audit"


class ScheduledRun(TypedDict):
    """What a scheduled run carries (kind `schedule`): which schedule, which tick."""

    key: NonBlank  # `action:<name>` or `alert:<action>:<team>:<user>`
    action: NonBlank
    tick: NonBlank  # ISO time of the tick
    # ticks it stands for beyond its own (0: on time; >0: a catch-up)
    missed: Annotated[int, Field(strict=True, ge=0)]
    trigger: Literal["schedule", "alert"]


Blocks = list[dict[str, Any]]  # Slack Block Kit objects


class DispatchJob(TypedDict):
    """One inbound user interaction, normalised by the gateway."""

    event_id: NonBlank  # Slack event_id, or a derived unique id for commands/interactions
    kind: Literal["message", "command", "interaction", "schedule"]
    team_id: NonBlank
    user_id: NonBlank
    channel: NonBlank
    ts: str | None  # the message's own ts (None for slash commands)
    thread_ts: str | None  # thread to answer in (None: answer in the channel)
    text: str  # raw text as Slack sent it (mentions and links still encoded)
    blocks: NotRequired[Blocks | None]  # rich_text blocks when Slack sent them
    response_url: NotRequired[str | None]  # slash commands and interactions
    interaction: NotRequired[dict[str, Any] | None]  # {"action_id", "value", "block_id"} for clicks
    # The bot's own user id in this team (from the event's `authorizations`), for removing its
    # leading mention: each workspace a distributed app is installed in has its own bot user.
    bot_user_id: NotRequired[str | None]
    received_at: EpochSeconds  # when the gateway accepted it
    schedule: NotRequired[ScheduledRun | None]  # kind `schedule` only


class ReplyJob(TypedDict):
    """One message to post to Slack."""

    reply_key: NonBlank  # idempotency key: one Slack message per key, ever
    channel: NonBlank
    thread_ts: str | None
    text: NonBlank
    blocks: NotRequired[Blocks | None]
    event_id: NotRequired[str | None]  # the inbound event this answers, when there is one
    sent_at: NotRequired[EpochSeconds | None]  # when the inbound event was received (latency)
    # Slack's response_url of the command or click this answers (valid 30 min, 5 uses): the
    # poster answers there first, so a channel the bot is not in still gets the reply.
    response_url: NotRequired[str | None]
    # A message that changes over time (an alert group): the content's version, from 1. Jobs
    # of one reply_key with a higher version replace the message in place (chat.update); the
    # newest version known is what gets posted or shown, never an older one. Never with a
    # response_url.
    version: NotRequired[Annotated[int, Field(strict=True, ge=1)] | None]
    # The workspace to post in: its installation's bot token is used (distributed apps).
    team_id: NotRequired[str | None]
    # Post privately to this user ("only visible to you"): chat.postEphemeral, or an ephemeral
    # response_url answer.
    ephemeral_to: NotRequired[str | None]


DISPATCH_JOB: TypeAdapter[DispatchJob] = TypeAdapter(DispatchJob)
REPLY_JOB: TypeAdapter[ReplyJob] = TypeAdapter(ReplyJob)


def parse_dispatch_job(payload: Mapping[str, Any]) -> DispatchJob:
    """`payload` as a DispatchJob (absent text/ts/thread_ts default to empty); Invalid (a
    ValueError) naming the first field that breaks the contract."""
    job = check(DISPATCH_JOB, {"text": "", "ts": None, "thread_ts": None, **payload})
    if job["kind"] == "schedule" and not job.get("schedule"):
        raise Invalid("schedule", "a 'schedule' job needs its 'schedule' object")
    if job["kind"] != "schedule" and job.get("schedule") is not None:
        raise Invalid("schedule", "belongs to kind 'schedule' only")
    return job


def parse_reply_job(payload: Mapping[str, Any]) -> ReplyJob:
    """`payload` as a ReplyJob (absent thread_ts defaults to None); Invalid naming the first
    bad field. A versioned reply is edited in place, so it has no response_url nor a private
    recipient."""
    job = check(REPLY_JOB, {"thread_ts": None, **payload})
    if job.get("version") is not None and (job.get("response_url") or job.get("ephemeral_to")):
        raise Invalid("version", "excludes 'response_url' and 'ephemeral_to'")
    return job
