"""Slack's three doors into Jeeves: `POST /slack/events`, `/slack/commands`, `/slack/interactivity`.

Every request is verified against the signing secret on its raw body before anything is parsed.
Accepted events go to the group-commit writer (stored + dispatch queued in one transaction) and
are acknowledged once committed; duplicates and ignored events are acknowledged without storing.
A distributed app (`teams` set) stores only events of installed workspaces — any other is
refused with 403 `team_not_installed` and `X-Slack-No-Retry: 1` — and forgets a workspace on
`app_uninstalled` / `tokens_revoked`.

These routes are the hot path, so `SlackRoutes` serves them as plain ASGI in front of the Quart
app (mounted with the kit's `mount_front`, behind the kit's own middleware): measured here,
Quart's request and response machinery cost about as much CPU as everything the gateway does for
an event (docs/performance.md). The kit's contract — `X-Request-ID`, HTTP metrics, access log —
is the kit middleware's, as for every route; these answer JSON errors in the kit's shape
(`error_body`) and enforce the body limit (413). Every other path is Quart's as usual.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from jeeves.gateway.domain import check_signature
from jeeves.kit.asgi import ROUTE_KEY, ASGIApp, Receive, Scope, Send
from jeeves.kit.data_client import DataUnavailable
from jeeves.kit.errors import APIError, error_body
from jeeves.kit.logging import error_text, get_logger
from jeeves.kit.metrics import LabelCache
from jeeves.kit.slack.events import (
    Accept,
    Challenge,
    Ignore,
    Outcome,
    Uninstall,
    parse_command,
    parse_event,
    parse_interaction,
    type_label,
)
from jeeves.kit.slack.inbound import Backlogged, EventWriter
from jeeves.kit.slack.teams import InstalledTeams

log = get_logger(__name__)

WORKING_ON_IT = {"response_type": "ephemeral", "text": "Working on it…"}
# Slack's requests carry a dozen headers; these are the ones read here.
READ_HEADERS = frozenset(
    {
        b"content-length",
        b"x-slack-request-timestamp",
        b"x-slack-signature",
        b"x-slack-retry-num",
    }
)


class EventMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.events = Counter(
            "jeeves_gateway_events_total",
            "Slack requests by type and outcome (accepted, duplicate, ignored, rejected)",
            ["type", "outcome"],
            registry=registry,
        )
        self.labels = LabelCache()

    def count(self, event_type: str, outcome: str) -> None:
        self.labels(self.events, event_type, outcome).inc()


@dataclass
class GatewayState:
    """What the Slack routes need."""

    signing_secret: str
    bot_user_id: str
    writer: EventWriter
    metrics: EventMetrics
    timeout_s: float
    max_body_bytes: int
    teams: InstalledTeams | None = None  # a distributed app: only installed workspaces


class TeamRefused(APIError):
    """An event of a workspace the app is not installed in: refused, and Slack told not to
    retry it (`X-Slack-No-Retry: 1`)."""

    def __init__(self, team_id: str) -> None:
        super().__init__(
            403, "team_not_installed", f"the app is not installed in workspace {team_id}"
        )


# --- the decision for one request, independent of the server -----------------------------------

Parse = Callable[[GatewayState, bytes, float], Outcome]
Answer = Callable[[Outcome, str], dict[str, Any]]


def _ack(outcome: Outcome, result: str) -> dict[str, Any]:
    if isinstance(outcome, Challenge):
        return {"challenge": outcome.challenge}
    return {"ok": True, "outcome": result}


def _working_on_it(_outcome: Outcome, _result: str) -> dict[str, Any]:
    return WORKING_ON_IT


# The few answers of the hot path, encoded once.
_ENCODED: dict[tuple[Answer, str], bytes] = {}


ROUTES: dict[str, tuple[Parse, Answer]] = {
    "/slack/events": (lambda s, raw, now: parse_event(raw, s.bot_user_id, now), _ack),
    "/slack/commands": (lambda _s, raw, now: parse_command(raw, now), _working_on_it),
    "/slack/interactivity": (lambda _s, raw, now: parse_interaction(raw, now), _ack),
}


async def _store(state: GatewayState, accept: Accept, retry: str | None) -> str:
    """'accepted' or 'duplicate'; 503 when the event could not be stored in time."""
    try:
        new = await state.writer.submit(accept.job, state.timeout_s)
    except Backlogged:
        log.warning("event_not_stored", type=accept.type, error="backlog full")
        raise APIError(
            503, "overloaded", "too many events wait for the database; retry later"
        ) from None
    except Exception as exc:
        log.warning("event_not_stored", type=accept.type, error=error_text(exc))
        raise APIError(503, "unavailable", "could not store the event; retry later") from None
    outcome = "accepted" if new else "duplicate"
    log.debug("event_" + outcome, event_id=accept.job["event_id"], type=accept.type, retry=retry)
    return outcome


async def _installed(state: GatewayState, team_id: str) -> None:
    """Refuse the event of a workspace a distributed app is not installed in."""
    if state.teams is None:
        return
    try:
        allowed = await state.teams.allows(team_id)
    except DataUnavailable:
        raise APIError(503, "unavailable", "cannot check the workspace; retry later") from None
    if not allowed:
        log.warning("event_refused_unknown_team", team_id=team_id)
        raise TeamRefused(team_id)


async def _uninstall(state: GatewayState, outcome: Uninstall) -> str:
    if state.teams is None:
        return "ignored"
    try:
        await state.teams.forget(outcome.team_id)
    except DataUnavailable:
        raise APIError(503, "unavailable", "cannot forget the workspace; retry later") from None
    return "accepted"


async def answer(state: GatewayState, route: str, raw: bytes, headers: dict[str, str]) -> bytes:
    """The JSON answer to one verified, parsed and stored request to `route`; the few answers
    that repeat (every ack but a challenge's) are encoded once."""
    outcome, result = await handle(state, route, raw, headers)
    respond = ROUTES[route][1]
    if isinstance(outcome, Challenge):
        return _encode(respond(outcome, result))
    encoded = _ENCODED.get((respond, result))
    if encoded is None:
        encoded = _ENCODED[(respond, result)] = _encode(respond(outcome, result))
    return encoded


async def handle(
    state: GatewayState, route: str, raw: bytes, headers: dict[str, str]
) -> tuple[Outcome, str]:
    """Verify, parse and store one request to `route`: its outcome and the result (accepted,
    duplicate, ignored); its outcome is counted whatever happens."""
    parse = ROUTES[route][0]
    label = "unknown"
    try:
        now = time.time()
        check_signature(
            state.signing_secret,
            raw,
            headers.get("x-slack-request-timestamp"),
            headers.get("x-slack-signature"),
            now,
        )
        outcome = parse(state, raw, now)
        if isinstance(outcome, Accept):
            label = type_label(outcome.type)
            await _installed(state, outcome.job["team_id"])
            result = await _store(state, outcome, headers.get("x-slack-retry-num"))
        elif isinstance(outcome, Uninstall):
            label = type_label(outcome.type)
            result = await _uninstall(state, outcome)
        elif isinstance(outcome, Ignore):
            label, result = type_label(outcome.type), "ignored"
        else:
            label, result = "url_verification", "accepted"
    except APIError:
        state.metrics.count(label, "rejected")
        raise
    state.metrics.count(label, result)
    return outcome, result


# --- the ASGI front ------------------------------------------------------------------------------


class BodyTooLarge(Exception):
    pass


class SlackRoutes:
    """Serves the Slack routes directly; hands every other request to `inner` (Quart)."""

    def __init__(self, inner: ASGIApp, state: GatewayState) -> None:
        self.inner = inner
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in ROUTES:
            await self.inner(scope, receive, send)
            return
        scope[ROUTE_KEY] = scope["path"]
        headers = {
            k.decode("latin-1"): v.decode("latin-1")
            for k, v in scope["headers"]
            if k in READ_HEADERS
        }
        status, body, extra = await self._respond(scope, receive, headers)
        raw_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *extra,
        ]
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": body})

    async def _respond(
        self, scope: Scope, receive: Receive, headers: dict[str, str]
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        """(status, JSON body, extra headers) for one Slack request."""
        if scope["method"] != "POST":
            return 405, _error("method_not_allowed", "use POST"), [(b"allow", b"POST")]
        try:
            raw = await read_body(receive, headers, self.state.max_body_bytes)
            return 200, await answer(self.state, scope["path"], raw, headers), []
        except BodyTooLarge:
            self.state.metrics.count("unknown", "rejected")
            limit = self.state.max_body_bytes
            return 413, _error("payload_too_large", f"body over {limit} bytes"), []
        except APIError as exc:
            extra = [(b"x-slack-no-retry", b"1")] if isinstance(exc, TeamRefused) else []
            return exc.status, _error(exc.code, exc.message), extra
        except Exception as exc:
            log.error("unhandled_error", error_type=type(exc).__name__, exc_info=exc)
            return 500, _error("internal_error", "internal error; see the service logs"), []


def _error(code: str, message: str) -> bytes:
    return _encode(error_body(code, message))


def _encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


async def read_body(receive: Receive, headers: dict[str, str], limit: int) -> bytes:
    """The whole request body; BodyTooLarge as soon as it passes `limit` bytes."""
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise APIError(400, "bad_request", "client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
