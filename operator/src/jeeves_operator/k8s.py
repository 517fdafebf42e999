"""All Kubernetes I/O of the reconciler: get/create/apply/patch/delete of the objects it derives.

Credentials come from the official `kubernetes` client's config loader (in-cluster or
kubeconfig, as kopf logs in); requests go through aiohttp and speak plain dicts. `apply` refuses
to touch an object some other controller (Helm, a person, another JeevesAction) owns; for its
own objects it uses server-side apply with the field manager `jeeves-operator` (forcing
ownership, so a hand edit of a field the operator sets is put back) and then removes what other
field managers added (`ownership`). Whether anything changed is the server's answer (the owned
part of the stored object changed), never a comparison with the desired values: `cpu: 1000m`
and `1` are one value.
"""

from __future__ import annotations

import json
import ssl
from typing import Any, Literal, cast

import aiohttp
from kubernetes import client, config

from jeeves_operator.models import API_VERSION, MANAGER, PLURAL, Manifest
from jeeves_operator.ownership import foreign_paths, removal_patch

Change = Literal["created", "updated", "unchanged"]
MERGE_PATCH = "application/merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"  # JSON is YAML: the body is sent as JSON
JSON_PATCH = "application/json-patch+json"
AS_MANAGER = f"?fieldManager={MANAGER}"
KINDS: dict[str, tuple[str, str]] = {
    "Deployment": ("/apis/apps/v1", "deployments"),
    "Service": ("/api/v1", "services"),
    "JeevesAction": (f"/apis/{API_VERSION}", PLURAL),
}


class KubeError(Exception):
    """The API server answered with an error status (or could not be reached: status 0)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


class OwnershipConflict(Exception):
    """An object with the desired name exists but is controlled by someone else."""


def load_configuration(kubeconfig: str) -> client.Configuration:
    """In-cluster credentials when running in a Pod, else the kubeconfig (or ~/.kube/config)."""
    configuration = client.Configuration()
    try:
        config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    except config.ConfigException:
        config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=kubeconfig or None, client_configuration=configuration
        )
    return configuration


def object_path(kind: str, namespace: str, name: str = "", subresource: str = "") -> str:
    prefix, plural = KINDS[kind]
    path = f"{prefix}/namespaces/{namespace}/{plural}"
    for part in (name, subresource):
        path = f"{path}/{part}" if part else path
    return path


def controller_uid(obj: Manifest) -> str | None:
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return cast(str, ref.get("uid"))
    return None


def _decode(payload: bytes) -> Manifest:
    try:
        return cast(Manifest, json.loads(payload or b"{}"))
    except ValueError:
        return {"message": payload[:200].decode(errors="replace")}


def _ssl(configuration: client.Configuration) -> ssl.SSLContext | bool:
    if not configuration.host.startswith("https"):
        return False
    context = ssl.create_default_context(cafile=configuration.ssl_ca_cert or None)
    if not configuration.verify_ssl:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if configuration.cert_file:
        context.load_cert_chain(configuration.cert_file, configuration.key_file)
    return context


class Kube:
    """A thin async facade over the API server for the kinds in `KINDS` (aiohttp)."""

    def __init__(self, configuration: client.Configuration, timeout: float = 30.0) -> None:
        self._configuration = configuration
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _headers(self, content_type: str) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "jeeves-operator"}
        if content_type:
            headers["Content-Type"] = content_type
        # Refreshes expiring tokens (in-cluster, exec plugins) through the client's own hook.
        token = self._configuration.get_api_key_with_prefix("BearerToken", alias="authorization")
        if token:
            headers["Authorization"] = token
        return headers

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(ssl=_ssl(self._configuration), limit=64)
            self._session = aiohttp.ClientSession(
                base_url=self._configuration.host, connector=connector, timeout=self._timeout
            )
        return self._session

    async def _request(
        self, method: str, path: str, body: Any = None, content_type: str = ""
    ) -> Manifest:
        data = None if body is None else json.dumps(body)
        try:
            async with self._client().request(
                method, path, data=data, headers=self._headers(content_type)
            ) as response:
                payload = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise KubeError(0, f"API server unreachable: {exc!r}") from exc
        decoded = _decode(payload)
        if status >= 400:
            raise KubeError(status, str(decoded.get("message", "")))
        return decoded

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def get(self, kind: str, namespace: str, name: str) -> Manifest | None:
        try:
            return await self._request("GET", object_path(kind, namespace, name))
        except KubeError as exc:
            if exc.status == 404:
                return None
            raise

    async def get_peering(self, name: str, namespace: str | None) -> Manifest | None:
        """kopf's peering object: cluster-wide, or the one in `namespace`."""
        if namespace is None:
            path = f"/apis/kopf.dev/v1/clusterkopfpeerings/{name}"
        else:
            path = f"/apis/kopf.dev/v1/namespaces/{namespace}/kopfpeerings/{name}"
        try:
            return await self._request("GET", path)
        except KubeError as exc:
            if exc.status == 404:
                return None
            raise

    async def server_side_apply(self, manifest: Manifest, *, force: bool = True) -> Manifest:
        """Apply `manifest` as field manager jeeves-operator (creating it when absent); `force`
        takes over fields other managers set."""
        meta = manifest["metadata"]
        path = object_path(manifest["kind"], meta["namespace"], meta["name"]) + AS_MANAGER
        query = "&force=true" if force else ""
        return await self._request("PATCH", path + query, manifest, APPLY_PATCH)

    async def merge_patch(
        self, kind: str, namespace: str, name: str, patch: Manifest, subresource: str = ""
    ) -> Manifest:
        path = object_path(kind, namespace, name, subresource)
        return await self._request("PATCH", path, patch, MERGE_PATCH)

    async def delete(self, kind: str, namespace: str, name: str) -> bool:
        """Delete if present (foreground-free: owner references handle dependents)."""
        try:
            await self._request("DELETE", object_path(kind, namespace, name))
        except KubeError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    async def apply(self, manifest: Manifest, owner_uid: str) -> tuple[Change, Manifest]:
        """Make the live object exactly `manifest` (plus server defaults); report what changed."""
        kind, meta = manifest["kind"], manifest["metadata"]
        live = await self.get(kind, meta["namespace"], meta["name"])
        if live is None:
            try:  # not forced: an object someone created meanwhile is a conflict, not ours
                return "created", await self.server_side_apply(manifest, force=False)
            except KubeError as exc:
                if exc.status != 409:
                    raise
                live = await self.get(kind, meta["namespace"], meta["name"])
                if live is None:
                    raise
        if controller_uid(live) != owner_uid:
            raise OwnershipConflict(f"{kind} {meta['name']} exists and is not owned by this action")
        applied = await self.server_side_apply(manifest)
        extra = foreign_paths(applied, manifest, MANAGER)
        if extra:
            version = str(applied["metadata"].get("resourceVersion", ""))
            path = object_path(kind, meta["namespace"], meta["name"]) + AS_MANAGER
            applied = await self._request("PATCH", path, removal_patch(extra, version), JSON_PATCH)
        changed = _owned_part(applied) != _owned_part(live)
        return ("updated" if changed else "unchanged"), applied


def _owned_part(obj: Manifest) -> Manifest:
    """What the operator decides of an object, as the server stores it (normalised): spec,
    labels and owner references. Status and bookkeeping (resourceVersion, managedFields,
    annotations the controllers keep) change on their own and are no drift."""
    meta = obj.get("metadata", {})
    return {
        "labels": meta.get("labels"),
        "ownerReferences": meta.get("ownerReferences"),
        "spec": obj.get("spec"),
    }
