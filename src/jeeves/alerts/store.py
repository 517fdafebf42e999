"""The alerts service's tables (in the pipeline database) and every statement on them.

- `alert_notifications`: each webhook POST as received (body, digest, effect), kept
  `JEEVES_ALERTS_RETENTION_DAYS` — the durable record of what Alertmanager sent;
- `alert_incidents`: one row per incident of an alert group (see `domain.incidents`) with its
  alerts, message version, and who acknowledged or silenced it;
- `alert_audit`: every Acknowledge and Silence click (who, when, which incident, the silence),
  unique by the action call id, so a retried click is recorded once.

`record(conn, notification, …)` is the webhook's one transaction: lock the group (an advisory
lock on its key, so concurrent deliveries of one group — Alertmanager retries, an HA pair —
take turns), decide with `merge`, store the incident, queue the poster's `reply` job for its
message (`alert:<incident id>`, versioned) and store the notification. Everything commits
together or not at all; the poster then posts or edits the one message, retrying through any
Slack outage. Alert jobs carry a higher queue priority than replies (`ALERT_PRIORITY`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import asyncpg

from jeeves.alerts.domain.incidents import (
    AlertState,
    Change,
    Effect,
    Incident,
    merge,
)
from jeeves.alerts.domain.payload import Notification
from jeeves.alerts.domain.render import message_job
from jeeves.kit.jobs import REPLY
from jeeves.kit.queue import enqueue

SCHEMA_LOCK = 7_203_419  # advisory lock id serialising concurrent `migrate` runs
GROUP_LOCK_SPACE = 7_203_420  # hashtextextended seed for per-group locks
# Alert messages go ahead of queued replies (pgqueuer picks higher priorities first): after an
# outage, the backlog of replies must not hold back the alerts about that outage.
ALERT_PRIORITY = 10

SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_incidents (
    id                 bigserial PRIMARY KEY,
    group_key          text NOT NULL,
    seq                integer NOT NULL,
    channel            text NOT NULL,
    status             text NOT NULL CHECK (status IN ('firing', 'resolved')),
    group_labels       jsonb NOT NULL,
    common_labels      jsonb NOT NULL,
    common_annotations jsonb NOT NULL,
    alerts             jsonb NOT NULL,
    truncated          integer NOT NULL DEFAULT 0,
    version            integer NOT NULL,
    acked_by           text,
    silenced_by        text,
    silence_id         text,
    silenced_until     timestamptz,
    opened_at          timestamptz NOT NULL DEFAULT now(),
    resolved_at        timestamptz,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (group_key, seq)
);
CREATE INDEX IF NOT EXISTS alert_incidents_open_idx ON alert_incidents (status)
    WHERE status = 'firing';
CREATE TABLE IF NOT EXISTS alert_notifications (
    id          bigserial PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now(),
    group_key   text NOT NULL,
    status      text NOT NULL,
    receiver    text NOT NULL,
    digest      text NOT NULL,
    effect      text NOT NULL,
    incident_id bigint REFERENCES alert_incidents (id) ON DELETE SET NULL,
    body        jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_notifications_received_idx ON alert_notifications (received_at);
CREATE TABLE IF NOT EXISTS alert_audit (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    incident_id bigint NOT NULL REFERENCES alert_incidents (id) ON DELETE CASCADE,
    action      text NOT NULL CHECK (action IN ('acknowledge', 'silence')),
    user_id     text NOT NULL,
    team_id     text NOT NULL,
    call_id     text NOT NULL UNIQUE,
    detail      jsonb NOT NULL DEFAULT '{}'
);
"""

INCIDENT_COLUMNS = (
    "id, group_key, seq, channel, status, group_labels, common_labels, common_annotations, "
    "alerts, truncated, version, acked_by, silenced_by, silence_id, silenced_until, opened_at"
)


async def migrate(conn: asyncpg.Connection) -> None:
    """Create the tables (idempotent, safe to run concurrently)."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", SCHEMA_LOCK)
        await conn.execute(SCHEMA)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def incident_of(row: Mapping[str, Any] | None) -> Incident | None:
    if row is None:
        return None
    alerts = {key: AlertState.from_json(a) for key, a in _json(row["alerts"]).items()}
    return Incident(
        id=int(row["id"]),
        group_key=str(row["group_key"]),
        seq=int(row["seq"]),
        channel=str(row["channel"]),
        status=str(row["status"]),
        group_labels=dict(_json(row["group_labels"])),
        common_labels=dict(_json(row["common_labels"])),
        common_annotations=dict(_json(row["common_annotations"])),
        alerts=alerts,
        truncated=int(row["truncated"]),
        version=int(row["version"]),
        acked_by=row["acked_by"],
        silenced_by=row["silenced_by"],
        silence_id=row["silence_id"],
        silenced_until=_iso(row["silenced_until"]),
        opened_at=_iso(row["opened_at"]) or "",
    )


def _row_values(incident: Incident) -> list[Any]:
    return [
        incident.status,
        json.dumps(incident.group_labels),
        json.dumps(incident.common_labels),
        json.dumps(incident.common_annotations),
        json.dumps({k: a.to_json() for k, a in incident.alerts.items()}),
        incident.truncated,
        incident.version,
        incident.acked_by,
        incident.silenced_by,
        incident.silence_id,
        datetime.fromisoformat(incident.silenced_until) if incident.silenced_until else None,
    ]


async def _insert(conn: asyncpg.Connection, incident: Incident) -> Incident:
    new_id = await conn.fetchval(
        "INSERT INTO alert_incidents (status, group_labels, common_labels, common_annotations, "
        "alerts, truncated, version, acked_by, silenced_by, silence_id, silenced_until, "
        "group_key, seq, channel) VALUES ($1, $2::jsonb, $3::jsonb, $4::jsonb, $5::jsonb, $6, "
        "$7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
        *_row_values(incident),
        incident.group_key,
        incident.seq,
        incident.channel,
    )
    return replace(incident, id=int(new_id))


async def _update(conn: asyncpg.Connection, incident: Incident) -> None:
    await conn.execute(
        "UPDATE alert_incidents SET status = $1, group_labels = $2::jsonb, "
        "common_labels = $3::jsonb, common_annotations = $4::jsonb, alerts = $5::jsonb, "
        "truncated = $6, version = $7, acked_by = $8, silenced_by = $9, silence_id = $10, "
        "silenced_until = $11, updated_at = now(), resolved_at = CASE WHEN $1 = 'resolved' "
        "THEN COALESCE(resolved_at, now()) END WHERE id = $12",
        *_row_values(incident),
        incident.id,
    )


async def save(
    conn: asyncpg.Connection, change: Change, *, team_id: str | None = None
) -> Incident | None:
    """Store a change and queue its message (inside the caller's transaction), in workspace
    `team_id` when given."""
    incident = change.incident
    if incident is None or change.effect in (Effect.UNCHANGED, Effect.IGNORED):
        return incident
    if change.effect is Effect.POSTED:
        incident = await _insert(conn, incident)
    else:
        await _update(conn, incident)
    await enqueue(conn, REPLY, message_job(incident, team_id), priority=ALERT_PRIORITY)
    return incident


@dataclass(frozen=True)
class Recorded:
    effect: Effect
    incident: Incident | None


async def record(
    conn: asyncpg.Connection,
    notification: Notification,
    *,
    body: str,
    digest: str,
    channel_for: Callable[[Notification], str],
    team_id: str | None = None,
) -> Recorded:
    """The webhook's transaction (see the module docstring)."""
    async with conn.transaction():
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, $2))",
            notification.group_key,
            GROUP_LOCK_SPACE,
        )
        row = await conn.fetchrow(
            f"SELECT {INCIDENT_COLUMNS} FROM alert_incidents WHERE group_key = $1 "  # noqa: S608
            "ORDER BY seq DESC LIMIT 1",
            notification.group_key,
        )
        change = merge(incident_of(row), notification, channel_for(notification))
        incident = await save(conn, change, team_id=team_id)
        await conn.execute(
            "INSERT INTO alert_notifications (group_key, status, receiver, digest, effect, "
            "incident_id, body) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)",
            notification.group_key,
            notification.status,
            notification.receiver,
            digest,
            change.effect.value,
            incident.id if incident is not None else None,
            body,
        )
    return Recorded(change.effect, incident)


async def lock_incident(conn: asyncpg.Connection, incident_id: int) -> Incident | None:
    """The incident, locked for the caller's transaction (clicks change it one at a time)."""
    row = await conn.fetchrow(
        f"SELECT {INCIDENT_COLUMNS} FROM alert_incidents WHERE id = $1 FOR UPDATE",  # noqa: S608
        incident_id,
    )
    return incident_of(row)


async def get_incident(
    conn: asyncpg.Connection | asyncpg.Pool, incident_id: int
) -> Incident | None:
    row = await conn.fetchrow(
        f"SELECT {INCIDENT_COLUMNS} FROM alert_incidents WHERE id = $1",  # noqa: S608
        incident_id,
    )
    return incident_of(row)


async def audit(
    conn: asyncpg.Connection,
    *,
    incident_id: int,
    action: str,
    user_id: str,
    team_id: str,
    call_id: str,
    detail: Mapping[str, Any],
) -> bool:
    """Record one click; False when this call id was recorded already (a retried click)."""
    inserted = await conn.fetchval(
        "INSERT INTO alert_audit (incident_id, action, user_id, team_id, call_id, detail) "
        "VALUES ($1, $2, $3, $4, $5, $6::jsonb) ON CONFLICT (call_id) DO NOTHING RETURNING id",
        incident_id,
        action,
        user_id,
        team_id,
        call_id,
        json.dumps(dict(detail)),
    )
    return inserted is not None


async def list_incidents(
    conn: asyncpg.Connection | asyncpg.Pool, *, status: str | None, limit: int
) -> list[Incident]:
    where = "WHERE status = $2" if status else ""
    rows = await conn.fetch(
        f"SELECT {INCIDENT_COLUMNS} FROM alert_incidents {where} "  # noqa: S608
        "ORDER BY id DESC LIMIT $1",
        limit,
        *([status] if status else []),
    )
    return [i for i in map(incident_of, rows) if i is not None]


async def list_audit(
    conn: asyncpg.Connection | asyncpg.Pool, *, limit: int
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT id, at, incident_id, action, user_id, team_id, call_id, detail FROM alert_audit "
        "ORDER BY id DESC LIMIT $1",
        limit,
    )
    return [
        {**dict(row), "at": row["at"].isoformat(), "detail": _json(row["detail"])} for row in rows
    ]


async def prune_notifications(conn: asyncpg.Connection | asyncpg.Pool, days: int) -> int:
    """Forget notifications older than `days` (incidents and the audit stay)."""
    status = await conn.execute(
        "DELETE FROM alert_notifications WHERE received_at < now() - make_interval(days => $1)",
        days,
    )
    return int(status.split()[-1])
