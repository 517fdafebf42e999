"""Semantic validation beyond the CRD schema: who owns a keyword and an action name.

Pure functions over an index of claims (kept by kopf's in-memory index of every JeevesAction).
The oldest JeevesAction (creation time, then namespace/name) wins a keyword or a name; a later
one that asks for it gets a `Problem` and is not applied at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import NamedTuple

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


def claim_keys(spec: ActionSpec, ref: ActionRef) -> list[str]:
    """Index keys a JeevesAction claims: each keyword and its action name."""
    return [f"keyword:{word}" for word in spec.get("keywords", [])] + [f"name:{ref.name}"]


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


def find_problem(
    spec: ActionSpec, ref: ActionRef, claims: Mapping[str, Iterable[Claim]]
) -> Problem | None:
    """The first reason this JeevesAction must not be applied, or None."""
    problem = _check_name(ref)
    if problem is not None:
        return problem
    mine = claim_of(ref)
    for key in claim_keys(spec, ref):
        rival = _rival(key, mine, claims)
        if rival is None:
            continue
        kind, _, value = key.partition(":")
        reason = "KeywordConflict" if kind == "keyword" else "NameConflict"
        return Problem(
            reason,
            f"{kind} {value!r} is already claimed by JeevesAction {rival.namespace}/{rival.name}",
        )
    return None
