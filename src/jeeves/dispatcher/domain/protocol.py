"""The dispatcher's side of the action protocol (DESIGN.md "Action protocol"), as pure functions.

`act_request` builds the JSON body of `POST {url}/v1/act`; `interpret` reads the answer:
200 with a reply → post it (to the asker alone when the reply says `"ephemeral": true`);
202 → the action posts later itself; 4xx → a permanent refusal the user is told about;
5xx → a transient failure the queue retries. Keys are derived from the
Slack event id, so every retry of one event carries the same `id` and the same reply key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from jeeves.dispatcher.domain.replies import invalid_reply_text, rejected_text
from jeeves.kit.actions import ActionSpec
from jeeves.kit.bucketing import in_rollout
from jeeves.kit.jobs import DispatchJob
from jeeves.kit.protocol import ActionEnvelope, ActionReply, ActionUser

MAX_REPLY_TEXT = 40_000  # Slack truncates chat.postMessage text beyond this


class Outcome(StrEnum):
    """How one dispatch ended (the `outcome` label of jeeves_dispatch_total)."""

    REPLIED = "replied"  # the action answered 200 with a reply
    DEFERRED = "deferred"  # 202: the action posts through poster later
    REJECTED = "rejected"  # 4xx: the user was told why
    INVALID = "invalid_reply"  # 2xx we could not read: the user was told
    FAILED = "failed"  # 5xx: retried by the queue, then dead-lettered
    TIMEOUT = "timeout"  # no answer within the spec's timeout: retried
    UNREACHABLE = "unreachable"  # connection refused/reset: retried
    BUILTIN = "builtin"  # help, login, empty message
    UNKNOWN = "unknown"  # no keyword matched
    DISABLED = "disabled"  # the action is turned off
    BAD_ARGS = "bad_args"  # the message broke a typed command: the user was told how
    DENIED = "denied"  # the policy does not let this caller run it here (told privately)
    ASKED = "asked"  # a confirmation or approval was asked for; the run waits
    DECLINED = "declined"  # cancelled, rejected or expired: the action was not called
    SKIPPED = "skipped"  # a scheduled run of an action that is gone or turned off

    @property
    def retried(self) -> bool:
        return self in (Outcome.FAILED, Outcome.TIMEOUT, Outcome.UNREACHABLE)


@dataclass(frozen=True)
class Reply:
    text: str
    blocks: list[dict[str, Any]] | None = None
    ephemeral: bool = False  # only the person who asked sees it (a private link, say)


@dataclass(frozen=True)
class Answer:
    """What an action's HTTP answer means for the user."""

    outcome: Outcome
    reply: Reply | None = None  # None: nothing to post now
    detail: str = ""  # for logs and dead letters; never message text


def action_call_id(event_id: str, action: str) -> str:
    """The `id` (idempotency key) an action receives for `event_id`; stable across retries."""
    return f"{event_id}:{action}"


def reply_key(event_id: str) -> str:
    """The poster's idempotency key for the dispatcher's reply to `event_id`."""
    return f"reply:{event_id}"


def dead_letter_key(event_id: str) -> str:
    """The poster's key for the one notice that the message to `event_id` failed."""
    return f"dead:{event_id}"


def action_url(spec: ActionSpec, user_id: str) -> str:
    """The base URL to call: the canary's for the user's deterministic bucket, else the main."""
    if spec.canary is not None and in_rollout(spec.name, user_id, spec.canary.percent):
        return spec.canary.url.rstrip("/")
    return spec.url


def act_request(
    job: DispatchJob, spec: ActionSpec, text: str, args: Mapping[str, Any]
) -> dict[str, Any]:
    """The JSON body of `POST /v1/act` for this job.

    `text` is what the user wrote after the keyword ("in Berlin" for "weather in Berlin");
    `args` carries the context: `keyword` (which keyword matched) and `message` (the whole
    cleaned message), or `interaction` for a button click.
    """
    envelope = ActionEnvelope(
        id=action_call_id(job["event_id"], spec.name),
        action=spec.name,
        text=text,
        args=dict(args),
        user=ActionUser(slack_id=job["user_id"], team_id=job["team_id"]),
        channel=job["channel"],
        thread_ts=job["thread_ts"],
        sent_at=job["received_at"],
    )
    return envelope.model_dump(mode="json")


def _error_message(body: object) -> str | None:
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping) and isinstance(error.get("message"), str):
            message = " ".join(str(error["message"]).split())
            return message or None
    return None


def _reply_of(body: object) -> Reply | None:
    """The reply of a 200 answer (`jeeves.kit.protocol.ActionReply`), or None if unreadable."""
    try:
        answer = ActionReply.model_validate(body)
    except ValidationError:
        return None
    return Reply(
        text=answer.reply.text[:MAX_REPLY_TEXT],
        blocks=answer.reply.blocks,
        ephemeral=answer.reply.ephemeral,
    )


def interpret(spec: ActionSpec, status: int, body: object) -> Answer:
    """Classify an action's answer (`body` is the decoded JSON, or None when it was not JSON)."""
    if status == 202:
        return Answer(Outcome.DEFERRED)
    if 200 <= status < 300:
        reply = _reply_of(body)
        if reply is None:
            detail = f"status {status} without a readable reply"
            return Answer(Outcome.INVALID, Reply(invalid_reply_text(spec)), detail)
        return Answer(Outcome.REPLIED, reply)
    if 400 <= status < 500 and status not in (408, 429):
        message = _error_message(body)
        return Answer(Outcome.REJECTED, Reply(rejected_text(spec, status, message)), str(status))
    return Answer(Outcome.FAILED, None, f"status {status}")
