"""What the dashboard asks of other services, over HTTP with its own token, and of etcd.

- `Services.call(service, method, path, …)`: a JSON call to `data`, `dispatcher` or `poster`
  (audience = the service's name: a token from the dealer when auth is on, else the static
  admin token); unreachable or unconfigured services become `APIError(503)` with a clear
  message, their 4xx answers are passed on as they are.
- `Etcd`: one etcd client opened with serving, for the action registry and feature flags.
- `kube_status`: JeevesAction statuses from the Kubernetes API, when one is configured.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from etcd3aio import Etcd3Client
from quart import Quart

from jeeves.dashboard.settings import DashboardSettings
from jeeves.kit.app import kit
from jeeves.kit.errors import APIError
from jeeves.kit.etcd import make_client
from jeeves.kit.logging import get_logger

log = get_logger(__name__)
TIMEOUT_S = 5.0
SERVICES = ("data", "dispatcher", "poster")


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any


class Services:
    def __init__(self, app: Quart, settings: DashboardSettings) -> None:
        self._app = app
        self._urls = {
            "data": settings.data_url,
            "dispatcher": settings.dispatcher_url,
            "poster": settings.poster_url,
        }
        self._auth_on = settings.auth_on
        self._admin_token = settings.admin_token.get_secret_value()

    def configured(self, service: str) -> bool:
        return bool(self._urls.get(service))

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
        ok: tuple[int, ...] = (200, 201, 202, 204),
    ) -> Answer:
        """Call `service`; APIError 503 when it cannot be used, its own error for a 4xx."""
        base = self._urls.get(service)
        if not base:
            raise APIError(503, "not_configured", f"the {service} service is not configured")
        sent = dict(headers or {})
        if not self._auth_on and self._admin_token and service != "data":
            sent["Authorization"] = f"Bearer {self._admin_token}"
        try:
            response = await kit(self._app).http.request(
                method,
                base + path,
                json=body,
                headers=sent,
                timeout_s=TIMEOUT_S,
                audience=service if self._auth_on else None,
            )
            raw = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("backend_unreachable", service=service, error=type(exc).__name__)
            raise APIError(
                503, "unavailable", f"the {service} service cannot be reached right now"
            ) from None
        try:
            decoded = json.loads(raw) if raw else None
        except ValueError:
            decoded = None
        if response.status in ok:
            return Answer(response.status, decoded)
        if 400 <= response.status < 500 and response.status not in (401, 403):
            error = decoded.get("error", {}) if isinstance(decoded, dict) else {}
            raise APIError(
                response.status,
                str(error.get("code") or "rejected"),
                str(error.get("message") or f"the {service} service refused the request"),
                **({"field": error["field"]} if isinstance(error.get("field"), str) else {}),
            )
        log.warning("backend_failed", service=service, status=response.status)
        raise APIError(502, "backend_error", f"the {service} service answered {response.status}")


class Etcd:
    """The dashboard's etcd client, connected while serving (None without endpoints)."""

    def __init__(self, endpoints: str) -> None:
        self._endpoints = endpoints
        self._client: Etcd3Client | None = None

    @property
    def configured(self) -> bool:
        return bool(self._endpoints)

    async def open(self) -> None:
        if self._endpoints:
            self._client = make_client(self._endpoints, attempts=2)
            await self._client.connect()

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    def client(self) -> Etcd3Client:
        if self._client is None:
            raise APIError(503, "not_configured", "etcd is not configured (JEEVES_ETCD_ENDPOINTS)")
        return self._client


async def etcd_call(what: str, call: Callable[[], Any]) -> Any:
    """Run one etcd operation; an outage becomes APIError 503 naming `what`."""
    try:
        return await call()
    except APIError:
        raise
    except Exception as exc:  # grpc errors have no common public base
        if isinstance(exc, ValueError | LookupError):
            raise
        log.warning("etcd_failed", what=what, error=type(exc).__name__)
        raise APIError(503, "unavailable", f"etcd cannot be reached right now ({what})") from None


async def kube_status(
    app: Quart, settings: DashboardSettings
) -> tuple[str, dict[str, dict[str, Any]]]:
    """(state, {action name: status summary}) of the JeevesActions in the namespace.

    state: `not_configured`, `unavailable` (with nothing) or `ok`.
    """
    if not settings.kube_api_url:
        return "not_configured", {}
    headers: dict[str, str] = {}
    if settings.kube_token_file is not None:
        try:
            headers["Authorization"] = "Bearer " + settings.kube_token_file.read_text().strip()
        except OSError:
            return "unavailable", {}
    url = (
        f"{settings.kube_api_url}/apis/jeeves.dev/v1alpha1/namespaces/"
        f"{settings.kube_namespace}/jeevesactions"
    )
    context = (
        ssl.create_default_context(cafile=str(settings.kube_ca_file))
        if (settings.kube_ca_file)
        else None
    )
    try:
        response = await kit(app).http.request(
            "GET", url, headers=headers, timeout_s=TIMEOUT_S, ssl=context
        )
        body = json.loads(await response.read() or b"null")
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        log.warning("kube_unreachable", error=type(exc).__name__)
        return "unavailable", {}
    if response.status != 200 or not isinstance(body, dict):
        return "unavailable", {}
    return "ok", {
        str(item.get("metadata", {}).get("name")): summarize(item)
        for item in body.get("items", [])
        if isinstance(item, dict)
    }


def summarize(item: Mapping[str, Any]) -> dict[str, Any]:
    """A JeevesAction's status as the actions page shows it."""
    status = item.get("status") or {}
    conditions = {
        c.get("type"): c.get("status") for c in status.get("conditions", []) if isinstance(c, dict)
    }
    spec = item.get("spec") or {}
    return {
        "ready": conditions.get("Ready") == "True",
        "conditions": conditions,
        "ready_replicas": status.get("readyReplicas", 0),
        "replicas": spec.get("replicas", 1),
        "image": spec.get("image"),
    }
