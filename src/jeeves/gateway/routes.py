"""Slack's three doors into Jeeves: `POST /slack/events`, `/slack/commands`, `/slack/interactivity`.

Every request is verified against the signing secret on its raw body before anything is parsed.
Accepted events go to the group-commit writer (stored + dispatch queued in one transaction) and
are acknowledged once committed; duplicates and ignored events are acknowledged without storing.
A distributed app (`teams` set) stores only events of installed workspaces — any other is
refused with 403 `team_not_installed` and `X-Slack-No-Retry: 1` — and forgets a workspace on
`app_uninstalled` / `tokens_revoked`.

These routes are the hot path, so `SlackRoutes` serves them as plain ASGI in front of the Quart
app (installed as `app.asgi_app`, Quart's middleware hook): measured here, Quart's request and
response machinery cost about as much CPU as everything the gateway does for an event. They
keep the kit's contract — JSON errors, the body limit (413), `X-Request-ID`, the kit's HTTP
metrics and access log — and every other path (health, metrics, 404s) is Quart's as usual.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from jeeves.gateway.domain import check_signature
from jeeves.kit.context import REQUEST_ID_HEADER, bind_request_id, clear_request_id
from jeeves.kit.data_client import DataUnavailable
from jeeves.kit.errors import APIError
from jeeves.kit.logging import get_logger
from jeeves.kit.metrics import HttpMetrics
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
from jeeves.kit.slack.inbound import EventWriter
from jeeves.kit.slack.teams import InstalledTeams

log = get_logger(__name__)
access_log = get_logger("jeeves.access")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]  # the wrapped app (Quart's asgi_app)

WORKING_ON_IT = {"response_type": "ephemeral", "text": "Working on it…"}


class LabelCache:
    """`metric.labels(*values)`, remembered: on this path labels() costs more than inc()."""

    def __init__(self) -> None:
        self._children: dict[tuple[int | str, ...], Any] = {}

    def __call__(self, metric: Any, *values: str) -> Any:
        key: tuple[int | str, ...] = (id(metric), *values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*values)
        return child


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
    http_metrics: HttpMetrics
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


ROUTES: dict[str, tuple[Parse, Answer]] = {
    "/slack/events": (lambda s, raw, now: parse_event(raw, s.bot_user_id, now), _ack),
    "/slack/commands": (lambda _s, raw, now: parse_command(raw, now), _working_on_it),
    "/slack/interactivity": (lambda _s, raw, now: parse_interaction(raw, now), _ack),
}


async def _store(state: GatewayState, accept: Accept, retry: str | None) -> str:
    """'accepted' or 'duplicate'; 503 when the event could not be stored in time."""
    try:
        new = await state.writer.submit(accept.job, state.timeout_s)
    except Exception as exc:
        log.warning("event_not_stored", type=accept.type, error=type(exc).__name__)
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


async def handle(
    state: GatewayState, route: str, raw: bytes, headers: dict[str, str]
) -> dict[str, Any]:
    """Verify, parse and store one request to `route`; count its outcome whatever happens."""
    parse, answer = ROUTES[route]
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
    return answer(outcome, result)


# --- the ASGI front ------------------------------------------------------------------------------


class BodyTooLarge(Exception):
    pass


class SlackRoutes:
    """Serves the Slack routes directly; hands every other request to `inner` (Quart)."""

    def __init__(self, inner: ASGIApp, state: GatewayState, service: str = "gateway") -> None:
        self.inner = inner
        self.state = state
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in ROUTES:
            await self.inner(scope, receive, send)
            return
        started = time.perf_counter()
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        request_id = bind_request_id(headers.get("x-request-id"))
        metrics, labels = self.state.http_metrics, self.state.metrics.labels
        in_progress = labels(metrics.in_progress, self.service)
        in_progress.inc()
        status = 500
        try:
            status, body, extra = await self._respond(scope, receive, headers)
            await _send_json(send, status, body, [(REQUEST_ID_HEADER, request_id), *extra])
        finally:
            in_progress.dec()
            elapsed = time.perf_counter() - started
            route, method = scope["path"], scope["method"]
            labels(metrics.requests, self.service, route, method, str(status)).inc()
            labels(metrics.duration, self.service, route, method).observe(elapsed)
            access_log.info(
                "request",
                method=method,
                route=route,
                status=status,
                duration_ms=round(elapsed * 1000, 2),
            )
            clear_request_id()

    async def _respond(
        self, scope: Scope, receive: Receive, headers: dict[str, str]
    ) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        """(status, JSON body, extra headers) for one Slack request."""
        if scope["method"] != "POST":
            error = _error(405, "method_not_allowed", "use POST")
            return 405, error, [("Allow", "POST")]
        try:
            raw = await read_body(receive, headers, self.state.max_body_bytes)
            return 200, await handle(self.state, scope["path"], raw, headers), []
        except BodyTooLarge:
            self.state.metrics.count("unknown", "rejected")
            limit = self.state.max_body_bytes
            return 413, _error(413, "payload_too_large", f"body over {limit} bytes"), []
        except APIError as exc:
            extra = [("X-Slack-No-Retry", "1")] if isinstance(exc, TeamRefused) else []
            return exc.status, _error(exc.status, exc.code, exc.message), extra
        except Exception as exc:
            log.error("unhandled_error", error_type=type(exc).__name__, exc_info=exc)
            return 500, _error(500, "internal_error", "internal error; see the service logs"), []


def _error(status: int, code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


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


async def _send_json(
    send: Send, status: int, body: dict[str, Any], headers: list[tuple[str, str]]
) -> None:
    payload = json.dumps(body, ensure_ascii=False).encode()
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        *((name.lower().encode(), value.encode("latin-1")) for name, value in headers),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})
