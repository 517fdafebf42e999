"""A minimal Kubernetes API client over HTTPS with a client certificate (standard library only).

Owns the few calls the node itself makes: readiness polls, bootstrap objects (cluster DNS,
StorageClass) and the agent's list/create/delete. Anything richer goes through kubectl.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ApiError(RuntimeError):
    """The API answered an error status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


@dataclass(frozen=True)
class Api:
    """`server` (https URL) authenticated by a certificate of the node's CA."""

    server: str
    ca: Path
    cert: Path
    key: Path
    timeout: float = 5.0

    def _context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca))
        context.load_cert_chain(str(self.cert), str(self.key))
        return context

    def request(self, method: str, path: str, body: object | None = None) -> Any:
        """Send `body` as JSON; return the decoded JSON answer (None when empty)."""
        raw = self.raw(method, path, body)
        return json.loads(raw) if raw else None

    def raw(self, method: str, path: str, body: object | None = None) -> bytes:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - an https URL of the node
            f"{self.server}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(  # noqa: S310 - an https URL of the node
                request, timeout=self.timeout, context=self._context()
            ) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as error:
            raise ApiError(error.code, error.read().decode(errors="replace")[:500]) from None

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def items(self, path: str) -> list[dict[str, Any]]:
        return list(self.get(path).get("items") or [])

    def create(self, path: str, body: object) -> Any:
        """POST; an object that already exists is not an error (idempotent bootstrap)."""
        try:
            return self.request("POST", path, body)
        except ApiError as error:
            if error.status == 409:
                return None
            raise

    def delete(self, path: str) -> None:
        try:
            self.request("DELETE", path)
        except ApiError as error:
            if error.status != 404:
                raise

    def status(self, path: str) -> int:
        """HTTP status of a GET (0 when nothing answers)."""
        try:
            self.raw("GET", path)
        except ApiError as error:
            return error.status
        except (OSError, ssl.SSLError):
            return 0
        return 200
