"""Semantic validation beyond the CRD schema: whether the commands, policy and schedule make
sense, who owns a keyword (or a command's phrase) and an action name, and which Secrets an
action may reference.

Pure functions. The declaration is checked with the very rules the dispatcher runs by
(`jeeves_actionspec`), so what the operator accepts the dispatcher can use; a broken one is a
`Problem` naming the field (`spec.commands[0].format: …`) with reason InvalidCommands,
InvalidPolicy or InvalidSchedule. Claims come from kopf's in-memory index of every
JeevesAction: the oldest (creation time, then namespace/name) wins a keyword, a phrase or a
name; a later one that asks for it gets a `Problem`. Either way the action is not applied at all.

Secrets: a JeevesAction's `env` may reference (`valueFrom.secretKeyRef`) only Secrets on the
operator's allow-list (`JEEVES_ACTION_SECRETS`: `name` in any namespace, `namespace/name` in one)
and its own `jeeves-<name>-auth`. Otherwise anyone allowed to create a JeevesAction could read
every Secret of that namespace through the Pod the operator creates (docs/operator.md, "Threat
model").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from jeeves_actionspec import SpecError
from jeeves_actionspec.declaration import from_resource
from jeeves_actionspec.grammar import parse_commands, phrases
from jeeves_operator.models import ActionRef, ActionSpec, Problem

# Deployments and Services are named jeeves-<name>[-canary]: a DNS-1035 label of ≤ 63 chars.
NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
MAX_NAME = 63 - len("jeeves-") - len("-canary")


class Claim(NamedTuple):
    """One JeevesAction's claim on a keyword or name; sorts oldest first."""

    created: str
    namespace: str
    name: str


def claim_of(ref: ActionRef) -> Claim:
    return Claim(ref.created, ref.namespace, ref.name)


def _phrases(spec: ActionSpec) -> list[str]:
    try:
        return phrases(parse_commands(spec.get("commands")))
    except SpecError:
        return []  # refused by check_declaration; it claims no phrase


def claim_keys(spec: ActionSpec, ref: ActionRef) -> list[str]:
    """Index keys a JeevesAction claims: each keyword and command phrase, and its name."""
    words = dict.fromkeys([*spec.get("keywords", []), *_phrases(spec)])
    return [f"keyword:{word}" for word in words] + [f"name:{ref.name}"]


_REASONS = {"commands": "InvalidCommands", "policy": "InvalidPolicy"}


def check_declaration(spec: ActionSpec) -> Problem | None:
    """A Problem naming the first broken rule of commands, policy or schedule, or None."""
    try:
        from_resource(spec)
    except SpecError as exc:
        field = exc.path.removeprefix("spec.").split(".")[0].split("[")[0]
        return Problem(_REASONS.get(field, "InvalidSchedule"), str(exc))
    return None


def _rival(key: str, mine: Claim, claims: Mapping[str, Iterable[Claim]]) -> Claim | None:
    owner = min(claims.get(key, ()), default=mine)
    return None if min(owner, mine) == mine else owner


def _check_name(ref: ActionRef) -> Problem | None:
    if NAME.match(ref.name) and len(ref.name) <= MAX_NAME:
        return None
    return Problem(
        "InvalidName",
        f"name {ref.name!r} must be a DNS label (a-z, 0-9, '-', starting with a letter) "
        f"of at most {MAX_NAME} characters",
    )


def referenced_secrets(spec: ActionSpec) -> list[str]:
    """Names of the Secrets the spec's env reads (`valueFrom.secretKeyRef.name`)."""
    names = []
    for item in spec.get("env", []):
        ref = (item.get("valueFrom") or {}).get("secretKeyRef")
        if isinstance(ref, Mapping):
            names.append(str(ref.get("name", "")))
    return names


def _check_secrets(spec: ActionSpec, ref: ActionRef, allowed: frozenset[str]) -> Problem | None:
    own = f"jeeves-{ref.name}-auth"  # the operator's own reference (builders.auth_secret_name)
    for name in referenced_secrets(spec):
        if name == own or name in allowed or f"{ref.namespace}/{name}" in allowed:
            continue
        return Problem(
            "SecretNotAllowed",
            f"env reads Secret {name!r}, which is not on the operator's allow-list: add "
            f"{name!r} or '{ref.namespace}/{name}' to JEEVES_ACTION_SECRETS",
        )
    return None


def find_problem(
    spec: ActionSpec,
    ref: ActionRef,
    claims: Mapping[str, Iterable[Claim]],
    *,
    allowed_secrets: frozenset[str] = frozenset(),
) -> Problem | None:
    """The first reason this JeevesAction must not be applied, or None."""
    problem = (
        _check_name(ref) or _check_secrets(spec, ref, allowed_secrets) or check_declaration(spec)
    )
    if problem is not None:
        return problem
    mine = claim_of(ref)
    for key in claim_keys(spec, ref):
        rival = _rival(key, mine, claims)
        if rival is None:
            continue
        kind, _, value = key.partition(":")
        reason = "KeywordConflict" if kind == "keyword" else "NameConflict"
        if kind == "keyword" and value not in spec.get("keywords", []):
            kind = "phrase"  # a command's leading words, not one of its keywords
        return Problem(
            reason,
            f"{kind} {value!r} is already claimed by JeevesAction {rival.namespace}/{rival.name}",
        )
    return None
