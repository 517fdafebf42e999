"""Which workspaces a distributed app serves: the ingresses' gate, backed by the data service.

`InstalledTeams.allows(team)` is asked for every accepted event, so it answers from memory: a
workspace seen installed is trusted for `positive_ttl_s`, one seen missing is refused for
`negative_ttl_s`; only a team not in memory costs one call to the data service (one per team at
a time). `forget(team)` (on `app_uninstalled` / `tokens_revoked`) deletes the installation and
refuses the team at once; `admit(team)` is told by the install flow. An unreachable data service
raises `DataUnavailable`: the ingress then answers 503 (or does not ack) and Slack retries.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from jeeves.kit.data_client import DataClient
from jeeves.kit.logging import get_logger

log = get_logger(__name__)


class InstalledTeams:
    def __init__(
        self,
        data: DataClient,
        *,
        positive_ttl_s: float = 60.0,
        negative_ttl_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._data = data
        self._positive_ttl_s = positive_ttl_s
        self._negative_ttl_s = negative_ttl_s
        self._clock = clock
        self._known: dict[str, tuple[bool, float]] = {}  # team → (installed, until)
        self._pending: dict[str, asyncio.Future[bool]] = {}

    def _remember(self, team_id: str, installed: bool) -> None:
        ttl = self._positive_ttl_s if installed else self._negative_ttl_s
        self._known[team_id] = (installed, self._clock() + ttl)

    async def allows(self, team_id: str) -> bool:
        known = self._known.get(team_id)
        if known is not None and known[1] > self._clock():
            return known[0]
        pending = self._pending.get(team_id)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending[team_id] = future
        try:
            installed = await self._data.installation(team_id) is not None
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters get it, nobody logs it as lost
            raise
        finally:
            self._pending.pop(team_id, None)
        self._remember(team_id, installed)
        future.set_result(installed)
        return installed

    def admit(self, team_id: str) -> None:
        """The app was just installed in `team_id`."""
        self._remember(team_id, True)

    async def forget(self, team_id: str) -> bool:
        """The app lost `team_id`: delete its installation; True when there was one."""
        self._remember(team_id, False)
        existed = await self._data.delete_installation(team_id)
        log.info("installation_removed", team_id=team_id, existed=existed)
        return existed
