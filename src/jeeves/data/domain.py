"""Pure rules of the data service: request models, validation, ETags, cursors, statistics.

Nothing here does I/O. Routes validate with these models and helpers; `store.py` runs queries.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from jeeves.kit.errors import APIError
from jeeves_actionspec.grammar import mask_secret_names

SLACK_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
FACT_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
PROVIDER = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
MAX_FACT_VALUE = 500
DEFAULT_PAGE = 50
MAX_PAGE = 200
MAX_STATS_DAYS = 92
UNITS = ("metric", "imperial")
Outcome = Literal["ok", "user_error", "error", "timeout"]
FAILED_OUTCOMES = frozenset({"error", "timeout"})

M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class UserIn(Strict):
    """Body of PUT /v1/users/<team>/<user>: empty (or `{}`); nothing is settable here."""


class FactIn(Strict):
    """Body of PUT /v1/users/<team>/<user>/facts/<key>."""

    value: str = Field(min_length=1, max_length=MAX_FACT_VALUE)


class UserPatch(Strict):
    """Body of PATCH /v1/users/<team>/<user> (admin)."""

    is_admin: StrictBool


class ConnectionIn(Strict):
    """Body of PUT /v1/users/<team>/<user>/connections/<provider>."""

    token: str = Field(min_length=1, max_length=8192)
    scopes: list[str] = Field(default_factory=list, max_length=64)
    expires_at: datetime | None = None
    # With one, the token can be refreshed (under a lease, see TokenIn) and revoked later.
    refresh_token: str | None = Field(default=None, min_length=1, max_length=8192)
    # The user's account id at the provider (a Strava athlete id), shown, never a secret.
    account: str | None = Field(default=None, min_length=1, max_length=255)

    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)


class InstallationIn(Strict):
    """Body of PUT /v1/installations/<team>: what Slack's oauth.v2.access answered."""

    team_name: str = Field(default="", max_length=255)
    enterprise_id: str | None = Field(default=None, pattern=SLACK_ID.pattern)
    enterprise_name: str | None = Field(default=None, max_length=255)
    is_enterprise_install: bool = False
    app_id: str = Field(default="", max_length=64)
    bot_user_id: str = Field(pattern=SLACK_ID.pattern)
    bot_id: str = Field(default="", max_length=64)
    scopes: list[str] = Field(default_factory=list, max_length=128)
    installer_user_id: str | None = Field(default=None, pattern=SLACK_ID.pattern)
    bot_token: str = Field(min_length=1, max_length=8192)
    bot_refresh_token: str | None = Field(default=None, min_length=1, max_length=8192)
    bot_token_expires_at: datetime | None = None

    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)


class LeaseIn(Strict):
    """Body of POST …/token/lease: how long the caller needs to refresh the token."""

    lease_s: float = Field(default=30.0, gt=0, le=300)

    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)


class TokenIn(Strict):
    """Body of PUT …/token: a refreshed token, stored only under the lease it was got with."""

    lease_id: str = Field(min_length=1, max_length=64)
    token: str = Field(min_length=1, max_length=8192)
    refresh_token: str | None = Field(default=None, min_length=1, max_length=8192)
    expires_at: datetime | None = None

    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)


class StateIn(Strict):
    """Body of POST /v1/oauth-states: a one-time state, bound to a Slack user when given."""

    provider: str = Field(pattern=PROVIDER.pattern)
    team_id: str | None = Field(default=None, pattern=SLACK_ID.pattern)
    slack_id: str | None = Field(default=None, pattern=SLACK_ID.pattern)
    ttl_s: int = Field(default=600, ge=10, le=3600)


class StateConsume(Strict):
    """Body of POST /v1/oauth-states/consume."""

    provider: str = Field(pattern=PROVIDER.pattern)
    state: str = Field(min_length=1, max_length=200)


class ClaimIn(Strict):
    """Body of POST /v1/revocations/<provider>/claim."""

    limit: int = Field(default=10, ge=1, le=100)
    lease_s: float = Field(default=60.0, gt=0, le=3600)

    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)


def state_hash(state: str) -> str:
    """What is stored of an OAuth state: its SHA-256, so a database reader cannot use one."""
    return hashlib.sha256(state.encode()).hexdigest()


def check_team_id(team_id: str) -> None:
    if not SLACK_ID.match(team_id):
        raise validation_error("team_id", "must be 1-64 letters, digits, '_', '.' or '-'")


class ActivityIn(Strict):
    """Body of POST /v1/activity: one finished action call. Never message text."""

    team_id: str = Field(pattern=SLACK_ID.pattern)
    slack_id: str = Field(pattern=SLACK_ID.pattern)
    action: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,63}$")
    outcome: Outcome
    latency_ms: int = Field(ge=0, le=3_600_000)
    event_id: str | None = Field(default=None, min_length=1, max_length=128)
    channel: str | None = Field(default=None, pattern=SLACK_ID.pattern)


AUDIT_KIND = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
MAX_AUDIT_JSON = 16_384


class AuditIn(Strict):
    """Body of POST /v1/audit: one audited change. `kind` is dotted (`flag.update`,
    `dead_letter.replay`, `action.run`, …); `before`/`after`/`detail` are any JSON (or null).
    `key` makes the append idempotent: a second record with the same key is not stored."""

    actor: str = Field(min_length=1, max_length=128)
    kind: str = Field(pattern=AUDIT_KIND.pattern)
    target: str = Field(min_length=1, max_length=256)
    before: Any = None
    after: Any = None
    detail: Any = None
    key: str | None = Field(default=None, min_length=1, max_length=200)

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    def masked(self) -> AuditIn:
        """The record with secret-looking `detail.params` masked (whatever the writer did)."""
        if not isinstance(self.detail, dict) or not isinstance(self.detail.get("params"), dict):
            return self
        params = mask_secret_names(self.detail["params"])
        return self.model_copy(update={"detail": {**self.detail, "params": params}})

    def check_size(self) -> None:
        """422 when before/after/detail together are larger than MAX_AUDIT_JSON."""
        size = len(json.dumps([self.before, self.after, self.detail], separators=(",", ":")))
        if size > MAX_AUDIT_JSON:
            raise validation_error("body", f"before/after/detail exceed {MAX_AUDIT_JSON} bytes")


AUDIT_OUTCOME = re.compile(r"^[a-z_]{1,32}$")


@dataclass(frozen=True)
class AuditQuery:
    """Filters of GET /v1/audit (every one optional; they combine with AND)."""

    kind: str | None = None
    actor: str | None = None
    target: str | None = None
    outcome: str | None = None  # detail.outcome (action runs)
    channel: str | None = None  # detail.channel
    since: datetime | None = None  # at >= since
    until: datetime | None = None  # at < until


def _instant(raw: str | None, name: str) -> datetime | None:
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise validation_error(name, "must be an ISO 8601 time like 2026-01-31T12:00:00Z") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def parse_audit_query(args: Any) -> AuditQuery:
    """The filters in a query string (a Mapping of str); 422 naming a malformed one."""
    outcome = args.get("outcome") or None
    if outcome is not None and not AUDIT_OUTCOME.match(outcome):
        raise validation_error("outcome", "must be lowercase letters and '_'")
    channel = args.get("channel") or None
    if channel is not None and not SLACK_ID.match(channel):
        raise validation_error("channel", "must be a Slack channel id")
    query = AuditQuery(
        kind=args.get("kind") or None,
        actor=args.get("actor") or None,
        target=args.get("target") or None,
        outcome=outcome,
        channel=channel,
        since=_instant(args.get("since"), "since"),
        until=_instant(args.get("until"), "until"),
    )
    if query.since and query.until and query.since >= query.until:
        raise validation_error("until", "must be after since")
    return query


HH_MM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


class SubscriptionIn(Strict):
    """Body of PUT /v1/users/<team>/<user>/subscriptions/<action>: a daily alert at `time`
    (HH:MM in the user's time zone) posted to `channel` (default: a DM with the user)."""

    time: str = Field(pattern=HH_MM.pattern)
    channel: str | None = Field(default=None, pattern=SLACK_ID.pattern)


ACTION_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


def check_action_name(action: str) -> None:
    if not ACTION_NAME.match(action):
        raise validation_error("action", "must be an action name: a-z, 0-9, '_' or '-'")


def validation_error(field: str, message: str) -> APIError:
    return APIError(422, "validation_failed", f"{field}: {message}", field=field)


def parse_body(model: type[M], data: Any) -> M:
    """Validate a decoded JSON body, or raise 422 naming the first offending field."""
    if not isinstance(data, dict):
        raise validation_error("body", "must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        raise validation_error(field, _describe(first)) from None


def _describe(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown field"
    if error["type"] == "missing":
        return "is required"
    return str(error["msg"])


def check_slack_ids(team_id: str, slack_id: str) -> None:
    if not SLACK_ID.match(team_id):
        raise validation_error("team_id", "must be 1-64 letters, digits, '_', '.' or '-'")
    if not SLACK_ID.match(slack_id):
        raise validation_error("slack_id", "must be 1-64 letters, digits, '_', '.' or '-'")


def check_fact(key: str, value: str) -> str:
    """Validate a fact key and value; returns the value normalised for storage."""
    if not FACT_KEY.match(key):
        raise validation_error("key", "must be lowercase letters, digits or '_', at most 40")
    value = value.strip()
    if not value:
        raise validation_error("value", "must not be blank")
    if key == "timezone":
        return _check_timezone(value)
    if key == "units" and value.lower() not in UNITS:
        raise validation_error("value", f"units must be one of {', '.join(UNITS)}")
    return value.lower() if key == "units" else value


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise validation_error("value", f"{value!r} is not an IANA time zone name") from None
    return value


def check_provider(provider: str) -> None:
    if not PROVIDER.match(provider):
        raise validation_error("provider", "must be lowercase letters, digits, '_' or '-'")


# -- ETags ---------------------------------------------------------------------------------


def make_etag(kind: str, row_id: int, version: int) -> str:
    """A strong ETag from a row's id and version counter: `"f12.3"`."""
    return f'"{kind}{row_id}.{version}"'


@dataclass(frozen=True)
class Precondition:
    """What an If-Match header asks for: any existing row, or one exact (id, version)."""

    any_version: bool
    row_id: int | None = None
    version: int | None = None


def parse_if_match(header: str | None, kind: str) -> Precondition | None:
    """Parse If-Match; an ETag of another kind or malformed never matches (412 later)."""
    if header is None:
        return None
    value = header.strip()
    if value == "*":
        return Precondition(any_version=True)
    match = re.fullmatch(rf'"{kind}(\d+)\.(\d+)"', value)
    if match is None:
        return Precondition(any_version=False, row_id=-1, version=-1)
    return Precondition(any_version=False, row_id=int(match[1]), version=int(match[2]))


def none_match(header: str | None, etag: str) -> bool:
    """True when If-None-Match lists `etag` (weak comparison) or is `*`: answer 304."""
    if not header:
        return False
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


def list_etag(kind: str, rows: list[tuple[int, int]], cursor: str | None) -> str:
    """ETag of a page: a digest of its rows' (id, version) pairs and the cursor it starts at."""
    digest = hashlib.blake2b(repr((kind, cursor, rows)).encode(), digest_size=12).hexdigest()
    return f'"{kind}l{digest}"'


# -- cursors -------------------------------------------------------------------------------


def encode_cursor(position: dict[str, Any]) -> str:
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, *keys: str) -> dict[str, Any] | None:
    """Decode an opaque cursor made by `encode_cursor` holding `keys`; 422 when tampered."""
    if cursor is None or cursor == "":
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise validation_error("cursor", "is not a cursor this service issued") from None
    if not isinstance(value, dict) or set(value) != set(keys):
        raise validation_error("cursor", "is not a cursor this service issued")
    return value


def page_limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_PAGE
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise validation_error("limit", f"must be an integer from 1 to {MAX_PAGE}")
    return int(raw)


# -- statistics ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DayRange:
    start: date  # inclusive
    end: date  # inclusive

    def bounds(self) -> tuple[datetime, datetime]:
        first = datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC)
        last = datetime(self.end.year, self.end.month, self.end.day, tzinfo=UTC)
        return first, last + timedelta(days=1)


def parse_day_range(start: str | None, end: str | None, today: date) -> DayRange:
    """`from`/`to` query parameters (YYYY-MM-DD, UTC, inclusive); default: the last 7 days."""
    last = _parse_day("to", end) if end else today
    first = _parse_day("from", start) if start else last - timedelta(days=6)
    if first > last:
        raise validation_error("from", "must not be after 'to'")
    if (last - first).days >= MAX_STATS_DAYS:
        raise validation_error("from", f"a range covers at most {MAX_STATS_DAYS} days")
    return DayRange(first, last)


def _parse_day(field: str, raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise validation_error(field, "must be a date YYYY-MM-DD") from None


def error_rate(calls: int, failed: int) -> float:
    return round(failed / calls, 4) if calls else 0.0


def usage_report(
    days: DayRange,
    per_action: list[dict[str, Any]],
    active_per_day: list[dict[str, Any]],
    active_total: int,
    per_channel: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Shape the statistics answer from the rows of the two aggregate queries."""
    calls = sum(int(r["calls"]) for r in per_action)
    failed = sum(int(r["failed"]) for r in per_action)
    return {
        "from": days.start.isoformat(),
        "to": days.end.isoformat(),
        "totals": {
            "calls": calls,
            "failed": failed,
            "error_rate": error_rate(calls, failed),
            "active_users": active_total,
        },
        "per_action_per_day": [
            {
                "day": r["day"].isoformat(),
                "action": r["action"],
                "calls": int(r["calls"]),
                "failed": int(r["failed"]),
                "user_errors": int(r["user_errors"]),
                "error_rate": error_rate(int(r["calls"]), int(r["failed"])),
                "p95_latency_ms": round(float(r["p95_latency_ms"] or 0), 1),
            }
            for r in per_action
        ],
        "active_users_per_day": [
            {"day": r["day"].isoformat(), "users": int(r["users"])} for r in active_per_day
        ],
        "per_channel": [
            {"channel": r["channel"], "calls": int(r["calls"]), "failed": int(r["failed"])}
            for r in per_channel or []
        ],
    }
