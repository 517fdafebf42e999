"""Confirmation and approval of a run, as data: the prompts, the clicks, the state rules (pure).

A run that its policy says must be confirmed or approved is kept as a *pending run* (see
`jeeves.dispatcher.pending`) with a random id, and a prompt is posted:

- confirm: to the caller only (ephemeral), with *Run* / *Cancel* buttons; only the caller may
  click them, within `confirmTimeoutSeconds`;
- approval: in the thread of the request, with *Approve* / *Reject* buttons; only a listed
  approver who is not the caller may click them, within `approvalTimeoutSeconds`.

The buttons' `action_id`s start with `jeeves:` (the dispatcher's own, never an action's) and
carry the pending run's id as their value. States:

```
confirm ──Run──▶ approval ──Approve──▶ running ──▶ done
   │                 │
   ├─Cancel─▶ cancelled   ├─Reject─▶ rejected
   └─(late)─▶ expired     └─(late)─▶ expired
```
(`confirm` goes straight to `running` when no approval is needed; a run that needs only an
approval starts in `approval`.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from jeeves.kit.action_app import escape_mrkdwn as escape
from jeeves.kit.jobs import DispatchJob

PREFIX = "jeeves:"
Button = Literal["confirm", "cancel", "approve", "reject"]
BUTTONS: tuple[Button, ...] = ("confirm", "cancel", "approve", "reject")


class State(StrEnum):
    CONFIRM = "confirm"  # waiting for the caller's click
    APPROVAL = "approval"  # waiting for an approver's click
    RUNNING = "running"  # decided: the action is being called (or was)
    DONE = "done"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Click:
    """A click on one of the dispatcher's own buttons."""

    button: Button
    run_id: str


def click_of(job: DispatchJob) -> Click | None:
    """The dispatcher's button in an interaction job, or None (an action's button)."""
    interaction = job.get("interaction") or {}
    action_id = interaction.get("action_id")
    value = interaction.get("value")
    if not isinstance(action_id, str) or not action_id.startswith(PREFIX):
        return None
    button = action_id.removeprefix(PREFIX)
    if button not in BUTTONS or not isinstance(value, str) or not value:
        return None
    return Click(button, value)


def is_own(job: DispatchJob) -> bool:
    """True for a click on a `jeeves:` button, even a malformed one (never an action's)."""
    action_id = (job.get("interaction") or {}).get("action_id")
    return isinstance(action_id, str) and action_id.startswith(PREFIX)


def _button(button: Button, text: str, run_id: str, style: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "action_id": PREFIX + button,
        "text": {"type": "plain_text", "text": text},
        "value": run_id,
    }
    if style:
        element["style"] = style
    return element


def _prompt(text: str, buttons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {"type": "actions", "block_id": "jeeves_run", "elements": buttons},
    ]


def minutes(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds >= 60:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def confirm_prompt(run_id: str, what: str, timeout_s: int) -> tuple[str, list[dict[str, Any]]]:
    """The caller's private question: run `what` now? (text and blocks)"""
    text = f"Run {what}? This button works for {minutes(timeout_s)}, and only for you."
    buttons = [_button("confirm", "Run", run_id, "primary"), _button("cancel", "Cancel", run_id)]
    return text, _prompt(text, buttons)


def approval_prompt(
    run_id: str, what: str, requester: str, approvers: str, timeout_s: int
) -> tuple[str, list[dict[str, Any]]]:
    """The request posted in the thread for a second person."""
    text = (
        f"<@{requester}> asks to run {what}. It needs approval by {approvers} "
        f"(someone other than <@{requester}>) within {minutes(timeout_s)}."
    )
    buttons = [
        _button("approve", "Approve", run_id, "primary"),
        _button("reject", "Reject", run_id, "danger"),
    ]
    return text, _prompt(text, buttons)


def shown(text: str) -> str:
    """User or registration text placed in a prompt."""
    return escape(text)


def expired(deadline: datetime | None, now: datetime) -> bool:
    return deadline is not None and now > deadline


# What the clicker reads (privately) when a click changes nothing.
NOT_YOURS = "Only <@{requester}> can answer this; ask them, or run it yourself."
GONE = "I no longer know this request (it may have been cleaned up). Ask again if it still matters."
ALREADY = "This request was already answered ({state})."
TOO_LATE = "This request expired before it was answered. Ask again if it still matters."
CANCELLED_TEXT = "Cancelled: {what} will not run."
REJECTED_TEXT = "<@{approver}> rejected {what} asked by <@{requester}>: it will not run."
APPROVED_NOTE = "<@{approver}> approved {what} asked by <@{requester}>."
