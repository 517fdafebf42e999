"""Typed shapes at the operator's edges: the JeevesAction spec, its identity and status, and the
registration JSON written to etcd. Plain TypedDicts and dataclasses; no behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, NotRequired, TypedDict

GROUP = "jeeves.dev"
VERSION = "v1alpha1"
KIND = "JeevesAction"
PLURAL = "jeevesactions"
API_VERSION = f"{GROUP}/{VERSION}"
MANAGER = "jeeves-operator"

Track = Literal["stable", "canary"]
Manifest = dict[str, Any]


class CanarySpec(TypedDict):
    image: str
    percent: int


class EnvVar(TypedDict, total=False):
    name: str
    value: str
    valueFrom: dict[str, Any]


class ActionSpec(TypedDict, total=False):
    """`.spec` of a JeevesAction after the API server applied the schema's defaults."""

    keywords: list[str]
    description: str
    usage: str
    image: str
    replicas: int
    port: int
    env: list[EnvVar]
    resources: dict[str, dict[str, str | int]]
    timeoutSeconds: int
    enabled: bool
    canary: CanarySpec
    commands: list[dict[str, Any]]  # typed grammar (jeeves_actionspec.grammar)
    policy: dict[str, Any]  # who may run it, confirm, approvers (jeeves_actionspec.policy)
    schedule: str  # cron (jeeves_actionspec.schedule)
    scheduleTimezone: str
    scheduleChannel: str
    scheduleText: str


@dataclass(frozen=True)
class ActionRef:
    """Which JeevesAction: enough to name, own and find what it derives."""

    name: str
    namespace: str
    uid: str
    generation: int = 1
    created: str = ""  # metadata.creationTimestamp, used to order competing claims


class CanaryRegistration(TypedDict):
    url: str
    percent: int


class Registration(TypedDict):
    """The JSON under /jeeves/<env>/actions/<name> (DESIGN.md, "etcd layout")."""

    keywords: list[str]
    url: str
    description: str
    usage: str
    timeout_s: int
    enabled: bool
    canary: NotRequired[CanaryRegistration]
    commands: NotRequired[list[dict[str, Any]]]
    policy: NotRequired[dict[str, Any]]
    schedule: NotRequired[dict[str, str]]  # {"cron", "timezone", "channel", "text"}


class Condition(TypedDict):
    type: str
    status: Literal["True", "False", "Unknown"]
    reason: str
    message: str
    lastTransitionTime: str
    observedGeneration: int


class ActionStatus(TypedDict):
    conditions: list[Condition]
    url: str
    readyReplicas: int
    observedGeneration: int


@dataclass(frozen=True)
class Problem:
    """Why a JeevesAction cannot be applied (semantic validation); shown as a condition."""

    reason: str
    message: str


@dataclass(frozen=True)
class Observation:
    """What one reconcile saw and did: the input of the status builder."""

    generation: int
    url: str
    desired_replicas: int
    ready_replicas: int
    registered: bool
    registry_reason: str
    registry_message: str
    problem: Problem | None = None
