"""Consistency checks over a rendered chart: the mistakes that render fine and fail in a cluster.

Each `*_problems` function takes a `Rendering` and returns one line per problem (empty: fine):
Services that select no Pod or point at a port no container has, references to Secrets,
ConfigMaps, keys, volumes or `$(VAR)`s that do not exist (or do not exist yet when a
pre-install hook runs), JEEVES_BIND not matching the `http` port, probes, security contexts,
resources and labels. Pure functions: no cluster.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from support.helm import HOOK, KubeObject, Rendering, annotations_of

WORKLOADS = ("Deployment", "StatefulSet", "Job")
RUN_AS = 10001
# Images that run as another non-root user (docs/images.md): jeeves-postgres as the official
# image's postgres user.
OTHER_USERS = {"jeeves-postgres": 999}


def pod_spec(obj: KubeObject) -> dict[str, Any]:
    spec: dict[str, Any] = obj["spec"]["template"]["spec"]
    return spec


def workloads(rendering: Rendering) -> list[KubeObject]:
    return [o for o in rendering.objects if o["kind"] in WORKLOADS]


def containers(spec: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    yield from spec.get("initContainers") or []
    yield from spec.get("containers") or []


def where(obj: KubeObject, container: Mapping[str, Any] | None = None) -> str:
    name = f"{obj['kind']} {obj['metadata']['name']}"
    return f"{name} container {container['name']}" if container else name


def _selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def service_problems(rendering: Rendering) -> list[str]:
    """Each Service selects the Pods of exactly one workload, on ports those Pods expose."""
    found = []
    for service in rendering.of_kind("Service"):
        selector = service["spec"].get("selector") or {}
        targets = [
            w
            for w in workloads(rendering)
            if _selects(selector, w["spec"]["template"]["metadata"].get("labels") or {})
        ]
        if len(targets) != 1:
            names = [w["metadata"]["name"] for w in targets]
            found.append(f"{where(service)} selects {len(targets)} workloads {names}")
            continue
        ports = [
            p for c in pod_spec(targets[0])["containers"] for p in c.get("ports") or []
        ]  # init containers serve nothing
        for port in service["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            if not any(target in (p.get("name"), p["containerPort"]) for p in ports):
                found.append(
                    f"{where(service)} port {port['name']} targets {target!r}, which no "
                    f"container of {where(targets[0])} exposes"
                )
    return found


def _secret_names(rendering: Rendering, hooks_before: float | None) -> dict[str, set[str]]:
    """Rendered Secrets -> their keys; with `hooks_before`, only hooks of a lower weight."""
    names: dict[str, set[str]] = {}
    for secret in rendering.of_kind("Secret"):
        marks = annotations_of(secret)
        if hooks_before is not None and (
            HOOK not in marks or float(marks.get("helm.sh/hook-weight", "0")) >= hooks_before
        ):
            continue
        data = {**(secret.get("data") or {}), **(secret.get("stringData") or {})}
        names[secret["metadata"]["name"]] = set(data)
    return names


def _config_maps(rendering: Rendering) -> dict[str, set[str]]:
    return {c["metadata"]["name"]: set(c.get("data") or {}) for c in rendering.of_kind("ConfigMap")}


def _pre_install(obj: KubeObject) -> float | None:
    """The weight of a pre-install hook (it runs before the release's objects exist)."""
    marks = annotations_of(obj)
    if "pre-install" in marks.get(HOOK, "").split(","):
        return float(marks.get("helm.sh/hook-weight", "0"))
    return None


def _refs(spec: Mapping[str, Any]) -> Iterator[tuple[str, str, str | None, bool]]:
    """(kind, name, key or None, optional) of every Secret/ConfigMap a Pod spec uses."""
    for container in containers(spec):
        for env in container.get("env") or []:
            source = env.get("valueFrom") or {}
            for field, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
                if field in source:
                    ref = source[field]
                    yield kind, ref["name"], ref["key"], bool(ref.get("optional"))
    for volume in spec.get("volumes") or []:
        if "secret" in volume:
            items = volume["secret"].get("items") or [{"key": None}]
            for item in items:
                yield "Secret", volume["secret"]["secretName"], item["key"], False
        if "configMap" in volume:
            yield "ConfigMap", volume["configMap"]["name"], None, False
        for source in (volume.get("projected") or {}).get("sources") or []:
            if "secret" in source:
                for item in source["secret"].get("items") or [{"key": None}]:
                    yield "Secret", source["secret"]["name"], item["key"], False


def reference_problems(rendering: Rendering, existing: Mapping[str, tuple[str, ...]]) -> list[str]:
    """Every Secret/ConfigMap (and key) a Pod uses is rendered, or is one the user made
    (`existing`: name -> keys, empty for any). Pre-install hooks may only use Secrets that exist
    before them: the user's, or hooks of a lower weight."""
    found = []
    config_maps = _config_maps(rendering)
    for obj in workloads(rendering):
        weight = _pre_install(obj)
        secrets = _secret_names(rendering, weight)
        for kind, name, key, optional in _refs(pod_spec(obj)):
            if optional:
                continue
            made = (secrets if kind == "Secret" else config_maps).get(name)
            if made is None and name in existing and kind == "Secret":
                if key and existing[name] and key not in existing[name]:
                    found.append(f"{where(obj)} uses key {key} of Secret {name}, not provided")
                continue
            if made is None:
                when = " before pre-install hooks run" if weight is not None else ""
                found.append(f"{where(obj)} uses {kind} {name}, which does not exist{when}")
            elif key and key not in made:
                found.append(f"{where(obj)} uses key {key} of {kind} {name}, which lacks it")
    return found


EXPANSION = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def wiring_problems(rendering: Rendering) -> list[str]:
    """Mounts name volumes that exist; $(VAR) names a variable defined earlier; JEEVES_BIND
    listens on the container's `http` port."""
    found = []
    for obj in workloads(rendering):
        spec = pod_spec(obj)
        claims = obj["spec"].get("volumeClaimTemplates") or []
        volumes = {v["name"] for v in spec.get("volumes") or []}
        volumes |= {c["metadata"]["name"] for c in claims}
        for container in containers(spec):
            for mount in container.get("volumeMounts") or []:
                if mount["name"] not in volumes:
                    found.append(f"{where(obj, container)} mounts missing volume {mount['name']}")
            seen: set[str] = set()
            env = {}
            for item in container.get("env") or []:
                for var in EXPANSION.findall(str(item.get("value", ""))):
                    if var not in seen:
                        found.append(f"{where(obj, container)}: $({var}) before it is defined")
                seen.add(item["name"])
                env[item["name"]] = item.get("value")
            http = [p["containerPort"] for p in container.get("ports") or [] if p["name"] == "http"]
            bind = env.get("JEEVES_BIND")
            if bind is not None and (not http or not str(bind).endswith(f":{http[0]}")):
                found.append(f"{where(obj, container)}: JEEVES_BIND {bind} but http port {http}")
    return found


def security_problems(rendering: Rendering) -> list[str]:
    """Non-root 10001, no privilege escalation, read-only root with an emptyDir /tmp, no
    capabilities, memory limits, CPU and memory requests, for every container."""
    found = []
    for obj in workloads(rendering):
        spec = pod_spec(obj)
        pod = spec.get("securityContext") or {}
        user = OTHER_USERS.get(obj["metadata"]["name"], RUN_AS)
        if not (pod.get("runAsNonRoot") and pod.get("runAsUser") == user):
            found.append(f"{where(obj)}: Pod not runAsNonRoot as {user}")
        empty_dirs = {v["name"] for v in spec.get("volumes") or [] if "emptyDir" in v}
        for container in containers(spec):
            context = container.get("securityContext") or {}
            wanted = {
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "runAsNonRoot": True,
            }
            for field, value in wanted.items():
                if context.get(field) is not value:
                    found.append(f"{where(obj, container)}: {field} is not {value}")
            if (context.get("capabilities") or {}).get("drop") != ["ALL"]:
                found.append(f"{where(obj, container)}: capabilities not dropped")
            tmp = [m for m in container.get("volumeMounts") or [] if m["mountPath"] == "/tmp"]
            if not tmp or tmp[0]["name"] not in empty_dirs:
                found.append(f"{where(obj, container)}: no emptyDir at /tmp")
            resources = container.get("resources") or {}
            requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
            if not {"cpu", "memory"} <= set(requests) or "memory" not in limits:
                found.append(f"{where(obj, container)}: needs cpu+memory requests, memory limit")
    return found


def probe_problems(rendering: Rendering) -> list[str]:
    """Jeeves services: liveness /healthz and readiness /readyz on the `http` port."""
    found = []
    for deployment in rendering.of_kind("Deployment"):
        for container in pod_spec(deployment)["containers"]:
            for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
                got = (container.get(probe) or {}).get("httpGet") or {}
                if got.get("path") != path or got.get("port") != "http":
                    found.append(f"{where(deployment, container)}: {probe} is not {path} on http")
    return found


def label_problems(rendering: Rendering) -> list[str]:
    """The shared contract: part-of jeeves everywhere; a deployable's Deployment and Service
    are named jeeves-X with name label jeeves-X and component X; selectors use name+instance."""
    found = []
    for obj in rendering.objects:
        labels = obj["metadata"].get("labels") or {}
        if labels.get("app.kubernetes.io/part-of") != "jeeves":
            found.append(f"{where(obj)}: no app.kubernetes.io/part-of=jeeves")
    for obj in rendering.of_kind("Deployment"):
        name = obj["metadata"]["name"]
        labels = obj["spec"]["template"]["metadata"]["labels"]
        component = name.removeprefix("jeeves-")
        if (
            labels.get("app.kubernetes.io/name") != name
            or labels.get("app.kubernetes.io/component") != component
        ):
            found.append(f"{where(obj)}: Pod labels do not name {name} / component {component}")
        if set(obj["spec"]["selector"]["matchLabels"]) != {
            "app.kubernetes.io/name",
            "app.kubernetes.io/instance",
        }:
            found.append(f"{where(obj)}: selector is not name + instance")
    return found


def all_problems(rendering: Rendering, existing: Mapping[str, tuple[str, ...]]) -> list[str]:
    return [
        *service_problems(rendering),
        *reference_problems(rendering, existing),
        *wiring_problems(rendering),
        *security_problems(rendering),
        *probe_problems(rendering),
        *label_problems(rendering),
    ]
