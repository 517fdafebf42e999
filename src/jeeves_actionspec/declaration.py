"""Commands, policy and schedule of one action, read from where they are written.

Two forms, one set of rules:
- the JeevesAction `spec` (`from_resource`): `commands`, `policy`, and the schedule spread over
  `schedule`, `scheduleTimezone`, `scheduleChannel`, `scheduleText`; errors name `spec.<field>`;
- the etcd registry entry (`from_registry`), which the operator writes with `registry_fields`:
  `commands` and `policy` verbatim, the schedule as one object
  `{"cron", "timezone", "channel", "text"}`.

Beyond each part's own rules, a schedule's text must be a valid call of the action's commands
when it starts one, so a broken schedule is refused at `kubectl apply`, not at 3 am.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jeeves_actionspec.errors import SpecError
from jeeves_actionspec.grammar import Command, parse_commands
from jeeves_actionspec.matching import Mismatch, match
from jeeves_actionspec.policy import EVERYONE, Policy, parse_policy
from jeeves_actionspec.schedule import Schedule, parse_schedule

RESOURCE_SCHEDULE = ("schedule", "scheduleTimezone", "scheduleChannel", "scheduleText")
REGISTRY_SCHEDULE = ("schedule.cron", "schedule.timezone", "schedule.channel", "schedule.text")


@dataclass(frozen=True)
class Declaration:
    commands: tuple[Command, ...] = ()
    policy: Policy = EVERYONE
    schedule: Schedule | None = None


NOTHING = Declaration()


def _check_schedule_text(declaration: Declaration, keywords: tuple[str, ...], path: str) -> None:
    schedule = declaration.schedule
    if schedule is None:
        return
    text = schedule.text or (keywords[0] if keywords else "")
    result = match(declaration.commands, text)
    if isinstance(result, Mismatch):
        raise SpecError(path, f"`{text}` is not a valid call: {result.problem}")


def _build(
    commands: Any, policy: Any, schedule: Schedule | None, keywords: tuple[str, ...], path: str
) -> Declaration:
    declaration = Declaration(
        commands=parse_commands(commands),
        policy=parse_policy(policy),
        schedule=schedule,
    )
    _check_schedule_text(declaration, keywords, path)
    return declaration


def from_resource(spec: Mapping[str, Any]) -> Declaration:
    """A JeevesAction's spec; SpecError with a `spec.…` path for the first broken rule."""
    try:
        values = [spec.get(name) for name in RESOURCE_SCHEDULE]
        schedule = parse_schedule(*values, names=RESOURCE_SCHEDULE)
        keywords = tuple(spec.get("keywords") or ())
        return _build(spec.get("commands"), spec.get("policy"), schedule, keywords, "scheduleText")
    except SpecError as exc:
        raise exc.under("spec") from None


def registry_fields(spec: Mapping[str, Any]) -> dict[str, Any]:
    """What the operator adds to the registry entry for a (valid) spec."""
    fields: dict[str, Any] = {}
    if spec.get("commands"):
        fields["commands"] = spec["commands"]
    if spec.get("policy"):
        fields["policy"] = spec["policy"]
    if spec.get("schedule"):
        fields["schedule"] = {
            "cron": spec["schedule"],
            "timezone": spec.get("scheduleTimezone") or "UTC",
            "channel": spec.get("scheduleChannel", ""),
            "text": spec.get("scheduleText") or "",
        }
    return fields


def from_registry(data: Mapping[str, Any], keywords: tuple[str, ...] = ()) -> Declaration:
    """The declaration in a registry entry (what the dispatcher runs by)."""
    raw = data.get("schedule")
    schedule = None
    if raw is not None:
        if not isinstance(raw, Mapping):
            raise SpecError("schedule", "must be an object {cron, timezone, channel, text}")
        values = [raw.get(key) for key in ("cron", "timezone", "channel", "text")]
        schedule = parse_schedule(*values, names=REGISTRY_SCHEDULE)
    return _build(data.get("commands"), data.get("policy"), schedule, keywords, "schedule.text")
