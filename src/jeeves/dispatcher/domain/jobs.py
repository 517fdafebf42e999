"""Validating a `dispatch` job's payload before acting on it (pure).

The queue hands over any JSON object; a payload that breaks the `DispatchJob` contract can never
succeed, so `parse_dispatch_job` names the first bad field and the worker dead-letters the job.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from jeeves.kit.jobs import DispatchJob

KINDS = ("message", "command", "interaction", "schedule")
_REQUIRED_TEXT = ("event_id", "team_id", "user_id", "channel")


def _optional_str(payload: Mapping[str, Any], name: str) -> None:
    value = payload.get(name)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"'{name}' must be a string or null")


def parse_dispatch_job(payload: Mapping[str, Any]) -> DispatchJob:
    """`payload` as a DispatchJob; ValueError naming the first field that breaks the contract."""
    for name in _REQUIRED_TEXT:
        value = payload.get(name)
        if not isinstance(value, str) or not value:
            raise ValueError(f"'{name}' must be a non-empty string")
    if payload.get("kind") not in KINDS:
        raise ValueError(f"'kind' must be one of {', '.join(KINDS)}")
    if not isinstance(payload.get("text", ""), str):
        raise ValueError("'text' must be a string")
    for name in ("ts", "thread_ts", "response_url", "bot_user_id"):
        _optional_str(payload, name)
    blocks = payload.get("blocks")
    if blocks is not None and not isinstance(blocks, list):
        raise ValueError("'blocks' must be a list or null")
    received = payload.get("received_at")
    if not isinstance(received, int | float) or isinstance(received, bool):
        raise ValueError("'received_at' must be a number (epoch seconds)")
    interaction = payload.get("interaction")
    if interaction is not None and not isinstance(interaction, dict):
        raise ValueError("'interaction' must be an object or null")
    _check_schedule(payload)
    job = dict(payload)
    job.setdefault("text", "")
    job.setdefault("ts", None)
    job.setdefault("thread_ts", None)
    return cast(DispatchJob, job)


def _check_schedule(payload: Mapping[str, Any]) -> None:
    schedule = payload.get("schedule")
    if payload.get("kind") != "schedule":
        if schedule is not None:
            raise ValueError("'schedule' belongs to kind 'schedule' only")
        return
    if not isinstance(schedule, dict):
        raise ValueError("a 'schedule' job needs its 'schedule' object")
    for name in ("key", "action", "tick"):
        if not isinstance(schedule.get(name), str) or not schedule[name]:
            raise ValueError(f"'schedule.{name}' must be a non-empty string")
    missed = schedule.get("missed")
    if not isinstance(missed, int) or isinstance(missed, bool) or missed < 0:
        raise ValueError("'schedule.missed' must be a whole number >= 0")
    if schedule.get("trigger") not in ("schedule", "alert"):
        raise ValueError("'schedule.trigger' must be schedule or alert")


def interaction_target(job: DispatchJob) -> tuple[str, str] | None:
    """(action name, value) of a button click whose action_id reads `<action>:<anything>`."""
    interaction = job.get("interaction") or {}
    action_id = interaction.get("action_id")
    if not isinstance(action_id, str) or ":" not in action_id:
        return None
    name = action_id.split(":", 1)[0]
    value = interaction.get("value")
    return (name, value if isinstance(value, str) else "") if name else None
