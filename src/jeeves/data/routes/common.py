"""Shared route helpers: the store, JSON bodies, conditional requests, row serialisation.

`require_admin` is THE hook for authorisation of admin APIs (statistics, user listing, admin
flag): with authentication on (JEEVES_TOKENS_URL) the caller's token needs scope `admin`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from quart import Response, jsonify, request

from jeeves.data.credentials import Credentials, Lease, Secret
from jeeves.data.domain import (
    Precondition,
    encode_cursor,
    make_etag,
    none_match,
    parse_body,
    parse_if_match,
    validation_error,
)
from jeeves.data.store import Store
from jeeves.kit.app import kit
from jeeves.kit.auth import authorize

M = TypeVar("M", bound=BaseModel)
Row = Mapping[Any, Any]  # a SQLAlchemy RowMapping or an asyncpg Record
STORE_KEY = "data_store"
CREDENTIALS_KEY = "data_credentials"
CREDENTIALS_SCOPE = "credentials"  # reading or refreshing a stored token needs it


def store() -> Store:
    value = kit().extras.get(STORE_KEY)
    if not isinstance(value, Store):
        raise RuntimeError("the data store is not open (serving has not started)")
    return value


def credentials() -> Credentials:
    value = kit().extras.get(CREDENTIALS_KEY)
    if not isinstance(value, Credentials):
        raise RuntimeError("the data store is not open (serving has not started)")
    return value


async def require_credentials() -> None:
    """Only callers whose token has scope `credentials` read or refresh stored tokens (not even
    `admin` suffices: the dashboard administers connections, it never holds their tokens)."""
    await authorize(CREDENTIALS_SCOPE)


def secret_json(secret: Secret) -> dict[str, Any]:
    return {
        "token": secret.token,
        "expires_at": _iso(secret.expires_at),
        "refreshable": secret.refreshable,
    }


def lease_json(lease: Lease) -> dict[str, Any]:
    return {
        "lease_id": lease.lease_id,
        "token": lease.token,
        "refresh_token": lease.refresh_token,
        "expires_at": _iso(lease.expires_at),
        "lease_until": _iso(lease.until),
    }


def installation_json(row: Row) -> dict[str, Any]:
    """An installation as clients see it: never a token."""
    return {
        "team_id": row["team_id"],
        "team_name": row["team_name"],
        "enterprise_id": row["enterprise_id"],
        "enterprise_name": row["enterprise_name"],
        "is_enterprise_install": row["is_enterprise_install"],
        "app_id": row["app_id"],
        "bot_user_id": row["bot_user_id"],
        "bot_id": row["bot_id"],
        "scopes": list(row["bot_scopes"]),
        "installer_user_id": row["installer_user_id"],
        "bot_token_expires_at": _iso(row["bot_token_expires_at"]),
        "refreshable": bool(row["refreshable"]),
        "version": row["version"],
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
    }


async def require_admin() -> None:
    """Authorisation hook for admin APIs: scope `admin` (everyone passes when auth is off)."""
    await authorize("admin")


async def json_body(model: type[M], *, optional: bool = False) -> M:
    raw = await request.get_data()
    if not raw.strip() and optional:
        return model.model_validate({})
    data = await request.get_json(force=True, silent=True)
    if data is None:
        raise validation_error("body", "must be a JSON object")
    return parse_body(model, data)


def if_match(kind: str) -> Precondition | None:
    return parse_if_match(request.headers.get("If-Match"), kind)


def conditional(payload: Any, etag: str, status: int = 200) -> Response:
    """Answer `payload` with its ETag, or an empty 304 when If-None-Match already has it."""
    if status == 200 and none_match(request.headers.get("If-None-Match"), etag):
        response = Response(b"", status=304)
        del response.headers["Content-Type"]
    else:
        response = jsonify(payload)
        response.status_code = status
    response.headers["ETag"] = etag
    return response


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def user_json(row: Row) -> dict[str, Any]:
    return {
        "team_id": row["team_id"],
        "slack_id": row["slack_id"],
        "is_admin": row["is_admin"],
        "version": row["version"],
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
    }


def user_etag(row: Row) -> str:
    return make_etag("u", row["id"], row["version"])


def fact_json(row: Row) -> dict[str, Any]:
    return {
        "key": row["key"],
        "value": row["value"],
        "version": row["version"],
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
    }


def fact_etag(row: Row) -> str:
    return make_etag("f", row["id"], row["version"])


def connection_json(row: Row) -> dict[str, Any]:
    """A connection as clients see it: never the token or its ciphertext."""
    return {
        "provider": row["provider"],
        "scopes": list(row["scopes"]),
        "expires_at": _iso(row["expires_at"]),
        "account": row["account"],
        "refreshable": bool(row["refreshable"]),
        "version": row["version"],
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
    }


def activity_json(row: Row) -> dict[str, Any]:
    return {
        "action": row["action"],
        "outcome": row["outcome"],
        "latency_ms": row["latency_ms"],
        "at": _iso(row["at"]),
    }


def page(items: list[dict[str, Any]], next_position: dict[str, Any] | None) -> dict[str, Any]:
    cursor = encode_cursor(next_position) if next_position is not None else None
    return {"items": items, "next_cursor": cursor}


def subscription_json(row: Row, *, with_user: bool = False) -> dict[str, Any]:
    """A daily alert subscription; `with_user`: also whose it is and their time zone."""
    out = {
        "action": row["action"],
        "time": row["at_time"],
        "channel": row["channel"],
        "updated_at": _iso(row["updated_at"]),
    }
    if with_user:
        out |= {"team_id": row["team_id"], "slack_id": row["slack_id"], "timezone": row["timezone"]}
    return out
