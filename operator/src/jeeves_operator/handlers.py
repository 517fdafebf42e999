"""kopf handlers: decorators only. Each one turns kopf's kwargs into plain values, calls the
reconcile layer (which writes the status itself, under the action's lock), and turns its
`Outcome` into Events and retries.

Registered on an explicit `kopf.OperatorRegistry` by `register()` so the drift interval and the
dependencies come from settings, not from import-time globals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

import kopf

from jeeves_operator import claims, reconcile
from jeeves_operator.leadership import Standby, StartupGate
from jeeves_operator.models import GROUP, MANAGER, PLURAL, VERSION, ActionRef, ActionSpec
from jeeves_operator.reconcile import Deps, Outcome, Trigger
from jeeves_operator.registry import RegistryUnavailable

ACTIONS = (GROUP, VERSION, PLURAL)


def _ref(meta: Mapping[str, Any]) -> ActionRef:
    return ActionRef(
        name=str(meta["name"]),
        namespace=str(meta["namespace"]),
        uid=str(meta["uid"]),
        generation=int(meta.get("generation") or 1),
        created=str(meta.get("creationTimestamp") or ""),
    )


def _spec(spec: Mapping[str, Any]) -> ActionSpec:
    return cast(ActionSpec, dict(spec))


def _post(body: kopf.Body, outcome_notes: Iterable[reconcile.Note]) -> None:
    for note in outcome_notes:
        kopf.event(body, type=note.type, reason=note.reason, message=note.message)


async def _take_turn(gate: StartupGate, namespace: str, delay: float) -> None:
    try:
        await gate.check(namespace)
    except Standby as exc:
        raise kopf.TemporaryError(str(exc), delay=delay) from exc


async def _reconcile(trigger: Trigger, deps: Deps, kwargs: dict[str, Any]) -> Outcome:
    outcome = await reconcile.reconcile(
        _spec(kwargs["spec"]),
        _ref(kwargs["meta"]),
        dict(kwargs["status"] or {}),
        cast(Mapping[str, Iterable[claims.Claim]], kwargs["claims_index"]),
        deps,
        trigger,
    )
    _post(kwargs["body"], outcome.notes)
    return outcome


def _retry_unless_done(outcome: Outcome, deps: Deps) -> None:
    """etcd down or an object refused: the status says why; kopf retries the handler."""
    if outcome.result in ("retry", "error"):
        ready = next(c for c in outcome.status["conditions"] if c["type"] == "Ready")
        raise kopf.TemporaryError(ready["message"], delay=deps.settings.retry_delay)


def register(registry: kopf.OperatorRegistry, deps: Deps, gate: StartupGate) -> None:
    """Attach every handler of the operator to `registry`."""
    standby_delay = float(deps.settings.peering_lifetime)

    @kopf.on.login(id="login", registry=registry)
    def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
        # The same credentials the `k8s` layer loads: in-cluster, else the kubeconfig.
        return kopf.login_via_client(**kwargs)

    @kopf.index(*ACTIONS, id="claims_index", registry=registry)
    def claims_index(spec: kopf.Spec, meta: kopf.Meta, **_: Any) -> dict[str, claims.Claim]:
        ref = _ref(meta)
        claim = claims.claim_of(ref)
        return {key: claim for key in claims.claim_keys(_spec(spec), ref)}

    @kopf.index(*ACTIONS, id="ready_index", registry=registry)
    def ready_index(meta: kopf.Meta, status: kopf.Status, **_: Any) -> dict[Any, int]:
        ready = int(status.get("readyReplicas") or 0)
        return {(meta["namespace"], meta["name"]): ready}

    @kopf.on.create(*ACTIONS, id="create", registry=registry)
    @kopf.on.update(*ACTIONS, id="update", field="spec", registry=registry)
    async def changed(**kwargs: Any) -> None:
        await _take_turn(gate, kwargs["namespace"], standby_delay)
        _retry_unless_done(await _reconcile("change", deps, kwargs), deps)

    @kopf.on.resume(*ACTIONS, id="resume", registry=registry)
    async def resumed(**kwargs: Any) -> None:
        await _take_turn(gate, kwargs["namespace"], standby_delay)
        _retry_unless_done(await _reconcile("resume", deps, kwargs), deps)

    interval = deps.settings.drift_interval

    @kopf.timer(*ACTIONS, id="drift", interval=interval, initial_delay=interval, registry=registry)
    async def drift(**kwargs: Any) -> None:
        await _take_turn(gate, kwargs["namespace"], standby_delay)
        first = not (kwargs["status"] or {}).get("observedGeneration")
        await _reconcile("change" if first else "drift", deps, kwargs)

    @kopf.on.delete(*ACTIONS, id="unregister", registry=registry)
    async def deleted(spec: kopf.Spec, meta: kopf.Meta, body: kopf.Body, **_: Any) -> None:
        await _take_turn(gate, str(meta["namespace"]), standby_delay)
        try:
            note = await reconcile.finalize(_spec(spec), _ref(meta), deps)
        except RegistryUnavailable as exc:
            raise kopf.TemporaryError(str(exc), delay=deps.settings.retry_delay) from exc
        _post(body, [note] if note else [])

    @kopf.on.event(
        "apps",
        "v1",
        "deployments",
        id="deployment_event",
        registry=registry,
        labels={"app.kubernetes.io/managed-by": MANAGER},
    )
    async def deployment_event(body: kopf.Body, type: str, **kwargs: Any) -> None:
        if type == "DELETED":
            return
        try:
            await gate.check(str(body.metadata.namespace))
        except Standby:
            return  # the active replica reflects it; events are not retried
        deployment = dict(body)
        ready: kopf.Index[Any, int] = kwargs["ready_index"]
        owner = (body.metadata.namespace, reconcile.owner_name(deployment))
        known = next(iter(ready.get(owner, [])), None)
        await reconcile.reflect_deployment(deployment, deps, known)
