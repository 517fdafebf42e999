"""Slack's three doors into Jeeves: `/slack/events`, `/slack/commands`, `/slack/interactivity`.

Every request is verified against the signing secret on its raw body before anything is parsed.
Accepted events are handed to the group-commit writer (stored + dispatch queued in one
transaction) and acknowledged once committed; duplicates and ignored events are acknowledged
without storing anything.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter
from quart import Blueprint, Response, request
from werkzeug.exceptions import HTTPException

from jeeves.gateway.domain import (
    Accept,
    Challenge,
    Ignore,
    Outcome,
    check_signature,
    parse_command,
    parse_event,
    parse_interaction,
    type_label,
)
from jeeves.gateway.store import EventWriter
from jeeves.kit.app import kit
from jeeves.kit.errors import APIError
from jeeves.kit.logging import get_logger

log = get_logger(__name__)
STATE_KEY = "gateway"
WORKING_ON_IT = {"response_type": "ephemeral", "text": "Working on it…"}


class EventMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.events = Counter(
            "jeeves_gateway_events_total",
            "Slack requests by type and outcome (accepted, duplicate, ignored, rejected)",
            ["type", "outcome"],
            registry=registry,
        )


@dataclass
class GatewayState:
    """What the routes need, kept in the kit's extras."""

    signing_secret: str
    bot_user_id: str
    writer: EventWriter
    metrics: EventMetrics
    timeout_s: float


def _state() -> GatewayState:
    state = kit().extras[STATE_KEY]
    assert isinstance(state, GatewayState)
    return state


def _json(body: object, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status, content_type="application/json")


blueprint = Blueprint("slack", __name__)


async def _verified_body(state: GatewayState, now: float) -> bytes:
    raw = await request.get_data(cache=False)
    assert isinstance(raw, bytes)
    check_signature(
        state.signing_secret,
        raw,
        request.headers.get("X-Slack-Request-Timestamp"),
        request.headers.get("X-Slack-Signature"),
        now,
    )
    return raw


async def _store(state: GatewayState, accept: Accept) -> str:
    """'accepted' or 'duplicate'; 503 when the event could not be stored in time."""
    try:
        new = await asyncio.wait_for(state.writer.submit(accept.job), state.timeout_s)
    except Exception as exc:
        log.warning("event_not_stored", type=accept.type, error=type(exc).__name__)
        raise APIError(503, "unavailable", "could not store the event; retry later") from None
    outcome = "accepted" if new else "duplicate"
    log.debug(
        "event_" + outcome,
        event_id=accept.job["event_id"],
        type=accept.type,
        retry=request.headers.get("X-Slack-Retry-Num"),
    )
    return outcome


async def _handle(
    parse: Callable[[GatewayState, bytes, float], Outcome],
    answer: Callable[[Outcome, str], Response],
) -> Response:
    """Verify, parse, store; count the outcome whatever happens."""
    state = _state()
    label = "unknown"
    try:
        now = time.time()
        outcome = parse(state, await _verified_body(state, now), now)
        if isinstance(outcome, Accept):
            label = type_label(outcome.type)
            result = await _store(state, outcome)
        elif isinstance(outcome, Ignore):
            label, result = type_label(outcome.type), "ignored"
        else:
            label, result = "url_verification", "accepted"
    except (APIError, HTTPException):
        state.metrics.events.labels(label, "rejected").inc()
        raise
    state.metrics.events.labels(label, result).inc()
    return answer(outcome, result)


def _ack(outcome: Outcome, result: str) -> Response:
    if isinstance(outcome, Challenge):
        return _json({"challenge": outcome.challenge})
    return _json({"ok": True, "outcome": result})


def _working_on_it(_outcome: Outcome, _result: str) -> Response:
    return _json(WORKING_ON_IT)


@blueprint.post("/slack/events")
async def slack_events() -> Response:
    """Events API: url_verification, app_mention and direct messages."""
    return await _handle(lambda s, raw, now: parse_event(raw, s.bot_user_id, now), _ack)


@blueprint.post("/slack/commands")
async def slack_commands() -> Response:
    """Slash command `/jeeves <text>`: acknowledged at once with an ephemeral note."""
    return await _handle(lambda _s, raw, now: parse_command(raw, now), _working_on_it)


@blueprint.post("/slack/interactivity")
async def slack_interactivity() -> Response:
    """Button clicks (block_actions); other interaction types are acknowledged and ignored."""
    return await _handle(lambda _s, raw, now: parse_interaction(raw, now), _ack)
