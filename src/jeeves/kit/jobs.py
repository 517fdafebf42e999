"""The payloads that travel on the durable queue between gateway, dispatcher and poster.

These are the contract between the three pipeline services; each side validates what it reads.
Queue entrypoints: `dispatch` (gateway → dispatcher; the dispatcher's scheduler queues its
scheduled runs there too), `reply` (dispatcher/poster API → poster) and `audit` (dispatcher →
its own worker → the data service's audit log).
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

DISPATCH = "dispatch"
REPLY = "reply"
AUDIT = "audit"


class ScheduledRun(TypedDict):
    """What a scheduled run carries (kind `schedule`): which schedule, which tick."""

    key: str  # `action:<name>` or `alert:<action>:<team>:<user>`
    action: str
    tick: str  # ISO time of the tick
    missed: int  # ticks it stands for beyond its own (0: on time; >0: a catch-up)
    trigger: Literal["schedule", "alert"]


class DispatchJob(TypedDict):
    """One inbound user interaction, normalised by the gateway."""

    event_id: str  # Slack event_id, or a derived unique id for commands/interactions
    kind: Literal["message", "command", "interaction", "schedule"]
    team_id: str
    user_id: str
    channel: str
    ts: str | None  # the message's own ts (None for slash commands)
    thread_ts: str | None  # thread to answer in (None: answer in the channel)
    text: str  # raw text as Slack sent it (mentions and links still encoded)
    blocks: NotRequired[list[dict[str, Any]] | None]  # rich_text blocks when Slack sent them
    response_url: NotRequired[str | None]  # slash commands and interactions
    interaction: NotRequired[dict[str, Any] | None]  # {"action_id", "value", "block_id"} for clicks
    # The bot's own user id in this team (from the event's `authorizations`), for removing its
    # leading mention: each workspace a distributed app is installed in has its own bot user.
    bot_user_id: NotRequired[str | None]
    received_at: float  # epoch seconds when the gateway accepted it
    schedule: NotRequired[ScheduledRun | None]  # kind `schedule` only


class ReplyJob(TypedDict):
    """One message to post to Slack."""

    reply_key: str  # idempotency key: one Slack message per key, ever
    channel: str
    thread_ts: str | None
    text: str
    blocks: NotRequired[list[dict[str, Any]] | None]
    event_id: NotRequired[str | None]  # the inbound event this answers, when there is one
    sent_at: NotRequired[float | None]  # when the inbound event was received, for latency
    # Slack's response_url of the command or click this answers (valid 30 min, 5 uses): the
    # poster answers there first, so a channel the bot is not in still gets the reply.
    response_url: NotRequired[str | None]
    # A message that changes over time (an alert group): the content's version, from 1. Jobs
    # of one reply_key with a higher version replace the message in place (chat.update); the
    # newest version known is what gets posted or shown, never an older one. Never with a
    # response_url.
    version: NotRequired[int | None]
    # The workspace to post in: its installation's bot token is used (distributed apps).
    team_id: NotRequired[str | None]
    # Post privately to this user ("only visible to you"): chat.postEphemeral, or an ephemeral
    # response_url answer.
    ephemeral_to: NotRequired[str | None]
