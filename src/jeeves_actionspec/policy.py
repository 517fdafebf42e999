"""Who may run an action, and what must happen before it runs (pure decisions).

`spec.policy` of a JeevesAction:

```yaml
policy:
  allow:              # who may run it; absent: everyone — unless sideEffects
    users: [U012ABC]
    userGroups: [S0OPS]   # Slack user groups (@ops)
    channels: [C0DEPLOY]  # where it may be run
  sideEffects: true   # changes things: nobody may run it until `allow` names someone
  confirm: true       # the caller clicks "Run" first (only they can, within the time limit)
  confirmTimeoutSeconds: 120
  approvers:          # a second person approves in the thread before it runs
    userGroups: [S0LEADS]
  approvalTimeoutSeconds: 3600
```

Rules of `decide`: users and user groups together say *who* (any of them may), channels say
*where*; when both are given both must hold. An action without `allow` may be run by everyone,
unless it declares `sideEffects: true`: then it is denied to everyone until `allow` names people
or channels (deny by default). A denial carries the sentence the user reads — privately.
Approval never comes from the requester, and only from the listed approvers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jeeves_actionspec.errors import SpecError

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")
GROUP_ID = re.compile(r"^S[A-Z0-9]{2,30}$")
CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,30}$")
MAX_IDS = 200
CONFIRM_TIMEOUT = (10, 3600, 120)  # minimum, maximum, default seconds
APPROVAL_TIMEOUT = (60, 7 * 86400, 3600)


@dataclass(frozen=True)
class Audience:
    """A set of people (users, user groups) and places (channels)."""

    users: frozenset[str] = frozenset()
    user_groups: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()

    @property
    def names_people(self) -> bool:
        return bool(self.users or self.user_groups)

    @property
    def is_empty(self) -> bool:
        return not (self.names_people or self.channels)

    def includes(self, user: str, groups: frozenset[str]) -> bool:
        return user in self.users or bool(self.user_groups & groups)

    def people_text(self) -> str:
        people = [f"<@{u}>" for u in sorted(self.users)]
        people += [f"<!subteam^{g}>" for g in sorted(self.user_groups)]
        return ", ".join(people)


@dataclass(frozen=True)
class Policy:
    allow: Audience | None = None
    side_effects: bool = False
    confirm: bool = False
    confirm_timeout_s: int = CONFIRM_TIMEOUT[2]
    approvers: Audience | None = None
    approval_timeout_s: int = APPROVAL_TIMEOUT[2]

    @property
    def groups(self) -> frozenset[str]:
        """Every user group the policy names (the dispatcher resolves membership of these)."""
        found: frozenset[str] = frozenset()
        for audience in (self.allow, self.approvers):
            if audience is not None:
                found |= audience.user_groups
        return found

    @property
    def open_to_all(self) -> bool:
        return not self.side_effects and (self.allow is None or self.allow.is_empty)


EVERYONE = Policy()


@dataclass(frozen=True)
class Allowed:
    """Run it — after the caller's confirmation and/or a second person's approval."""

    confirm: bool = False
    approval: bool = False


@dataclass(frozen=True)
class Denied:
    """Not for this caller here; `code` for the audit log, `text` for the caller."""

    code: str  # side_effects, user, channel
    text: str


Decision = Allowed | Denied


def decide(
    policy: Policy, label: str, user: str, channel: str, groups: frozenset[str] = frozenset()
) -> Decision:
    """May `user` run the action `label` in `channel`? `groups`: the user's groups among
    `policy.groups` (resolved by the caller)."""
    allow = policy.allow
    if allow is None or allow.is_empty:
        if policy.side_effects:
            return Denied(
                "side_effects",
                f"`{label}` changes things, so nobody may run it until an admin allows people "
                "to (in its policy). Ask whoever runs Jeeves.",
            )
    else:
        if allow.names_people and not allow.includes(user, groups):
            return Denied(
                "user",
                f"Sorry, you are not allowed to run `{label}`. It is for {allow.people_text()}.",
            )
        if allow.channels and channel not in allow.channels:
            places = ", ".join(f"<#{c}>" for c in sorted(allow.channels))
            return Denied("channel", f"`{label}` can only be run in {places}.")
    return Allowed(confirm=policy.confirm, approval=policy.approvers is not None)


def may_approve(
    policy: Policy, label: str, approver: str, requester: str, groups: frozenset[str]
) -> str | None:
    """None when `approver` may approve `requester`'s run, else the reason they may not."""
    if approver == requester:
        return f"You asked for this `{label}` run, so someone else has to approve it."
    approvers = policy.approvers
    if approvers is None or not approvers.includes(approver, groups):
        who = approvers.people_text() if approvers is not None else "nobody"
        return f"Only {who} may approve `{label}`."
    return None


# --- reading a declaration ---------------------------------------------------------------------


_KINDS = {
    "users": (USER_ID, "a Slack user id like U0123ABCD"),
    "userGroups": (GROUP_ID, "a Slack user group id like S0123ABCD"),
    "channels": (CHANNEL_ID, "a Slack channel id like C0123ABCD"),
}


def _ids(raw: Any, path: str, kind: str) -> frozenset[str]:
    if raw is None:
        return frozenset()
    pattern, what = _KINDS[kind]
    if not isinstance(raw, list) or len(raw) > MAX_IDS:
        raise SpecError(f"{path}.{kind}", f"must be a list of at most {MAX_IDS} ids")
    for index, value in enumerate(raw):
        if not isinstance(value, str) or not pattern.match(value):
            raise SpecError(f"{path}.{kind}[{index}]", f"must be {what}")
    return frozenset(raw)


def _audience(raw: Any, path: str, *, places: bool) -> Audience:
    if not isinstance(raw, Mapping):
        raise SpecError(path, "must be an object")
    if not places and raw.get("channels"):
        raise SpecError(f"{path}.channels", "approvers are people: name users or userGroups")
    return Audience(
        users=_ids(raw.get("users"), path, "users"),
        user_groups=_ids(raw.get("userGroups"), path, "userGroups"),
        channels=_ids(raw.get("channels"), path, "channels") if places else frozenset(),
    )


def _seconds(raw: Any, path: str, bounds: tuple[int, int, int]) -> int:
    low, high, default = bounds
    if raw is None:
        return default
    if not isinstance(raw, int) or isinstance(raw, bool) or not low <= raw <= high:
        raise SpecError(path, f"must be a whole number of seconds from {low} to {high}")
    return raw


def parse_policy(raw: Any, path: str = "policy") -> Policy:
    """`spec.policy` (None → everyone may run it, nothing to confirm)."""
    if raw is None:
        return EVERYONE
    if not isinstance(raw, Mapping):
        raise SpecError(path, "must be an object")
    allow = _audience(raw["allow"], f"{path}.allow", places=True) if raw.get("allow") else None
    approvers = None
    if raw.get("approvers") is not None:
        approvers = _audience(raw["approvers"], f"{path}.approvers", places=False)
        if not approvers.names_people:
            raise SpecError(f"{path}.approvers", "names nobody, so no run could ever be approved")
    for flag in ("sideEffects", "confirm"):
        if not isinstance(raw.get(flag, False), bool):
            raise SpecError(f"{path}.{flag}", "must be true or false")
    return Policy(
        allow=allow,
        side_effects=bool(raw.get("sideEffects", False)),
        confirm=bool(raw.get("confirm", False)),
        confirm_timeout_s=_seconds(
            raw.get("confirmTimeoutSeconds"), f"{path}.confirmTimeoutSeconds", CONFIRM_TIMEOUT
        ),
        approvers=approvers,
        approval_timeout_s=_seconds(
            raw.get("approvalTimeoutSeconds"), f"{path}.approvalTimeoutSeconds", APPROVAL_TIMEOUT
        ),
    )


def describe(policy: Policy) -> str:
    """One line for help: who may run it and what it asks for ("" when open to all)."""
    notes = []
    allow = policy.allow
    if allow is not None and not allow.is_empty:
        if allow.names_people:
            notes.append(f"for {allow.people_text()}")
        if allow.channels:
            notes.append("in " + ", ".join(f"<#{c}>" for c in sorted(allow.channels)))
    elif policy.side_effects:
        notes.append("not enabled for anyone yet")
    if policy.confirm:
        notes.append("asks you to confirm")
    if policy.approvers is not None:
        notes.append(f"needs approval by {policy.approvers.people_text()}")
    return "; ".join(notes)
