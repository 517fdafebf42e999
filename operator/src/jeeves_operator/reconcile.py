"""Reconciling one JeevesAction: the single idempotent path behind create, update, resume and the
periodic drift check, plus the delete (finalizer) path and readiness reflection.

Knows nothing about kopf: handlers pass plain values in and turn the `Outcome` into Events and
retries. Every status write happens here, under the action's lock. Builders decide what should
exist; `k8s` and `registry` do the I/O.
"""

from __future__ import annotations

import asyncio
import datetime
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from jeeves_operator import builders, claims, metrics
from jeeves_operator.k8s import Change, Kube, KubeError, OwnershipConflict, controller_uid
from jeeves_operator.models import (
    KIND,
    ActionRef,
    ActionSpec,
    ActionStatus,
    Condition,
    Manifest,
    Observation,
    Problem,
)
from jeeves_operator.registry import Registry, RegistryUnavailable
from jeeves_operator.settings import OperatorSettings

Result = Literal["ok", "rejected", "retry", "error"]
Trigger = Literal["change", "resume", "drift"]


@dataclass
class Deps:
    """What reconciling needs: settings and the two I/O facades (one per operator process)."""

    settings: OperatorSettings
    kube: Kube
    registry: Registry
    locks: dict[tuple[str, str], asyncio.Lock] = field(default_factory=dict)

    def lock(self, namespace: str, name: str) -> asyncio.Lock:
        """One lock per JeevesAction: reconciles, finalize and every status write hold it."""
        return self.locks.setdefault((namespace, name), asyncio.Lock())


@dataclass(frozen=True)
class Note:
    """A Kubernetes Event to post about the JeevesAction."""

    type: Literal["Normal", "Warning"]
    reason: str
    message: str


@dataclass
class Outcome:
    status: ActionStatus
    notes: list[Note]
    result: Result

    @property
    def retry(self) -> bool:
        return self.result == "retry"


def utcnow() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def reconcile(
    spec: ActionSpec,
    ref: ActionRef,
    status: Mapping[str, Any],
    index: Mapping[str, Iterable[claims.Claim]],
    deps: Deps,
    trigger: Trigger = "change",
) -> Outcome:
    """Bring everything derived from one JeevesAction in line with its spec, and write its
    status — under the action's lock, like every other status write (`reflect_deployment`),
    so a status computed from an older observation never lands after a newer one."""
    started = time.perf_counter()
    previous: Sequence[Condition] = list(status.get("conditions") or [])
    try:
        async with deps.lock(ref.namespace, ref.name):
            outcome = await _reconcile(spec, ref, previous, index, deps, trigger)
            if dict(status) != dict(outcome.status):
                await _write_status(deps, ref, outcome.status)
    except KubeError:
        metrics.RECONCILES.labels("error").inc()
        raise
    finally:
        metrics.RECONCILE_SECONDS.observe(time.perf_counter() - started)
    metrics.RECONCILES.labels(outcome.result).inc()
    return outcome


async def _write_status(deps: Deps, ref: ActionRef, status: ActionStatus) -> None:
    """Write `.status` (the caller holds the action's lock); an action already gone is fine."""
    try:
        await deps.kube.merge_patch(
            KIND, ref.namespace, ref.name, {"status": status}, subresource="status"
        )
    except KubeError as exc:
        if exc.status != 404:
            raise


async def _reconcile(
    spec: ActionSpec,
    ref: ActionRef,
    previous: Sequence[Condition],
    index: Mapping[str, Iterable[claims.Claim]],
    deps: Deps,
    trigger: Trigger,
) -> Outcome:
    problem = claims.find_problem(spec, ref, index, allowed_secrets=deps.settings.action_secrets)
    if problem is not None:
        return await _reject(spec, ref, previous, problem, deps)
    # A brand-new action (first generation, first change) cannot have a stale canary yet.
    fresh = trigger == "change" and ref.generation == 1
    try:
        applied = await _apply_workloads(spec, ref, deps, may_have_canary=not fresh)
    except OwnershipConflict as exc:
        return await _reject(spec, ref, previous, Problem("NameTaken", str(exc)), deps)
    except KubeError as exc:
        if exc.status in (0, 401, 403):  # cannot talk to the API at all: nothing to report on
            raise
        return _failed(ref, previous, Problem("ApplyFailed", str(exc)))
    notes = _change_notes(applied, trigger)
    registered, reason, message = await _register(spec, ref, deps)
    if registered and reason == "Registered":
        notes.append(Note("Normal", "Registered", message))
    elif not registered:
        notes.append(Note("Warning", reason, message))
    deployment = applied[0][1]
    observation = Observation(
        generation=ref.generation,
        url=builders.action_url(ref, spec.get("port", 8080)),
        desired_replicas=spec.get("replicas", 1),
        ready_replicas=_ready_replicas(deployment),
        registered=registered,
        registry_reason=reason,
        registry_message=message,
    )
    status = builders.build_status(observation, previous, utcnow())
    return Outcome(status, notes, "ok" if registered else "retry")


async def _apply_workloads(
    spec: ActionSpec, ref: ActionRef, deps: Deps, *, may_have_canary: bool
) -> list[tuple[Change, Manifest]]:
    manifests = builders.build_manifests(spec, ref, deps.settings)
    applied = await asyncio.gather(*(deps.kube.apply(m, ref.uid) for m in manifests))
    if "canary" not in spec and may_have_canary:
        await _drop_canary(ref, deps)
    return list(applied)


async def _drop_canary(ref: ActionRef, deps: Deps) -> None:
    """Delete a canary Deployment/Service left from an earlier spec (only if it is ours)."""
    name = builders.workload_name(ref.name, "canary")
    for kind in ("Deployment", "Service"):
        live = await deps.kube.get(kind, ref.namespace, name)
        if live is not None and controller_uid(live) == ref.uid:
            await deps.kube.delete(kind, ref.namespace, name)


def _change_notes(applied: list[tuple[Change, Manifest]], trigger: Trigger) -> list[Note]:
    """One Event per kind of change (not per object), so 500 actions do not mean 2000 Events."""
    changed: dict[str, list[str]] = {}
    for change, obj in applied:
        if change == "unchanged":
            continue
        kind, name = obj.get("kind", "object"), obj.get("metadata", {}).get("name", "")
        changed.setdefault(change, []).append(f"{kind} {name}")
        if trigger == "drift":
            metrics.DRIFT_CORRECTIONS.labels(kind).inc()
    if trigger == "drift":
        done = "; ".join(f"{', '.join(objs)} {change}" for change, objs in changed.items())
        return [Note("Warning", "DriftCorrected", f"put back to spec: {done}")] if done else []
    return [
        Note("Normal", change.capitalize(), ", ".join(objs)) for change, objs in changed.items()
    ]


async def _register(spec: ActionSpec, ref: ActionRef, deps: Deps) -> tuple[bool, str, str]:
    registration = builders.build_registration(spec, ref, deps.settings)
    key = deps.registry.key(ref.name)
    try:
        written = await deps.registry.ensure(ref.name, registration)
    except RegistryUnavailable as exc:
        metrics.REGISTRY_UP.set(0)
        return False, "EtcdUnavailable", f"{key} not written: {exc}; retrying"
    metrics.REGISTRY_UP.set(1)
    return True, "Registered" if written else "UpToDate", f"registered at {key}"


async def _reject(
    spec: ActionSpec, ref: ActionRef, previous: Sequence[Condition], problem: Problem, deps: Deps
) -> Outcome:
    """Apply nothing; make sure the router does not see this action either."""
    notes = [Note("Warning", problem.reason, problem.message)]
    result: Result = "rejected"
    try:
        url = builders.action_url(ref, spec.get("port", 8080))
        await deps.registry.remove(ref.name, url)
    except RegistryUnavailable:
        result = "retry"
    observation = Observation(
        generation=ref.generation,
        url="",
        desired_replicas=spec.get("replicas", 1),
        ready_replicas=0,
        registered=False,
        registry_reason=problem.reason,
        registry_message=problem.message,
        problem=problem,
    )
    return Outcome(builders.build_status(observation, previous, utcnow()), notes, result)


def _failed(ref: ActionRef, previous: Sequence[Condition], problem: Problem) -> Outcome:
    """The API server refused an object: say so in status; the registration stays as it was."""
    observation = Observation(
        generation=ref.generation,
        url="",
        desired_replicas=0,
        ready_replicas=0,
        registered=False,
        registry_reason=problem.reason,
        registry_message=problem.message,
        problem=problem,
    )
    status = builders.build_status(observation, previous, utcnow())
    kept = [c for c in previous if c.get("type") == "Registered"]
    others = [c for c in status["conditions"] if c["type"] != "Registered"]
    status["conditions"] = others + kept if kept else status["conditions"]
    return Outcome(status, [Note("Warning", problem.reason, problem.message)], "error")


def _ready_replicas(deployment: Manifest) -> int:
    return int(deployment.get("status", {}).get("readyReplicas") or 0)


async def finalize(spec: ActionSpec, ref: ActionRef, deps: Deps) -> Note | None:
    """On delete: drop the registration (owner references remove the workloads).

    Raises RegistryUnavailable while etcd is down, so the finalizer stays and kopf retries.
    """
    async with deps.lock(ref.namespace, ref.name):
        url = builders.action_url(ref, spec.get("port", 8080))
        removed = await deps.registry.remove(ref.name, url)
    deps.locks.pop((ref.namespace, ref.name), None)
    if removed:
        return Note("Normal", "Unregistered", f"removed {deps.registry.key(ref.name)}")
    return None


def owner_name(deployment: Manifest) -> str | None:
    """The JeevesAction controlling a stable-track Deployment, if any."""
    return _owner(deployment)


def _owner(deployment: Manifest) -> str | None:
    labels = deployment.get("metadata", {}).get("labels", {})
    if labels.get("jeeves.dev/track") != "stable":
        return None
    for owner in deployment.get("metadata", {}).get("ownerReferences") or []:
        if owner.get("kind") == KIND and owner.get("controller"):
            return str(owner.get("name"))
    return None


def _observation_from_status(
    status: Mapping[str, Any], generation: int, desired: int, ready: int
) -> Observation | None:
    conditions = {c.get("type"): c for c in status.get("conditions") or []}
    registered = conditions.get("Registered")
    if registered is None or registered.get("reason") not in (
        "Registered",
        "UpToDate",
        "EtcdUnavailable",
    ):
        return None
    return Observation(
        generation=generation,
        url=str(status.get("url", "")),
        desired_replicas=desired,
        ready_replicas=ready,
        registered=registered.get("status") == "True",
        registry_reason=str(registered.get("reason")),
        registry_message=str(registered.get("message", "")),
    )


async def reflect_deployment(
    deployment: Manifest, deps: Deps, known_ready: int | None = None
) -> bool:
    """Copy a stable Deployment's readiness into its JeevesAction's status; True if patched.

    `known_ready` is the action's status.readyReplicas as last seen (kopf's index): when it
    already matches, nothing is read or written — most Deployment events change nothing.
    """
    name = _owner(deployment)
    namespace = deployment.get("metadata", {}).get("namespace", "")
    if name is None or known_ready == _ready_replicas(deployment):
        return False
    async with deps.lock(namespace, name):
        return await _reflect(deployment, deps, namespace, name)


async def _reflect(deployment: Manifest, deps: Deps, namespace: str, name: str) -> bool:
    action = await deps.kube.get(KIND, namespace, name)
    if action is None or action["metadata"].get("uid") != controller_uid(deployment):
        return False
    status = action.get("status") or {}
    ready = _ready_replicas(deployment)
    if action["metadata"].get("deletionTimestamp") or status.get("readyReplicas") == ready:
        return False
    desired = int(deployment.get("spec", {}).get("replicas", 1))
    generation = int(status.get("observedGeneration") or 0)
    observation = _observation_from_status(status, generation, desired, ready)
    if observation is None:
        return False
    fresh = builders.build_status(observation, status.get("conditions") or [], utcnow())
    await deps.kube.merge_patch(KIND, namespace, name, {"status": fresh}, subresource="status")
    return True
