"""A Kubernetes API stand-in good enough for `kubectl` and a real `kopf run`: kmock 0.8 extended.

kmock's `KubernetesScaffold` gives discovery, routing, error rendering and the HTTP server; this
subclass adds what kmock 0.8 lacks (see DESIGN.md, "Facts about this environment"): its own
object store with uid/resourceVersion/generation/creationTimestamp, `kind` on lists, a correct
`/api/v1` groupVersion, cluster-scoped namespaces, label and field selectors, watches that
replay from a resourceVersion and honour `timeoutSeconds`, CRD registration (creating a CRD
serves its resource), status subresources, finalizers, owner-reference garbage collection,
injected failures (`faults[(method, resource)] = (status, message)`) and held requests
(`gates[(method, resource, subresource)] = Gate()`).

What is faked: there are no controllers (no ReplicaSets, Pods, or Deployment status: tests patch
status themselves), no admission, no schema validation or defaulting, and strategic-merge
patches and server-side apply (`application/apply-patch+yaml`) are treated as JSON merge
patches: there are no `managedFields`, no quantity normalisation, no field ownership. What the
operator's drift handling owes to server-side apply (a normalised `cpu: 1000m` is no drift, keys
added by hand are removed) is therefore tested on the real tier (tests/k8s/apiserver).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import datetime
import itertools
import json
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

import aiohttp.web
import jsonpatch
import jsonpointer
import kmock
from kmock._internal import parsing, rendering

Obj = dict[str, Any]
Key = tuple[str, str, str]  # (group/version/plural, namespace or "", name)

BUILTIN: dict[str, tuple[str, bool, tuple[str, ...], tuple[str, ...]]] = {
    # group/version/plural: (kind, namespaced, subresources, short names)
    "/v1/namespaces": ("Namespace", False, ("status",), ("ns",)),
    "/v1/events": ("Event", True, (), ("ev",)),
    "/v1/services": ("Service", True, ("status",), ("svc",)),
    "/v1/pods": ("Pod", True, ("status",), ("po",)),
    "/v1/configmaps": ("ConfigMap", True, (), ("cm",)),
    "/v1/serviceaccounts": ("ServiceAccount", True, (), ("sa",)),
    "apps/v1/deployments": ("Deployment", True, ("status", "scale"), ("deploy",)),
    "apps/v1/replicasets": ("ReplicaSet", True, ("status", "scale"), ("rs",)),
    "apiextensions.k8s.io/v1/customresourcedefinitions": (
        "CustomResourceDefinition",
        False,
        ("status",),
        ("crd", "crds"),
    ),
    "rbac.authorization.k8s.io/v1/clusterroles": ("ClusterRole", False, (), ()),
    "rbac.authorization.k8s.io/v1/clusterrolebindings": ("ClusterRoleBinding", False, (), ()),
    "rbac.authorization.k8s.io/v1/roles": ("Role", True, (), ()),
    "rbac.authorization.k8s.io/v1/rolebindings": ("RoleBinding", True, (), ()),
}
VERBS = ("create", "delete", "get", "list", "patch", "update", "watch")


def _parse_path(path: str) -> parsing.ParsedPath:
    """kmock's parser, plus `/api/v1/namespaces[/<name>[/status]]` as the namespaces resource."""
    parts = path.strip("/").split("/")
    if parts[:3] == ["api", "v1", "namespaces"] and (
        len(parts) <= 4 or (len(parts) == 5 and parts[4] in ("status", "finalize"))
    ):
        name = parts[3] if len(parts) > 3 else None
        sub = parts[4] if len(parts) > 4 else None
        return parsing.ParsedPath("", "v1", "namespaces", None, name, sub)
    return _original_parse_path(path)


_original_parse_path = parsing.parse_path
parsing.parse_path = _parse_path  # kmock 0.8 crashes on /api/v1/namespaces (a list path)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _selector_matches(selector: str, labels: dict[str, str]) -> bool:
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key.strip()) == value.strip():
                return False
        elif "=" in term:
            key, value = term.replace("==", "=").split("=", 1)
            if labels.get(key.strip()) != value.strip():
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


def _payload(request: rendering.Request) -> Any:
    """The JSON body (kmock only decodes it for a few content types)."""
    try:
        return json.loads(request.body) if request.body else None
    except ValueError:
        return None


def _patched(old: Obj, request: rendering.Request, *, replace: bool) -> Obj:
    """`old` after a JSON patch (a list), a merge patch (an object) or a replacement (PUT)."""
    body = _payload(request)
    if isinstance(body, list):
        try:
            return dict(jsonpatch.apply_patch(old, body))
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
            raise kmock.KubernetesError(422, "Invalid", f"JSON patch failed: {exc}") from None
    if not isinstance(body, dict):
        raise kmock.KubernetesError(415, "UnsupportedMediaType", "send JSON")
    if replace:
        return {**body, "metadata": merge_patch(old["metadata"], body.get("metadata", {}))}
    return dict(merge_patch(old, body))


@dataclass
class Query:
    """What a list or watch asks for."""

    resource: str
    namespace: str | None
    name: str | None
    labels: str
    fields: str

    def matches(self, obj: Obj) -> bool:
        meta = obj.get("metadata", {})
        if self.namespace is not None and meta.get("namespace", "") != self.namespace:
            return False
        if self.name is not None and meta.get("name") != self.name:
            return False
        if self.labels and not _selector_matches(self.labels, meta.get("labels") or {}):
            return False
        flat = {"metadata.name": meta.get("name", ""), "metadata.namespace": meta.get("namespace")}
        return _selector_matches(self.fields, {k: v for k, v in flat.items() if v is not None})


class Gate:
    """Holds matching requests until `open()`; `reached` is set when the first one arrives."""

    def __init__(self) -> None:
        self.reached = asyncio.Event()
        self._open = asyncio.Event()

    async def hold(self) -> None:
        self.reached.set()
        await self._open.wait()

    def open(self) -> None:
        self._open.set()


class KubeEmulator(kmock.KubernetesScaffold):
    """An in-memory API server: kmock's scaffold + a store, watches, CRDs and GC."""

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.store: dict[Key, Obj] = {}
        # Injected failures: (METHOD, resource) -> (status, message), e.g. ("POST", "/v1/services").
        self.faults: dict[tuple[str, str], tuple[int, str]] = {}
        # Held requests: (METHOD, resource, subresource or "") -> a Gate the test opens, so a
        # test can stop a client mid-way (deterministic interleavings, no sleeps).
        self.gates: dict[tuple[str, str, str], Gate] = {}
        self.kinds: dict[str, tuple[str, bool, tuple[str, ...]]] = {}
        self.history: list[tuple[int, str, Obj]] = []  # (resourceVersion, resource, event)
        self.watchers: list[tuple[str, asyncio.Queue[Obj]]] = []
        self._revision = itertools.count(1000)
        self.revision = 1000
        for resource, info in BUILTIN.items():
            self.serve(resource, *info)

    # -- discovery -----------------------------------------------------------------------------

    def serve(
        self,
        resource: str,
        kind: str,
        namespaced: bool,
        subresources: Iterable[str] = (),
        shortnames: Iterable[str] = (),
        singular: str = "",
    ) -> None:
        """Make `group/version/plural` a served resource (discovery + storage)."""
        self.kinds[resource] = (kind, namespaced, tuple(subresources))
        self.resources[resource.lstrip("/")] = kmock.ResourceInfo(
            kind=kind,
            namespaced=namespaced,
            verbs=set(VERBS),
            shortnames=set(shortnames),
            subresources=set(subresources),
            singular=singular or kind.lower(),
        )

    async def _serve_version(self, request: rendering.Request) -> rendering.Payload:
        payload = await super()._serve_version(request)
        if isinstance(payload, dict) and request.resource and request.resource.group == "":
            payload["groupVersion"] = request.resource.version  # kmock says "/v1"
        return payload

    # -- the request entry point ---------------------------------------------------------------

    async def _handle(self, request: rendering.Request) -> aiohttp.web.StreamResponse:
        res = request.resource
        if res is None or not res.plural:
            return await super()._handle(request)
        resource = f"{res.group}/{res.version}/{res.plural}"
        if resource not in self.kinds:
            return await self._render_error(
                kmock.KubernetesNotFoundError(
                    reason="NotFound",
                    message=f"the server could not find the requested resource {resource}",
                )
            )
        try:
            return await self._dispatch(request, resource)
        except kmock.KubernetesError as exc:
            return await self._render_error(exc)

    async def _dispatch(
        self, request: rendering.Request, resource: str
    ) -> aiohttp.web.StreamResponse:
        method = str(request.method.value).upper()
        gate = self.gates.get((method, resource, request.subresource or ""))
        if gate is not None:
            await gate.hold()
        if (method, resource) in self.faults:
            status, message = self.faults[method, resource]
            raise kmock.KubernetesError(status, "InternalError", message)
        if method == "GET" and request.params.get("watch") in ("true", "1"):
            return await self._watch(request, resource)
        if method == "GET" and request.name is None:
            return aiohttp.web.json_response(self._list(request, resource))
        if method == "GET":
            return aiohttp.web.json_response(self._get(self._key(request, resource)))
        if method == "POST" and request.name is None:
            return aiohttp.web.json_response(await self._create(request, resource), status=201)
        applying = "apply-patch" in str(request.headers.get("Content-Type", ""))
        if applying and request.name is not None and self._key(request, resource) not in self.store:
            # server-side apply creates a missing object
            return aiohttp.web.json_response(await self._create(request, resource), status=201)
        if method in ("PATCH", "PUT") and request.name is not None:
            obj = await self._update(request, resource, replace=method == "PUT")
            return aiohttp.web.json_response(obj)
        if method == "DELETE" and request.name is not None:
            return aiohttp.web.json_response(await self._delete(self._key(request, resource)))
        raise kmock.KubernetesError(405, "MethodNotAllowed", f"{method} not supported here")

    # -- storage -------------------------------------------------------------------------------

    def _key(self, request: rendering.Request, resource: str, name: str | None = None) -> Key:
        namespaced = self.kinds[resource][1]
        namespace = (request.namespace or "") if namespaced else ""
        return (resource, namespace, name or request.name or "")

    def _get(self, key: Key) -> Obj:
        if key not in self.store:
            raise kmock.KubernetesError(
                404,
                "NotFound",
                f'{key[0]} "{key[2]}" not found',
                {"name": key[2], "kind": self.kinds[key[0]][0]},
            )
        return copy.deepcopy(self.store[key])

    def _list(self, request: rendering.Request, resource: str) -> Obj:
        query = self._query(request, resource)
        items = [copy.deepcopy(o) for (r, _, _), o in sorted(self.store.items()) if r == resource]
        kind = self.kinds[resource][0]
        return {
            "apiVersion": resource.rsplit("/", 1)[0].lstrip("/"),
            "kind": f"{kind}List",
            "metadata": {"resourceVersion": str(self.revision)},
            "items": [item for item in items if query.matches(item)],
        }

    def _query(self, request: rendering.Request, resource: str) -> Query:
        return Query(
            resource,
            request.namespace if self.kinds[resource][1] else None,
            None,
            request.params.get("labelSelector", ""),
            request.params.get("fieldSelector", ""),
        )

    def _stamp(self, obj: Obj) -> None:
        self.revision = next(self._revision)
        obj["metadata"]["resourceVersion"] = str(self.revision)

    async def _emit(self, kind: str, resource: str, obj: Obj) -> None:
        event = {"type": kind, "object": copy.deepcopy(obj)}
        self.history.append((self.revision, resource, event))
        del self.history[:-20000]
        for watched, queue in list(self.watchers):
            if watched == resource:
                queue.put_nowait(event)

    async def _create(self, request: rendering.Request, resource: str) -> Obj:
        obj = _payload(request)
        if not isinstance(obj, dict):
            raise kmock.KubernetesError(415, "UnsupportedMediaType", "send JSON")
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        key = self._key(request, resource, meta.get("name"))
        if key in self.store:
            raise kmock.KubernetesError(
                409,
                "AlreadyExists",
                f'{resource} "{key[2]}" already exists',
                {"name": key[2], "kind": self.kinds[resource][0]},
            )
        kind = self.kinds[resource][0]
        obj.setdefault("apiVersion", resource.rsplit("/", 1)[0].lstrip("/"))
        obj.setdefault("kind", kind)
        if key[1]:
            meta["namespace"] = key[1]
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        meta.update(uid=str(uuid.uuid4()), creationTimestamp=now, generation=1)
        self._stamp(obj)
        self.store[key] = obj
        if kind == "CustomResourceDefinition":
            self._register_crd(obj)
        await self._emit("ADDED", resource, obj)
        return copy.deepcopy(obj)

    async def _update(self, request: rendering.Request, resource: str, *, replace: bool) -> Obj:
        key = self._key(request, resource)
        old = self._get(key)
        candidate = _patched(old, request, replace=replace)
        new = copy.deepcopy(old)
        if request.subresource == "status":
            new["status"] = candidate.get("status")
        elif request.subresource == "scale":
            new.setdefault("spec", {})["replicas"] = candidate.get("spec", {}).get("replicas")
        else:
            new = candidate
            if "status" in self.kinds[resource][2]:
                new["status"] = old.get("status")
        new = {k: v for k, v in new.items() if v is not None}
        for field in ("uid", "creationTimestamp", "deletionTimestamp"):
            if field in old["metadata"]:
                new["metadata"][field] = old["metadata"][field]
        if new.get("spec") != old.get("spec"):
            new["metadata"]["generation"] = int(old["metadata"].get("generation", 1)) + 1
        if new == old:
            return old
        self._stamp(new)
        self.store[key] = new
        await self._emit("MODIFIED", resource, new)
        if new["metadata"].get("deletionTimestamp") and not new["metadata"].get("finalizers"):
            await self._remove(key)
        return copy.deepcopy(new)

    async def _delete(self, key: Key) -> Obj:
        obj = self._get(key)
        meta = obj["metadata"]
        if meta.get("finalizers"):
            if not meta.get("deletionTimestamp"):
                meta["deletionTimestamp"] = datetime.datetime.now(datetime.UTC).strftime(
                    "%Y-%m-%dT%H:%M:%SZ"
                )
                self._stamp(obj)
                self.store[key] = obj
                await self._emit("MODIFIED", key[0], obj)
            return copy.deepcopy(obj)
        await self._remove(key)
        return obj

    async def _remove(self, key: Key) -> None:
        obj = self.store.pop(key)
        self._stamp(obj)
        await self._emit("DELETED", key[0], obj)
        if obj.get("kind") == "CustomResourceDefinition":
            self._unregister_crd(obj)
        await self._collect_garbage()

    async def _collect_garbage(self) -> None:
        """Background propagation: dependents whose every owner is gone are deleted."""
        live = {o["metadata"].get("uid") for o in self.store.values()}
        for key, obj in list(self.store.items()):
            owners = obj["metadata"].get("ownerReferences") or []
            if owners and not any(ref.get("uid") in live for ref in owners) and key in self.store:
                with contextlib.suppress(kmock.KubernetesError):
                    await self._delete(key)

    # -- CRDs ----------------------------------------------------------------------------------

    def _register_crd(self, crd: Obj) -> None:
        spec = crd["spec"]
        names = spec["names"]
        for version in spec.get("versions", []):
            if version.get("served", True):
                self.serve(
                    f"{spec['group']}/{version['name']}/{names['plural']}",
                    names["kind"],
                    spec.get("scope", "Namespaced") == "Namespaced",
                    tuple((version.get("subresources") or {}).keys()),
                    names.get("shortNames", ()),
                    names.get("singular", ""),
                )

    def _unregister_crd(self, crd: Obj) -> None:
        spec = crd["spec"]
        for version in spec.get("versions", []):
            resource = f"{spec['group']}/{version['name']}/{spec['names']['plural']}"
            self.kinds.pop(resource, None)
            if resource in self.resources:
                del self.resources[resource]

    # -- watches -------------------------------------------------------------------------------

    async def _watch(self, request: rendering.Request, resource: str) -> aiohttp.web.StreamResponse:
        query = self._query(request, resource)
        since = request.params.get("resourceVersion", "")
        timeout = float(request.params.get("timeoutSeconds") or 1800)
        queue: asyncio.Queue[Obj] = asyncio.Queue()
        backlog = self._backlog(resource, since)
        self.watchers.append((resource, queue))
        response = aiohttp.web.StreamResponse(headers={"Content-Type": "application/json"})
        assert request._raw_request is not None
        await response.prepare(request._raw_request)
        try:
            async for event in self._events(backlog, queue, timeout):
                if query.matches(event["object"]):
                    await response.write(json.dumps(event).encode() + b"\n")
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.watchers.remove((resource, queue))
        with contextlib.suppress(ConnectionError):
            await response.write_eof()
        return response

    def _backlog(self, resource: str, since: str) -> list[Obj]:
        if since and since != "0":
            return [e for rv, r, e in self.history if r == resource and rv > int(since)]
        return [
            {"type": "ADDED", "object": copy.deepcopy(o)}
            for (r, _, _), o in sorted(self.store.items())
            if r == resource
        ]

    @staticmethod
    async def _events(
        backlog: list[Obj], queue: asyncio.Queue[Obj], timeout: float
    ) -> AsyncIterator[Obj]:
        for event in backlog:
            yield event
        deadline = asyncio.get_running_loop().time() + timeout
        while (left := deadline - asyncio.get_running_loop().time()) > 0:
            try:
                yield await asyncio.wait_for(queue.get(), left)
            except TimeoutError:
                return

    # -- helpers for tests ---------------------------------------------------------------------

    def objects(self, resource: str, namespace: str | None = None) -> list[Obj]:
        """Stored objects of one resource (e.g. `apps/v1/deployments`), for assertions."""
        return [
            copy.deepcopy(o)
            for (r, ns, _), o in sorted(self.store.items())
            if r == resource and (namespace is None or ns == namespace)
        ]

    def find(self, resource: str, namespace: str, name: str) -> Obj | None:
        obj = self.store.get((resource, namespace, name))
        return copy.deepcopy(obj) if obj is not None else None
