"""What happens to one envelope: classified, stored (once per event id), then acknowledged.

The same decisions as the HTTP gateway's, through the same shared code: the payload becomes an
`Accept`, `Ignore`, `Challenge` or `Uninstall` (`jeeves.kit.slack.events`), and an accepted job
goes to the group-commit writer of the shared inbound log (`jeeves.kit.slack.inbound`), which
stores it and queues its dispatch in one statement, or finds its event id already there. The
envelope is acknowledged only after that, so a crash before the write leaves it unacknowledged
and Slack delivers it again — to this link or another, to this replica or another; the event id
makes the second delivery a duplicate, never a second reply. An envelope that cannot be stored
in time is not acknowledged (Slack retries it); a malformed one is acknowledged and counted
(a redelivery would not mend it). A distributed app (`teams` set) stores nothing of a workspace
without an installation (acknowledged, counted `refused`) and forgets a workspace on
`app_uninstalled` / `tokens_revoked` before acknowledging.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter

from jeeves.kit.data_client import DataUnavailable
from jeeves.kit.errors import APIError
from jeeves.kit.logging import get_logger
from jeeves.kit.slack.events import Accept, Challenge, Ignore, Uninstall, type_label
from jeeves.kit.slack.inbound import EventWriter
from jeeves.kit.slack.teams import InstalledTeams
from jeeves.socket.domain import Envelope, ack_payload, decide
from jeeves.socket.linking import ACK, NO_ACK, Acknowledgement

log = get_logger(__name__)


class EnvelopeMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.envelopes = Counter(
            "jeeves_socket_envelopes_total",
            "Socket Mode envelopes by type and outcome (accepted, duplicate, ignored, rejected, "
            "refused: a workspace without an installation, unstored: not acked, Slack delivers "
            "it again)",
            ["type", "outcome"],
            registry=registry,
        )
        self.redeliveries = Counter(
            "jeeves_socket_redeliveries_total",
            "Envelopes Slack delivered again (retry_attempt > 0)",
            registry=registry,
        )

    def count(self, label: str, outcome: str) -> None:
        self.envelopes.labels(label, outcome).inc()


class EnvelopeHandler:
    """The `Handler` every link of this process calls."""

    def __init__(
        self,
        *,
        writer: EventWriter,
        bot_user_id: str,
        timeout_s: float,
        metrics: EnvelopeMetrics,
        teams: InstalledTeams | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._teams = teams
        self._writer = writer
        self._bot_user_id = bot_user_id
        self._timeout_s = timeout_s
        self._metrics = metrics
        self._clock = clock

    async def __call__(self, envelope: Envelope) -> Acknowledgement:
        if envelope.retry_attempt:
            self._metrics.redeliveries.inc()
        try:
            outcome = decide(envelope, self._bot_user_id, self._clock())
        except APIError as exc:
            self._metrics.count("unknown", "rejected")
            log.warning("envelope_rejected", type=envelope.type[:40], reason=exc.message)
            return ACK
        try:
            if isinstance(outcome, Accept):
                if not await self._installed(outcome.job["team_id"]):
                    self._metrics.count(type_label(outcome.type), "refused")
                    return ACK
                return await self._store(envelope, outcome)
            if isinstance(outcome, Uninstall) and self._teams is not None:
                await self._teams.forget(outcome.team_id)
                self._metrics.count(type_label(outcome.type), "accepted")
                return ACK
        except DataUnavailable as exc:
            self._metrics.count(type_label(envelope.type), "unstored")
            log.warning("envelope_team_unknown", error=str(exc))
            return NO_ACK
        if isinstance(outcome, Ignore | Uninstall):
            self._metrics.count(type_label(outcome.type), "ignored")
        elif isinstance(outcome, Challenge):  # only HTTP request URLs are verified
            self._metrics.count("url_verification", "ignored")
        return ACK

    async def _installed(self, team_id: str) -> bool:
        if self._teams is None or await self._teams.allows(team_id):
            return True
        log.warning("envelope_refused_unknown_team", team_id=team_id)
        return False

    async def _store(self, envelope: Envelope, accept: Accept) -> Acknowledgement:
        label = type_label(accept.type)
        try:
            new = await self._writer.submit(accept.job, self._timeout_s)
        except Exception as exc:
            self._metrics.count(label, "unstored")
            log.warning("envelope_not_stored", type=label, error=type(exc).__name__)
            return NO_ACK
        outcome = "accepted" if new else "duplicate"
        self._metrics.count(label, outcome)
        log.debug(
            "envelope_" + outcome,
            event_id=accept.job["event_id"],
            type=label,
            retry_attempt=envelope.retry_attempt,
        )
        return Acknowledgement(True, ack_payload(envelope))
