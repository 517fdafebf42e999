"""From a routed message to the call an action receives: typed by its commands, or free text.

An action that declares `commands` (see `jeeves_actionspec.grammar`) gets `args.command` and
`args.params` already typed when the message starts one of its commands; a message that starts a
command but breaks it is answered with the precise problem and the usage, and the action is not
called. A message that starts no command — and every message for an action without commands —
is passed on as free text, as before. Pure functions.

`args` as the action receives it:

| key | when | what |
|---|---|---|
| `keyword` | always | the keyword or phrase the message was routed by |
| `message` | always | the whole cleaned message (a schedule's: its `scheduleText`) |
| `command` | typed | the command's name (`deploy`) |
| `params` | typed | `{"service": "api", "env": "prod"}`: typed values, defaults filled in |
| `schedule` | scheduled runs | `{"tick", "missed", "catch_up"}` |
| `alert` | per-user alert runs | true |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jeeves.kit.actions import ActionSpec
from jeeves_actionspec.grammar import Command, masked
from jeeves_actionspec.matching import Matched, Mismatch, match


@dataclass(frozen=True)
class Call:
    """One call of an action, ready to make (or to keep while someone confirms it)."""

    action: str
    keyword: str
    text: str  # the protocol's `text`: what followed the keyword
    message: str | None = None
    command: str | None = None
    params: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)  # schedule / alert context

    def args(self) -> dict[str, Any]:
        """The protocol's `args` for this call."""
        out: dict[str, Any] = {"keyword": self.keyword}
        if self.message is not None:
            out["message"] = self.message
        if self.command is not None:
            out["command"] = self.command
            out["params"] = dict(self.params or {})
        out.update(self.extra)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "keyword": self.keyword,
            "text": self.text,
            "message": self.message,
            "command": self.command,
            "params": dict(self.params) if self.params is not None else None,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Call:
        return cls(
            action=str(data["action"]),
            keyword=str(data["keyword"]),
            text=str(data.get("text") or ""),
            message=data.get("message"),
            command=data.get("command"),
            params=data.get("params"),
            extra=dict(data.get("extra") or {}),
        )


@dataclass(frozen=True)
class BadCall:
    """The message starts `command` but breaks it: `problem` says how."""

    command: Command
    problem: str


def plan_call(
    spec: ActionSpec, keyword: str, rest: str, message: str, typed: str
) -> Call | BadCall:
    """The call for a message routed to `spec` by `keyword` (`rest` follows the keyword;
    `typed` is the message with mentions kept as ids, which commands are matched on)."""
    result = match(spec.declaration.commands, typed)
    if isinstance(result, Mismatch):
        return BadCall(result.command, result.problem)
    if isinstance(result, Matched):
        return Call(spec.name, keyword, rest, message, result.command.name, result.params)
    return Call(spec.name, keyword, rest, message)


def command_of(spec: ActionSpec, name: str | None) -> Command | None:
    for command in spec.declaration.commands:
        if command.name == name:
            return command
    return None


def audit_params(spec: ActionSpec, call: Call) -> dict[str, Any] | None:
    """The typed params fit for the audit log (secrets masked); None for free text, which is
    never stored."""
    command = command_of(spec, call.command)
    if command is None or call.params is None:
        return None
    return masked(command, call.params)


def summary(spec: ActionSpec, call: Call) -> str:
    """`deploy` service=api env=prod — what a confirmation or approval prompt shows."""
    shown = audit_params(spec, call)
    if shown is None:
        return f"`{call.keyword}`" + (f" {call.text}" if call.text else "")
    values = " ".join(f"{name}={value}" for name, value in shown.items())
    return f"`{call.command}`" + (f" {values}" if values else "")
