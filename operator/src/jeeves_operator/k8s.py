"""All Kubernetes I/O of the reconciler: get/create/patch/delete of the objects it derives.

Credentials come from the official `kubernetes` client's config loader (in-cluster or
kubeconfig, as kopf logs in); requests go through aiohttp and speak plain dicts. `apply`
creates or merge-patches one object and refuses to touch an object some other controller
(Helm, a person, another JeevesAction) owns.
"""

from __future__ import annotations

import json
import ssl
from typing import Any, Literal, cast

import aiohttp
from kubernetes import client, config

from jeeves_operator.builders import drifted
from jeeves_operator.models import API_VERSION, PLURAL, Manifest

Change = Literal["created", "updated", "unchanged"]
MERGE_PATCH = "application/merge-patch+json"
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

    async def create(self, manifest: Manifest) -> Manifest:
        meta = manifest["metadata"]
        path = object_path(manifest["kind"], meta["namespace"])
        return await self._request("POST", path, manifest, "application/json")

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
        """Make the live object match `manifest` in the fields it sets; report what changed."""
        kind, meta = manifest["kind"], manifest["metadata"]
        live = await self.get(kind, meta["namespace"], meta["name"])
        if live is None:
            try:
                return "created", await self.create(manifest)
            except KubeError as exc:
                if exc.status != 409:
                    raise
                live = await self.get(kind, meta["namespace"], meta["name"])
                if live is None:
                    raise
        if controller_uid(live) != owner_uid:
            raise OwnershipConflict(f"{kind} {meta['name']} exists and is not owned by this action")
        if not drifted(_managed(manifest), live):
            return "unchanged", live
        patched = await self.merge_patch(kind, meta["namespace"], meta["name"], _managed(manifest))
        return "updated", patched


def _managed(manifest: Manifest) -> Manifest:
    """The fields the operator owns: labels, owner references and the whole spec."""
    meta = manifest["metadata"]
    return {
        "metadata": {"labels": meta["labels"], "ownerReferences": meta["ownerReferences"]},
        "spec": manifest["spec"],
    }
