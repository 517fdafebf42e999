"""The alerts service's HTTP surface besides health and metrics.

- `POST /v1/alertmanager`: Alertmanager's webhook. Authenticated by the token Alertmanager sends
  (`Authorization: Bearer <token>`, or HTTP basic auth with the token as password); 401/403
  otherwise. The notification is validated (422 naming the field), then recorded, merged into
  its incident and — when the message must change — the poster's job queued, in ONE
  transaction (`store.record`); 200 `{"effect", "incident"}` once committed. A database error
  answers 5xx, so Alertmanager retries; a retry is recognised and changes nothing.
- `POST /v1/act` (the action protocol, via the action SDK): the **Silence 1h**, **Acknowledge**
  and **Runbook** buttons, and the typed command `alerts` (lists what is firing).
- `GET /v1/incidents?status=firing|resolved&limit=N`, `GET /v1/audit?limit=N`: the admin API
  (scope `admin`, or `JEEVES_ADMIN_TOKEN` without a token dealer).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from prometheus_client import CollectorRegistry, Counter
from quart import Blueprint, Response, jsonify, request
from quart import current_app as app

from jeeves.alerts import store
from jeeves.alerts.alertmanager import Alertmanager, AlertmanagerUnavailable, SilenceRefused
from jeeves.alerts.domain.clicks import (
    NO_ALERTMANAGER_TEXT,
    NO_INCIDENT_TEXT,
    NO_MATCHERS_TEXT,
    RESOLVED_TEXT,
    Button,
    ClickError,
    ack_text,
    already_silenced_text,
    parse_click,
    silence_body,
    silence_text,
)
from jeeves.alerts.domain.incidents import (
    Effect,
    Incident,
    acknowledged,
    silence_matchers,
    silenced,
)
from jeeves.alerts.domain.payload import Notification, PayloadError, parse_notification
from jeeves.alerts.domain.render import title
from jeeves.alerts.domain.routing import Route, channel_for
from jeeves.kit.action_app import LATER, ActionError, ActionRequest, Later, Reply, escape_mrkdwn
from jeeves.kit.app import kit
from jeeves.kit.data_client import DataClient, DataRejected, DataUnavailable
from jeeves.kit.db import pool_of
from jeeves.kit.dead_letters import Authorize, parse_limit
from jeeves.kit.errors import APIError
from jeeves.kit.logging import get_logger

log = get_logger(__name__)
DEPS_KEY = "alerts"
WEBHOOK_PATH = "/v1/alertmanager"
MAX_LISTED = 10


class AlertsMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.notifications = Counter(
            "jeeves_alerts_notifications_total",
            "Alertmanager notifications by effect (posted, updated, unchanged, ignored, "
            "rejected, unauthorized)",
            ["effect"],
            registry=registry,
        )
        self.clicks = Counter(
            "jeeves_alerts_clicks_total",
            "Button clicks on alert messages by button and result",
            ["button", "result"],
            registry=registry,
        )
        self.shared_audit = Counter(
            "jeeves_alerts_shared_audit_total",
            "Clicks copied to the data service's audit log, by result (recorded, failed)",
            ["result"],
            registry=registry,
        )
        for effect in Effect:  # from 0, so the first notification is an increase
            self.notifications.labels(effect.value)


@dataclass(frozen=True)
class Deps:
    webhook_token: str
    routes: Sequence[Route]
    default_channel: str
    silence: timedelta
    alertmanager: Alertmanager | None
    metrics: AlertsMetrics
    data: DataClient | None = None
    team_id: str | None = None  # the alert channels' workspace (distributed app)


def deps() -> Deps:
    value = kit().extras[DEPS_KEY]
    assert isinstance(value, Deps)
    return value


# --- the webhook -------------------------------------------------------------------------------


def presented_token(header: str) -> str | None:
    """The token in `Authorization: Bearer <t>` or `Basic base64(<user>:<t>)` (pure)."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    return None


async def authorize_alertmanager() -> None:
    expected = deps().webhook_token
    given = presented_token(request.headers.get("Authorization", ""))
    if given is None:
        deps().metrics.notifications.labels("unauthorized").inc()
        raise APIError(401, "unauthorized", "send the webhook token as a bearer token")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        deps().metrics.notifications.labels("unauthorized").inc()
        raise APIError(403, "forbidden", "this webhook token is not accepted")


def webhook_blueprint() -> Blueprint:
    blueprint = Blueprint("alertmanager", __name__, url_prefix=WEBHOOK_PATH)
    blueprint.before_request(authorize_alertmanager)

    @blueprint.post("")
    async def receive() -> tuple[Response, int]:
        raw = await request.get_data(as_text=False)
        assert isinstance(raw, bytes)
        metrics = deps().metrics
        try:
            notification = parse_notification(json.loads(raw))
        except ValueError as exc:
            metrics.notifications.labels("rejected").inc()
            field = exc.field if isinstance(exc, PayloadError) else "body"
            raise APIError(422, "validation_failed", str(exc), field=field) from None
        async with pool_of(app).acquire() as conn:
            recorded = await store.record(
                conn,
                notification,
                body=raw.decode(),
                digest=hashlib.sha256(raw).hexdigest(),
                channel_for=_channel,
                team_id=deps().team_id,
            )
        metrics.notifications.labels(recorded.effect.value).inc()
        incident = recorded.incident.id if recorded.incident is not None else None
        log.info(
            "alert_notification",
            group_key=notification.group_key,
            status=notification.status,
            effect=recorded.effect.value,
            incident=incident,
        )
        return jsonify({"effect": recorded.effect.value, "incident": incident}), 200

    return blueprint


def _channel(notification: Notification) -> str:
    d = deps()
    return channel_for(notification.common_labels, d.routes, d.default_channel)


# --- the buttons and the `alerts` command ------------------------------------------------------


async def act(request: ActionRequest) -> Reply | Later:
    try:
        click = parse_click(request.args)
    except ClickError as exc:
        raise ActionError(400, str(exc)) from None
    if click is None:
        return await firing_now()
    metrics = deps().metrics
    try:
        if click.button is Button.RUNBOOK:  # a link button: Slack opened the URL already
            answer: Reply | Later = LATER
        elif click.button is Button.ACK:
            answer = await acknowledge(click.incident_id, request)
        else:
            answer = await silence(click.incident_id, request)
    except ActionError as exc:
        metrics.clicks.labels(click.button.value, "refused" if exc.status < 500 else "failed").inc()
        raise
    metrics.clicks.labels(click.button.value, "done").inc()
    return answer


async def acknowledge(incident_id: int, request: ActionRequest) -> Reply:
    user = request.user.slack_id
    async with pool_of(app).acquire() as conn, conn.transaction():
        incident = await store.lock_incident(conn, incident_id)
        _check_open(incident)
        assert incident is not None
        detail = {"incident_seq": incident.seq, "group_key": incident.group_key}
        await _audit(conn, incident_id, "acknowledge", request, detail)
        await store.save(conn, acknowledged(incident, user), team_id=deps().team_id)
    first = incident.acked_by in (None, user)
    log.info("alert_acknowledged", incident=incident_id, user=user)
    await _share("acknowledge", incident, request, detail)
    return Reply(ack_text(user, first, incident.acked_by))


async def _audit(
    conn: asyncpg.Connection,
    incident_id: int,
    action: str,
    request: ActionRequest,
    detail: dict[str, Any],
) -> None:
    """Who clicked what, once per click (the call id: a retried click records nothing)."""
    await store.audit(
        conn,
        incident_id=incident_id,
        action=action,
        user_id=request.user.slack_id,
        team_id=request.user.team_id,
        call_id=request.id,
        detail=detail,
    )


async def _share(
    action: str, incident: Incident, request: ActionRequest, detail: dict[str, Any]
) -> None:
    """Copy a click into the data service's audit log (the dashboard shows it). Best effort:
    `alert_audit` above is the durable record; a failure is logged and counted."""
    d = deps()
    if d.data is None:
        return
    record = {**detail, "title": title(incident), "channel": incident.channel}
    try:
        await d.data.record_audit(
            request.user.slack_id, f"alert.{action}", f"alert:{incident.id}", record
        )
    except (DataUnavailable, DataRejected) as exc:
        d.metrics.shared_audit.labels("failed").inc()
        log.warning("alert_audit_not_shared", action=action, error=str(exc)[:200])
        return
    d.metrics.shared_audit.labels("recorded").inc()


def _check_open(incident: Incident | None) -> None:
    if incident is None:
        raise ActionError(404, NO_INCIDENT_TEXT)
    if incident.resolved:
        raise ActionError(409, RESOLVED_TEXT)


def _active_silence(incident: Incident, now: datetime) -> bool:
    until = incident.silenced_until
    return until is not None and datetime.fromisoformat(until) > now


async def silence(incident_id: int, request: ActionRequest) -> Reply:
    d, user, now = deps(), request.user.slack_id, datetime.now(UTC)
    if d.alertmanager is None:
        raise ActionError(400, NO_ALERTMANAGER_TEXT)
    incident = await store.get_incident(pool_of(app), incident_id)
    _check_open(incident)
    assert incident is not None
    if _active_silence(incident, now) and incident.silenced_by and incident.silenced_until:
        return Reply(already_silenced_text(incident.silenced_by, incident.silenced_until))
    matchers = silence_matchers(incident)
    if not matchers:
        raise ActionError(422, NO_MATCHERS_TEXT)
    body = silence_body(matchers, user, now, d.silence, title(incident))
    try:
        silence_id = await d.alertmanager.create_silence(body)
    except AlertmanagerUnavailable as exc:
        log.warning("alertmanager_unavailable", error=str(exc))
        raise ActionError(503, "Alertmanager is unreachable; I'll try again.") from None
    except SilenceRefused as exc:
        raise ActionError(422, f"Alertmanager refused the silence: {exc}") from None
    until = (now + d.silence).isoformat()
    async with pool_of(app).acquire() as conn, conn.transaction():
        current = await store.lock_incident(conn, incident_id)
        assert current is not None
        detail = {"silence_id": silence_id, "matchers": matchers, "until": until}
        await _audit(conn, incident_id, "silence", request, detail)
        await store.save(conn, silenced(current, user, silence_id, until), team_id=deps().team_id)
    log.info("alert_silenced", incident=incident_id, user=user, silence_id=silence_id)
    await _share("silence", current, request, detail)
    return Reply(silence_text(user, until, silence_id, matchers))


async def firing_now() -> Reply:
    """`@jeeves alerts`: the open incidents, newest first."""
    firing = await store.list_incidents(pool_of(app), status="firing", limit=MAX_LISTED + 1)
    if not firing:
        return Reply("No alert is firing. :large_green_circle:")
    lines = [
        f"• {escape_mrkdwn(title(i))} in <#{i.channel}>" + (" (acknowledged)" if i.acked_by else "")
        for i in firing[:MAX_LISTED]
    ]
    more = " (showing the newest 10)" if len(firing) > MAX_LISTED else ""
    return Reply(f"Alert groups firing{more}:\n" + "\n".join(lines))


# --- the admin API -----------------------------------------------------------------------------


def admin_blueprint(authorize: Authorize) -> Blueprint:
    blueprint = Blueprint("alerts_admin", __name__, url_prefix="/v1")
    blueprint.before_request(authorize)

    @blueprint.get("/incidents")
    async def incidents() -> Response:
        status = request.args.get("status") or None
        if status not in (None, "firing", "resolved"):
            raise APIError(422, "validation_failed", "status must be firing or resolved")
        found = await store.list_incidents(
            pool_of(app), status=status, limit=parse_limit(request.args.get("limit"))
        )
        return jsonify({"incidents": [_incident_json(i) for i in found]})

    @blueprint.get("/audit")
    async def audit() -> Response:
        found = await store.list_audit(pool_of(app), limit=parse_limit(request.args.get("limit")))
        return jsonify({"audit": found})

    return blueprint


def _incident_json(incident: Incident) -> dict[str, object]:
    return {
        "id": incident.id,
        "group_key": incident.group_key,
        "seq": incident.seq,
        "channel": incident.channel,
        "status": incident.status,
        "title": title(incident),
        "version": incident.version,
        "group_labels": incident.group_labels,
        "alerts": {key: a.to_json() for key, a in incident.alerts.items()},
        "acked_by": incident.acked_by,
        "silenced_by": incident.silenced_by,
        "silence_id": incident.silence_id,
        "silenced_until": incident.silenced_until,
        "opened_at": incident.opened_at,
    }
