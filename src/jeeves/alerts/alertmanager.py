"""Alertmanager's v2 API, the part the Silence button needs: `POST /api/v2/silences`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aiohttp

from jeeves.kit.http import HttpClient

SILENCES_PATH = "/api/v2/silences"


class AlertmanagerUnavailable(Exception):
    """Alertmanager did not answer, or answered 5xx: try again later."""


class SilenceRefused(Exception):
    """Alertmanager refused the silence (4xx): its message says why."""


class Alertmanager:
    def __init__(self, http: HttpClient, base_url: str, timeout_s: float) -> None:
        self._http = http
        self._url = base_url.rstrip("/") + SILENCES_PATH
        self._timeout_s = timeout_s

    async def create_silence(self, body: Mapping[str, Any]) -> str:
        """The new silence's id."""
        try:
            response = await self._http.request(
                "POST", self._url, json=dict(body), idempotent=False, timeout_s=self._timeout_s
            )
            raw = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise AlertmanagerUnavailable(type(exc).__name__) from None
        if response.status >= 500:
            raise AlertmanagerUnavailable(f"HTTP {response.status}")
        if response.status != 200:
            raise SilenceRefused(raw.decode(errors="replace").strip()[:300])
        try:
            silence_id = json.loads(raw)["silenceID"]
        except (ValueError, KeyError, TypeError):
            raise AlertmanagerUnavailable("answer without silenceID") from None
        return str(silence_id)
