"""Revoking the Strava tokens of deleted connections ("forget everything", the dashboard).

Deleting a connection (or its user) leaves its tokens in the data service's revocation queue.
This worker, every `interval_s` (jittered), claims up to a batch for provider `strava` (a lease:
no other replica takes the same ones), deauthorizes each at Strava and then deletes it from the
queue. An access token Strava no longer accepts is refreshed first (the refresh token still
identifies the grant) and deauthorized with the new one; when the refresh token is refused too,
the grant is already gone and the entry is simply deleted. Strava unreachable → the entry stays,
its lease runs out, and a later round tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from jeeves.actions.strava.strava_api import StravaApi, StravaRefused, StravaUnavailable
from jeeves.kit.data_client import DataClient, DataUnavailable
from jeeves.kit.logging import get_logger

log = get_logger(__name__)
PROVIDER = "strava"
BATCH = 20
LEASE_S = 120.0


class RevocationWorker:
    def __init__(
        self, data: DataClient, strava: StravaApi, interval_s: float, registry: CollectorRegistry
    ) -> None:
        self._data = data
        self._strava = strava
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self.revoked = Counter(
            "jeeves_strava_revocations_total",
            "Tokens of deleted connections by result (revoked, already_gone, failed)",
            ["result"],
            registry=registry,
        )

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="strava-revocations")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self.round()
            except DataUnavailable as exc:
                log.warning("revocations_unavailable", error=str(exc))
            await asyncio.sleep(self._interval_s * random.uniform(0.8, 1.2))

    async def round(self) -> int:
        """One batch; how many entries were settled."""
        claimed = await self._data.claim_revocations(PROVIDER, limit=BATCH, lease_s=LEASE_S)
        settled = 0
        for entry in claimed:
            result = await self._revoke(entry)
            self.revoked.labels(result).inc()
            if result != "failed":
                await self._data.finish_revocation(PROVIDER, int(entry["id"]))
                settled += 1
        if claimed:
            log.info("revocations_round", claimed=len(claimed), settled=settled)
        return settled

    async def _revoke(self, entry: dict[str, Any]) -> str:
        try:
            await self._strava.deauthorize(str(entry["token"]))
        except StravaRefused:
            return await self._revoke_refreshed(entry.get("refresh_token"))
        except StravaUnavailable as exc:
            log.warning("revocation_failed", error=str(exc))
            return "failed"
        return "revoked"

    async def _revoke_refreshed(self, refresh_token: Any) -> str:
        if not isinstance(refresh_token, str) or not refresh_token:
            return "already_gone"
        try:
            fresh = await self._strava.refresh(refresh_token)
            await self._strava.deauthorize(fresh.token)
        except StravaRefused:
            return "already_gone"
        except StravaUnavailable as exc:
            log.warning("revocation_failed", error=str(exc))
            return "failed"
        return "revoked"
