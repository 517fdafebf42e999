"""Pure builders: everything the operator derives from a JeevesAction, as plain data.

`build_deployment`, `build_service`, `build_registration` and `build_status` take the spec, the
action's identity and the settings and return dicts; no I/O, no clock (callers pass `now`), so
they are tested against golden YAML. (Drift is the API server's business: `k8s.Kube.apply`
uses server-side apply; `ownership` finds what others added.)
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import Any, Literal

from jeeves_actionspec.declaration import registry_fields
from jeeves_operator.models import (
    API_VERSION,
    KIND,
    MANAGER,
    ActionRef,
    ActionSpec,
    ActionStatus,
    CanaryRegistration,
    Condition,
    EnvVar,
    Manifest,
    Observation,
    Registration,
    Track,
)
from jeeves_operator.settings import OperatorSettings

DEFAULT_RESOURCES: dict[str, dict[str, str | int]] = {
    "requests": {"cpu": "50m", "memory": "64Mi"},
    "limits": {"memory": "256Mi"},
}
RESERVED_ENV = frozenset(
    {"JEEVES_ENV", "JEEVES_BIND", "JEEVES_ETCD_ENDPOINTS", "JEEVES_ACTION", "JEEVES_TRACK"}
)
RUN_AS = 10001
_LABEL_VALUE = re.compile(r"[^A-Za-z0-9._-]")


def workload_name(action: str, track: Track = "stable") -> str:
    """Deployment and Service name: `jeeves-<action>`, `jeeves-<action>-canary`."""
    return f"jeeves-{action}" if track == "stable" else f"jeeves-{action}-canary"


def action_url(ref: ActionRef, port: int, track: Track = "stable") -> str:
    """`http://<service>.<namespace>.svc:<port>`, where the dispatcher calls the action."""
    return f"http://{workload_name(ref.name, track)}.{ref.namespace}.svc:{port}"


def image_version(image: str) -> str:
    """The tag (or digest prefix) of an image, usable as a label value."""
    tail = image.rsplit("/", 1)[-1]
    version = tail.split("@", 1)[1][7:19] if "@" in tail else tail.partition(":")[2] or "latest"
    return _LABEL_VALUE.sub("-", version)[:63].strip("-._") or "latest"


def selector_labels(ref: ActionRef, track: Track = "stable") -> dict[str, str]:
    """The only labels used in selectors; they never change for a given workload."""
    return {
        "app.kubernetes.io/name": workload_name(ref.name),
        "app.kubernetes.io/instance": workload_name(ref.name, track),
    }


def labels(ref: ActionRef, image: str, track: Track = "stable") -> dict[str, str]:
    return {
        **selector_labels(ref, track),
        "app.kubernetes.io/version": image_version(image),
        "app.kubernetes.io/component": "action",
        "app.kubernetes.io/part-of": "jeeves",
        "app.kubernetes.io/managed-by": MANAGER,
        "jeeves.dev/action": ref.name,
        "jeeves.dev/track": track,
    }


def scrape_annotations(port: int) -> dict[str, str]:
    """What a plain Prometheus's Pod discovery needs to scrape the action (the chart's
    PodMonitor selects by the labels above and the port named `http` instead)."""
    return {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(port),
        "prometheus.io/path": "/metrics",
    }


def build_owner_reference(ref: ActionRef) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "name": ref.name,
        "uid": ref.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _metadata(ref: ActionRef, image: str, track: Track) -> dict[str, Any]:
    return {
        "name": workload_name(ref.name, track),
        "namespace": ref.namespace,
        "labels": labels(ref, image, track),
        "ownerReferences": [build_owner_reference(ref)],
    }


def _image(spec: ActionSpec, track: Track) -> str:
    return spec["canary"]["image"] if track == "canary" else spec["image"]


def build_env(
    spec: ActionSpec, ref: ActionRef, settings: OperatorSettings, track: Track
) -> list[EnvVar]:
    """Platform variables first (they cannot be overridden), then the spec's own."""
    platform: list[EnvVar] = [
        {"name": "JEEVES_ENV", "value": settings.env},
        {"name": "JEEVES_BIND", "value": f"0.0.0.0:{spec.get('port', 8080)}"},
        {"name": "JEEVES_ETCD_ENDPOINTS", "value": ",".join(settings.etcd_endpoints)},
        {"name": "JEEVES_ACTION", "value": ref.name},
        {"name": "JEEVES_TRACK", "value": track},
    ]
    if settings.tokens_url:
        platform += build_auth_env(ref, settings.tokens_url)
    if settings.poster_url:
        platform.append({"name": "JEEVES_POSTER_URL", "value": settings.poster_url})
    taken = {item["name"] for item in platform}
    own = [
        copy.deepcopy(item)  # manifests never share objects with the spec or each other
        for item in spec.get("env", [])
        if item["name"] not in taken | RESERVED_ENV
    ]
    return platform + own


def auth_secret_name(ref: ActionRef) -> str:
    """The Secret an admin creates with the action's dealer client secret (key `client-secret`)."""
    return f"jeeves-{ref.name}-auth"


def build_auth_env(ref: ActionRef, tokens_url: str) -> list[EnvVar]:
    """Authentication: verify callers' tokens for audience <name>; call others as client <name>.

    The client secret comes from an optional Secret, so an action that calls no other service
    (echo) runs without one.
    """
    secret = {"name": auth_secret_name(ref), "key": "client-secret", "optional": True}
    return [
        {"name": "JEEVES_TOKENS_URL", "value": tokens_url},
        {"name": "JEEVES_AUTH_AUDIENCE", "value": ref.name},
        {"name": "JEEVES_AUTH_CLIENT_ID", "value": ref.name},
        {"name": "JEEVES_AUTH_CLIENT_SECRET", "valueFrom": {"secretKeyRef": secret}},
    ]


def _probe(path: str, *, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    }


def build_container(
    spec: ActionSpec, ref: ActionRef, settings: OperatorSettings, track: Track
) -> dict[str, Any]:
    return {
        "name": "action",
        "image": _image(spec, track),
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": spec.get("port", 8080), "protocol": "TCP"}],
        "env": build_env(spec, ref, settings, track),
        "resources": copy.deepcopy(spec.get("resources") or DEFAULT_RESOURCES),
        "livenessProbe": _probe("/healthz", period=10, failures=3),
        "readinessProbe": _probe("/readyz", period=5, failures=2),
        "securityContext": {
            "runAsNonRoot": True,
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108 (an emptyDir)
    }


def _replicas(spec: ActionSpec, track: Track) -> int:
    if track == "canary":
        return 1 if spec["canary"]["percent"] > 0 else 0
    return spec.get("replicas", 1)


def build_deployment(
    spec: ActionSpec, ref: ActionRef, settings: OperatorSettings, track: Track = "stable"
) -> Manifest:
    """The Deployment running one track of the action."""
    image = _image(spec, track)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(ref, image, track),
        "spec": {
            "replicas": _replicas(spec, track),
            "revisionHistoryLimit": 3,
            "selector": {"matchLabels": selector_labels(ref, track)},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
            },
            "template": {
                "metadata": {
                    "labels": labels(ref, image, track),
                    "annotations": scrape_annotations(spec.get("port", 8080)),
                },
                "spec": {
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": RUN_AS,
                        "runAsGroup": RUN_AS,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [build_container(spec, ref, settings, track)],
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
                },
            },
        },
    }


def build_service(
    spec: ActionSpec, ref: ActionRef, settings: OperatorSettings, track: Track = "stable"
) -> Manifest:
    """The ClusterIP Service in front of one track; its DNS name is in the registration."""
    del settings  # same signature as the other builders; nothing platform-specific here
    port = spec.get("port", 8080)
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(ref, _image(spec, track), track),
        "spec": {
            "type": "ClusterIP",
            "selector": selector_labels(ref, track),
            "ports": [{"name": "http", "port": port, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def tracks(spec: ActionSpec) -> tuple[Track, ...]:
    return ("stable", "canary") if "canary" in spec else ("stable",)


def build_manifests(spec: ActionSpec, ref: ActionRef, settings: OperatorSettings) -> list[Manifest]:
    """Every object the action needs, in apply order (Deployments before Services)."""
    deployments = [build_deployment(spec, ref, settings, track) for track in tracks(spec)]
    services = [build_service(spec, ref, settings, track) for track in tracks(spec)]
    return deployments + services


def build_registration(
    spec: ActionSpec, ref: ActionRef, settings: OperatorSettings
) -> Registration:
    """The etcd value for /jeeves/<env>/actions/<name>."""
    del settings
    port = spec.get("port", 8080)
    registration: Registration = {
        "keywords": list(spec["keywords"]),
        "url": action_url(ref, port),
        "description": spec.get("description", ""),
        "usage": spec.get("usage", ""),
        "timeout_s": spec.get("timeoutSeconds", 10),
        "enabled": spec.get("enabled", True),
    }
    if "canary" in spec:
        canary: CanaryRegistration = {
            "url": action_url(ref, port, "canary"),
            "percent": spec["canary"]["percent"],
        }
        registration["canary"] = canary
    declared = registry_fields(spec)  # commands, policy, schedule: carried to the dispatcher
    if "commands" in declared:
        registration["commands"] = declared["commands"]
    if "policy" in declared:
        registration["policy"] = declared["policy"]
    if "schedule" in declared:
        registration["schedule"] = declared["schedule"]
    return registration


Status = Literal["True", "False", "Unknown"]


def _condition(kind: str, ok: bool, reason: str, message: str, generation: int) -> Condition:
    status: Status = "True" if ok else "False"
    return {
        "type": kind,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": "",
        "observedGeneration": generation,
    }


def _registered(obs: Observation) -> Condition:
    if obs.problem is not None:
        problem = obs.problem
        return _condition("Registered", False, problem.reason, problem.message, obs.generation)
    return _condition(
        "Registered", obs.registered, obs.registry_reason, obs.registry_message, obs.generation
    )


def _progressing(obs: Observation) -> Condition:
    if obs.problem is not None:
        return _condition("Progressing", False, obs.problem.reason, "not applied", obs.generation)
    rolling = obs.ready_replicas < obs.desired_replicas
    reason = "RollingOut" if rolling else "Complete"
    message = f"{obs.ready_replicas}/{obs.desired_replicas} replicas ready"
    return _condition("Progressing", rolling, reason, message, obs.generation)


def _ready(obs: Observation) -> Condition:
    if obs.problem is not None:
        return _condition("Ready", False, obs.problem.reason, obs.problem.message, obs.generation)
    available = obs.ready_replicas >= obs.desired_replicas and obs.ready_replicas > 0
    if not available:
        message = f"{obs.ready_replicas}/{obs.desired_replicas} replicas ready"
        return _condition("Ready", False, "Unavailable", message, obs.generation)
    if not obs.registered:
        return _condition("Ready", False, "NotRegistered", obs.registry_message, obs.generation)
    return _condition("Ready", True, "Available", "serving and registered", obs.generation)


def _keep_transition_time(
    condition: Condition, previous: Sequence[Condition], now: str
) -> Condition:
    """A condition keeps its lastTransitionTime until its status flips."""
    for old in previous:
        if old.get("type") == condition["type"] and old.get("status") == condition["status"]:
            return {**condition, "lastTransitionTime": old.get("lastTransitionTime") or now}
    return {**condition, "lastTransitionTime": now}


def build_status(obs: Observation, previous: Sequence[Condition], now: str) -> ActionStatus:
    """`.status` of a JeevesAction from what a reconcile observed."""
    fresh = [_ready(obs), _progressing(obs), _registered(obs)]
    return {
        "conditions": [_keep_transition_time(c, previous, now) for c in fresh],
        "url": obs.url if obs.problem is None else "",
        "readyReplicas": obs.ready_replicas,
        "observedGeneration": obs.generation,
    }
