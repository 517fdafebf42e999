"""Closing the start-up gap of kopf peering, so two replicas never both act.

kopf pauses a replica as soon as it sees a live peer with a higher (or equal) priority in the
peering object; but a replica that starts at the same moment as another may resume before the
other's first heartbeat lands, and act once. The `StartupGate` makes every handler of a freshly
started replica first wait one full heartbeat period (so every live replica has announced
itself), then read the peering object once: if a live peer outranks this replica it raises
`Standby` (kopf has paused us by then; the handler is retried when we become the active one).
After that first successful check the gate is open for good and costs nothing.

`PeeringWatch` looks for the peering object itself: kopf waits for a missing one forever and
says nothing (applying only the CRDs and starting the operator did nothing, silently). The
watch says so in one log line, keeps `/readyz` at 503 with the same words while it is missing,
and notes once when it appears.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import time
from collections.abc import Mapping
from typing import Any

from jeeves_operator.k8s import Kube, KubeError
from jeeves_operator.settings import OperatorSettings

log = logging.getLogger(__name__)


class Standby(Exception):
    """Another live replica outranks this one: it acts, we wait."""


def heartbeat_period(lifetime: int) -> int:
    """The longest gap between two heartbeats of a kopf replica with this peering lifetime."""
    return min(lifetime, max(1, lifetime - 5))


def _parse(stamp: str) -> datetime.datetime:
    parsed = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def outranked(
    peers: Mapping[str, Any], me: str, priority: int, now: datetime.datetime
) -> str | None:
    """The id of a live peer with priority ≥ ours (kopf pauses on equal ones too), or None."""
    for identity, info in peers.items():
        if identity == me or not isinstance(info, Mapping) or not info.get("lastseen"):
            continue
        deadline = _parse(str(info["lastseen"])) + datetime.timedelta(
            seconds=int(info.get("lifetime", 60))
        )
        if deadline > now and int(info.get("priority", 0)) >= priority:
            return identity
    return None


class StartupGate:
    """Per-process gate in front of every handler that changes anything."""

    def __init__(self, settings: OperatorSettings, kube: Kube, identity: str) -> None:
        self._settings = settings
        self._kube = kube
        self.identity = identity
        self._opens_at = time.monotonic() + heartbeat_period(settings.peering_lifetime) + 1
        self._open = settings.standalone

    async def check(self, namespace: str) -> None:
        """Return when this replica may act; raise Standby when another one does."""
        if self._open:
            return
        await asyncio.sleep(max(0.0, self._opens_at - time.monotonic()))
        peering = await self._kube.get_peering(
            self._settings.peering, None if self._settings.clusterwide else namespace
        )
        peers = (peering or {}).get("status") or {}
        now = datetime.datetime.now(datetime.UTC)
        rival = outranked(peers, self.identity, self._settings.priority, now)
        if rival is not None:
            raise Standby(f"replica {rival} outranks this one")
        self._open = True


class PeeringWatch:
    """Whether the peering object(s) kopf needs exist; the reason when they do not."""

    def __init__(self, settings: OperatorSettings, kube: Kube) -> None:
        self._settings = settings
        self._kube = kube
        self._problem: str | None = "peering object not checked yet"
        self._said: str | None = None
        self.interval = min(10.0, max(1.0, settings.peering_lifetime / 3))

    @property
    def problem(self) -> str | None:
        """Why the operator cannot act (for /readyz), or None."""
        return self._problem

    def _targets(self) -> list[tuple[str | None, str]]:
        name = self._settings.peering
        if self._settings.clusterwide:
            return [(None, f"ClusterKopfPeering {name}")]
        return [(ns, f"KopfPeering {ns}/{name}") for ns in self._settings.namespaces]

    async def check(self) -> None:
        missing = []
        try:
            for namespace, label in self._targets():
                if await self._kube.get_peering(self._settings.peering, namespace) is None:
                    missing.append(label)
        except KubeError as exc:
            self._set(f"cannot read the peering object: {exc}")
            return
        if missing:
            self._set(
                f"peering object {', '.join(missing)} is missing: kopf waits for it and handles "
                "nothing until it exists; create it (kubectl apply -f manifests/rbac/) or run a "
                "single replica with JEEVES_STANDALONE=true"
            )
        else:
            self._set(None)

    def _set(self, problem: str | None) -> None:
        if problem is not None and problem != self._said:
            log.error(problem)  # one line per distinct problem, not one per check
            self._said = problem
        if problem is None and self._said is not None:
            log.info("peering object found: the operator acts")
            self._said = None
        self._problem = problem

    async def run(self) -> None:
        while True:
            await self.check()
            await asyncio.sleep(self.interval)
